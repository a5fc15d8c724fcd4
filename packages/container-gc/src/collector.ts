// createContainerGC: the kubelet's containerGC (pkg/kubelet/kuberuntime/kuberuntime_gc.go) over
// runtime-api's ContainerGCRuntime and PodStateProvider. A pass removes dead containers, then
// sandboxes left without containers, then pod log directories and dangling legacy log symlinks.
// Every removal failure is counted and logged (once per object while it lasts) and the pass goes
// on; what is not done by the pass deadline is left for the next pass.
import { join } from "node:path";
import {
  type Clock,
  type ContainerGCRuntime,
  type GCContainer,
  type GCPolicy,
  type Logger,
  noopLogger,
  type PodStateProvider,
  systemClock,
} from "@nodelet/runtime-api";
import pLimit from "p-limit";
import type { Registry } from "prom-client";
import { evictableContainers, selectContainers, selectSandboxes } from "./evict.js";
import { createFailureLog, type FailureLog } from "./failures.js";
import {
  containerIdFromLegacySymlink,
  isDanglingSymlink,
  listDirectory,
  podUidFromLogDirectory,
  removeTree,
} from "./log-dirs.js";
import { containerGCMetrics, type GCMetrics, type GCObject } from "./metrics.js";
import { validateGCPolicy } from "./policy.js";

export interface ContainerGCOptions {
  runtime: ContainerGCRuntime;
  podState: PodStateProvider;
  /** The kubelet's podLogsDirectory (/var/log/pods): `<namespace>_<name>_<uid>` directories. */
  podLogsDirectory: string;
  /** The legacy `/var/log/containers` of `*.log` symlinks; undefined = none to collect. */
  legacyLogsDirectory?: string | undefined;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
  registry?: Registry | undefined;
  /** Removals in flight at once (default 2, so that a large pass leaves the runtime to pod workers). */
  concurrency?: number | undefined;
  /** A pass starts no removal after this long (default 50 s, under the 1-minute period). */
  passTimeoutMs?: number | undefined;
}

export interface GCPassResult {
  removedContainers: number;
  removedSandboxes: number;
  removedLogDirectories: number;
  removedLegacySymlinks: number;
  failures: number;
  /** The deadline came before every removal was started: the rest waits for the next pass. */
  timedOut: boolean;
  durationMs: number;
}

export interface ContainerGC {
  /**
   * One pass. Deleted pods' leftovers (and log directories) go only when `allSourcesReady`;
   * `evictNonDeletedPods` also removes terminated pods' containers. A call while a pass runs gets
   * that pass's result. Rejects only for a bad policy (InvalidConfig) or when listing fails.
   */
  garbageCollect(
    policy: GCPolicy,
    allSourcesReady: boolean,
    evictNonDeletedPods: boolean,
  ): Promise<GCPassResult>;
  /** Objects whose removal failed and is still pending, as "object/id". */
  failing(): string[];
}

export function createContainerGC(options: ContainerGCOptions): ContainerGC {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const metrics: GCMetrics | undefined = options.registry ? containerGCMetrics(options.registry) : undefined;
  const failures: FailureLog = createFailureLog(logger, metrics);
  const limit = pLimit(Math.max(1, options.concurrency ?? 2));
  const passTimeoutMs = options.passTimeoutMs ?? 50_000;
  let running: Promise<GCPassResult> | undefined;

  async function pass(policy: GCPolicy, allSourcesReady: boolean, evictNonDeletedPods: boolean) {
    const started = clock.now();
    const deadline = started + passTimeoutMs;
    const result: GCPassResult = {
      removedContainers: 0,
      removedSandboxes: 0,
      removedLogDirectories: 0,
      removedLegacySymlinks: 0,
      failures: 0,
      timedOut: false,
      durationMs: 0,
    };
    const { runtime, podState } = options;
    const removeAll = (uid: string) =>
      podState.shouldPodContentBeRemoved(uid) ||
      (evictNonDeletedPods && podState.shouldPodRuntimeBeRemoved(uid));

    /** Runs the removals with bounded concurrency; none starts after the deadline. */
    const removeEach = async <T>(
      items: readonly T[],
      object: GCObject,
      idOf: (item: T) => string,
      remove: (item: T) => Promise<void>,
      fields: (item: T) => object = () => ({}),
    ): Promise<number> => {
      let removed = 0;
      await Promise.all(
        items.map((item) =>
          limit(async () => {
            if (clock.now() > deadline) {
              result.timedOut = true;
              return;
            }
            const id = idOf(item);
            try {
              await remove(item);
              removed++;
              metrics?.removed.inc({ object });
              failures.succeeded(object, id);
            } catch (err) {
              result.failures++;
              failures.failed(object, id, err, fields(item));
            }
          }),
        ),
      );
      return removed;
    };

    // 1. Containers.
    const containers = await runtime.listContainers();
    failures.retain("container", new Set(containers.map((c) => c.id)));
    const units = evictableContainers(containers, policy.minAgeMs, clock.now());
    const { remove } = selectContainers(units, policy, allSourcesReady, removeAll);
    result.removedContainers = await removeEach(
      remove,
      "container",
      (c) => c.id,
      async (c: GCContainer) => {
        if (c.state === "unknown") {
          // It could be running: stop it first, and leave it when that fails (the kubelet's rule).
          await runtime.killContainer(c, "Container is in unknown state, try killing it before removal");
        }
        await runtime.removeContainer(c.id);
      },
      (c) => ({ podUid: c.podUid, container: c.name }),
    );

    // 2. Sandboxes, against the containers that are left.
    const [remaining, sandboxes] = await Promise.all([runtime.listContainers(), runtime.listSandboxes()]);
    failures.retain("sandbox", new Set(sandboxes.map((s) => s.id)));
    result.removedSandboxes = await removeEach(
      selectSandboxes(sandboxes, remaining, allSourcesReady, removeAll),
      "sandbox",
      (s) => s.id,
      (s) => runtime.removeSandbox(s.id),
      (s) => ({ podUid: s.podUid }),
    );

    // 3. Log directories of pods whose content goes, once none of their containers remain (a
    // container whose removal failed keeps its logs for the retry).
    if (allSourcesReady) {
      const withContainers = new Set(remaining.map((c) => c.podUid));
      const dirs = (await listDirectory(options.podLogsDirectory)).filter((name) => {
        const uid = podUidFromLogDirectory(name);
        return uid !== "" && !withContainers.has(uid) && podState.shouldPodContentBeRemoved(uid);
      });
      failures.retain("pod_log_dir", new Set(dirs));
      result.removedLogDirectories = await removeEach(
        dirs,
        "pod_log_dir",
        (d) => d,
        (d) => removeTree(join(options.podLogsDirectory, d)),
      );
    }

    // 4. Dangling legacy symlinks, unless their container has not exited yet (the log file may be
    // between rotations).
    const legacy = options.legacyLogsDirectory;
    if (legacy !== undefined) {
      const links: string[] = [];
      for (const name of await listDirectory(legacy)) {
        if (!name.endsWith(".log")) continue;
        try {
          if (!(await isDanglingSymlink(join(legacy, name)))) continue;
          const id = containerIdFromLegacySymlink(name);
          const state = id === undefined ? undefined : await runtime.containerState(id);
          if (state === undefined || state === "exited") links.push(name);
        } catch (err) {
          result.failures++;
          failures.failed("legacy_log_symlink", name, err);
        }
      }
      result.removedLegacySymlinks = await removeEach(
        links,
        "legacy_log_symlink",
        (n) => n,
        (n) => removeTree(join(legacy, n)),
      );
    }

    result.durationMs = clock.now() - started;
    metrics?.duration.observe(result.durationMs / 1000);
    if (result.timedOut) {
      logger.info(
        { passTimeoutMs, durationMs: result.durationMs },
        "container garbage collection reached its deadline; the next pass goes on",
      );
    }
    return result;
  }

  return {
    garbageCollect(policy, allSourcesReady, evictNonDeletedPods) {
      if (running) return running;
      let checked: GCPolicy;
      try {
        checked = validateGCPolicy(policy);
      } catch (err) {
        return Promise.reject(err);
      }
      running = pass(checked, allSourcesReady, evictNonDeletedPods).finally(() => {
        running = undefined;
      });
      return running;
    },
    failing: () => failures.failing(),
  };
}
