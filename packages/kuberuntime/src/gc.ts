// Container garbage collection wired to the runtime manager: the ContainerGCRuntime that
// @nodelet/container-gc works through (the kubelet's containerGC holds the manager itself, see
// pkg/kubelet/kuberuntime/kuberuntime_gc.go), so removals take the logs and the legacy symlink
// along (deleteContainer: log manager clean first, then RemoveContainer).
import { type ContainerGC, createContainerGC } from "@nodelet/container-gc";
import { ContainerState, PodSandboxState } from "@nodelet/cri-api";
import {
  type ContainerGCRuntime,
  ErrorCode,
  type GCContainer,
  isNodeletError,
  type PodStateProvider,
} from "@nodelet/runtime-api";
import { deleteContainer, killContainer } from "./container-kill.js";
import { getContainerInfoFromLabels } from "./labels.js";
import type { RuntimeContext } from "./runtime-context.js";

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
}

const keepEverything: PodStateProvider = {
  shouldPodContentBeRemoved: () => false,
  shouldPodRuntimeBeRemoved: () => false,
};

function containerState(state: ContainerState): GCContainer["state"] {
  switch (state) {
    case ContainerState.CONTAINER_CREATED:
      return "created";
    case ContainerState.CONTAINER_RUNNING:
      return "running";
    case ContainerState.CONTAINER_EXITED:
      return "exited";
    default:
      return "unknown";
  }
}

const gone = (err: unknown) => isNodeletError(err, ErrorCode.NotFound);

/** The runtime side of container GC over the manager's CRI service. */
export function createContainerGCRuntime(ctx: RuntimeContext): ContainerGCRuntime {
  const runtime = ctx.runtimeService;
  return {
    async listContainers() {
      return (await runtime.listContainers()).map((c) => {
        const info = getContainerInfoFromLabels(c.labels);
        return {
          id: c.id,
          podUid: info.podUid,
          name: info.containerName,
          podSandboxId: c.podSandboxId,
          state: containerState(c.state),
          createdAtNs: c.createdAt,
        };
      });
    },
    async listSandboxes() {
      return (await runtime.listPodSandbox()).map((s) => ({
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
        return status ? containerState(status.state) : undefined;
      } catch (err) {
        if (gone(err)) return undefined;
        throw err;
      }
    },
  };
}

/** The collector behind Runtime.garbageCollect. */
export function createRuntimeContainerGC(
  ctx: RuntimeContext,
  gcRuntime: ContainerGCRuntime,
  settings: ContainerGCSettings = {},
): ContainerGC {
  return createContainerGC({
    runtime: gcRuntime,
    podState: settings.podStateProvider ?? keepEverything,
    podLogsDirectory: ctx.podLogsDirectory,
    legacyLogsDirectory: settings.legacyLogsDirectory,
    clock: ctx.clock,
    ...(ctx.options.logger ? { logger: ctx.options.logger } : {}),
    ...(ctx.options.registry ? { registry: ctx.options.registry } : {}),
    concurrency: settings.concurrency,
    passTimeoutMs: settings.passTimeoutMs,
  });
}
