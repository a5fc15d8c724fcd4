// Container garbage collection wired to the runtime manager: the ContainerGCRuntime that
// @nodelet/container-gc works through (the kubelet's containerGC holds the manager itself, see
// pkg/kubelet/kuberuntime/kuberuntime_gc.go), so removals take the logs and the legacy symlink
// along (deleteContainer: log manager clean first, then RemoveContainer).
import { type ContainerGC, createContainerGC } from "@nodelet/container-gc";
import { PodSandboxState } from "@nodelet/cri-api";
import {
  type ContainerGCRuntime,
  ErrorCode,
  isNodeletError,
  type PodStateProvider,
} from "@nodelet/runtime-api";
import { deleteContainer, killContainer } from "./container-kill.js";
import { getContainerInfoFromLabels, LABEL_MANAGED_BY, MANAGED_BY_NODELET } from "./labels.js";
import type { RuntimeContext } from "./runtime-context.js";
import { toContainerState } from "./runtime-status.js";

/** Options of the manager's container GC (Runtime.garbageCollect). */
export interface ContainerGCSettings {
  /**
   * Which pods are gone (the kubelet's podStateProvider). Default: every pod is kept, so only the
   * count policy applies and no deleted pod's leftovers are removed.
   */
  podStateProvider?: PodStateProvider | undefined;
  /** The legacy `/var/log/containers` whose dangling `*.log` symlinks GC removes; default none. */
  legacyLogsDirectory?: string | undefined;
  /** Removals at once (default 2). */
  concurrency?: number | undefined;
  /** A pass starts no removal after this (default 50 s). */
  passTimeoutMs?: number | undefined;
  /**
   * Which sandboxes and containers are this manager's to collect, by their labels. Default: those
   * carrying nodelet's ownership label. Nothing else is removed, and a pod with anything not owned
   * (a real kubelet's on a shared runtime) keeps its log directory too.
   */
  owns?: ((labels: Readonly<Record<string, string>>) => boolean) | undefined;
}

/** The default of ContainerGCSettings.owns: created by nodelet (kuberuntime's ownership label). */
export const isManagedByNodelet = (labels: Readonly<Record<string, string>>): boolean =>
  labels[LABEL_MANAGED_BY] === MANAGED_BY_NODELET;

const keepEverything: PodStateProvider = {
  shouldPodContentBeRemoved: () => false,
  shouldPodRuntimeBeRemoved: () => false,
};

const gone = (err: unknown) => isNodeletError(err, ErrorCode.NotFound);

/** What an owned view of the runtime left out: the pods of the objects it skipped. */
interface SkippedPods {
  containers: Set<string>;
  sandboxes: Set<string>;
}

/**
 * The runtime side of container GC over the manager's CRI service. With `owns`, the lists hold
 * only the objects it accepts, and `skipped` collects the pod UIDs of the others (per list kind,
 * as of the last call).
 */
export function createContainerGCRuntime(
  ctx: RuntimeContext,
  owns?: (labels: Readonly<Record<string, string>>) => boolean,
  skipped?: SkippedPods,
): ContainerGCRuntime {
  const runtime = ctx.runtimeService;
  const keep = <T extends { labels: Record<string, string> }>(
    items: readonly T[],
    uidOf: (item: T) => string,
    into: Set<string> | undefined,
  ): T[] => {
    if (!owns) return [...items];
    into?.clear();
    return items.filter((item) => {
      if (owns(item.labels)) return true;
      into?.add(uidOf(item));
      return false;
    });
  };
  return {
    async listContainers() {
      const all = await runtime.listContainers();
      const owned = keep(all, (c) => getContainerInfoFromLabels(c.labels).podUid, skipped?.containers);
      return owned.map((c) => {
        const info = getContainerInfoFromLabels(c.labels);
        return {
          id: c.id,
          podUid: info.podUid,
          name: info.containerName,
          podSandboxId: c.podSandboxId,
          state: toContainerState(c.state),
          createdAtNs: c.createdAt,
        };
      });
    },
    async listSandboxes() {
      const all = await runtime.listPodSandbox();
      const owned = keep(all, (s) => s.metadata?.uid ?? "", skipped?.sandboxes);
      return owned.map((s) => ({
        id: s.id,
        podUid: s.metadata?.uid ?? "",
        ready: s.state === PodSandboxState.SANDBOX_READY,
        createdAtNs: s.createdAt,
      }));
    },
    async killContainer(container, message) {
      const id = { type: ctx.runtimeName, id: container.id };
      await killContainer(ctx, undefined, id, container.name, message, "Unknown");
    },
    removeContainer: (id) => deleteContainer(ctx, { type: ctx.runtimeName, id }),
    async removeSandbox(id) {
      // The kubelet's removeSandbox: no removal when the stop fails (the network may still be set up).
      try {
        await runtime.stopPodSandbox(id);
        await runtime.removePodSandbox(id);
      } catch (err) {
        if (!gone(err)) throw err;
      }
    },
    async containerState(id) {
      try {
        const status = (await runtime.containerStatus(id, false)).status;
        return status ? toContainerState(status.state) : undefined;
      } catch (err) {
        if (gone(err)) return undefined;
        throw err;
      }
    },
  };
}

/**
 * The collector behind Runtime.garbageCollect. It sees only the objects `settings.owns` accepts,
 * and never removes anything of a pod that has an object it does not own.
 */
export function createRuntimeContainerGC(
  ctx: RuntimeContext,
  settings: ContainerGCSettings = {},
): ContainerGC {
  const skipped: SkippedPods = { containers: new Set(), sandboxes: new Set() };
  const foreign = (uid: string) => skipped.containers.has(uid) || skipped.sandboxes.has(uid);
  const podState = settings.podStateProvider ?? keepEverything;
  return createContainerGC({
    runtime: createContainerGCRuntime(ctx, settings.owns ?? isManagedByNodelet, skipped),
    podState: {
      shouldPodContentBeRemoved: (uid) => !foreign(uid) && podState.shouldPodContentBeRemoved(uid),
      shouldPodRuntimeBeRemoved: (uid) => !foreign(uid) && podState.shouldPodRuntimeBeRemoved(uid),
    },
    podLogsDirectory: ctx.podLogsDirectory,
    legacyLogsDirectory: settings.legacyLogsDirectory,
    clock: ctx.clock,
    ...(ctx.options.logger ? { logger: ctx.options.logger } : {}),
    ...(ctx.options.registry ? { registry: ctx.options.registry } : {}),
    concurrency: settings.concurrency,
    passTimeoutMs: settings.passTimeoutMs,
  });
}
