// The agent's container garbage collection: the kubelet's podStateProvider answered from the pod
// workers and sources, the container GC loop (every ContainerGCPeriod, 1 min) calling
// Runtime.garbageCollect, then the pod directory cleanup of pods that are gone (pod-cleanup.ts).
// After an agent restart nothing is known of pods deleted while it was down: once every source has
// been read, their UIDs are unknown, so their leftovers go the same way.
import {
  containerGCMetrics,
  createFailureLog,
  DEFAULT_GC_POLICY,
  type GCMetrics,
} from "@nodelet/container-gc";
import { createImageGCManager } from "@nodelet/image-manager";
import {
  type ContainerGCSettings,
  isManagedByNodelet,
  type KubeGenericRuntimeManager,
  LABEL_MANAGED_BY,
} from "@nodelet/kuberuntime";
import type {
  Clock,
  GCPolicy,
  ImageManagerService,
  Logger,
  PodStateProvider,
  RuntimeService,
  V1PodStatus,
} from "@nodelet/runtime-api";
import type { Registry } from "prom-client";
import type { NodeletConfig } from "./config.js";
import type { PeriodicTasks } from "./periodic.js";
import { cleanupPodDirectories } from "./pod-cleanup.js";
import { podIsTerminal } from "./pod-status.js";

/** The kubelet's ContainerGCPeriod. */
export const CONTAINER_GC_PERIOD_MS = 60_000;
/** The kubelet's ImageGCPeriod. */
export const IMAGE_GC_PERIOD_MS = 5 * 60_000;

/** The flag-only GC settings (the kubelet's deprecated flags), as the config carries them. */
export interface ContainerGCConfig {
  /** --minimum-container-ttl-duration */
  minimumContainerTTLDurationMs?: number | undefined;
  /** --maximum-dead-containers-per-container */
  maximumDeadContainersPerContainer?: number | undefined;
  /** --maximum-dead-containers */
  maximumDeadContainers?: number | undefined;
}

/** The GC policy from the flags, the kubelet's defaults where unset. */
export function gcPolicyOf(config: ContainerGCConfig): GCPolicy {
  return {
    minAgeMs: config.minimumContainerTTLDurationMs ?? DEFAULT_GC_POLICY.minAgeMs,
    maxPerPodContainer: config.maximumDeadContainersPerContainer ?? DEFAULT_GC_POLICY.maxPerPodContainer,
    maxContainers: config.maximumDeadContainers ?? DEFAULT_GC_POLICY.maxContainers,
  };
}

export interface AgentPodStateDeps {
  /** The pod is one the agent holds (desired, or still being killed). */
  known(uid: string): boolean;
  /** A known pod that reached Succeeded or Failed. */
  terminal(uid: string): boolean;
  allSourcesReady(): boolean;
}

/**
 * The kubelet's pod workers' answers: a pod the agent holds keeps its content; one it does not
 * hold loses it, but only once every source has been read (before, it may just not be read yet).
 * Everything is keyed by UID, so a pod recreated with the same name is never taken for the old one.
 */
export function createAgentPodState(deps: AgentPodStateDeps): PodStateProvider {
  return {
    shouldPodContentBeRemoved: (uid) => !deps.known(uid) && deps.allSourcesReady(),
    shouldPodRuntimeBeRemoved: (uid) => (deps.known(uid) ? deps.terminal(uid) : deps.allSourcesReady()),
  };
}

export interface AgentContainerGCOptions extends AgentPodStateDeps {
  config: ContainerGCConfig & {
    rootDir: string;
    containerLogsDir?: string | undefined;
    adoptUnlabelledPods?: boolean | undefined;
  };
  logger: Logger;
  registry: Registry;
  /** Where mounts are read (tests); default /proc/self/mountinfo. */
  mountInfoPath?: string | undefined;
}

export interface AgentContainerGC {
  /** For createKubeGenericRuntimeManager's containerGC option. */
  readonly settings: ContainerGCSettings;
  readonly policy: GCPolicy;
  /** One pass: Runtime.garbageCollect, then the pod directories of pods that are gone. */
  run(runtime: Pick<KubeGenericRuntimeManager, "runContainerGC" | "containerGCRuntime">): Promise<void>;
}

export function createAgentContainerGC(options: AgentContainerGCOptions): AgentContainerGC {
  const { logger } = options;
  const podState = createAgentPodState(options);
  const policy = gcPolicyOf(options.config);
  const metrics: GCMetrics = containerGCMetrics(options.registry);
  const failures = createFailureLog(logger, metrics);
  return {
    settings: {
      podStateProvider: podState,
      ...(options.config.containerLogsDir ? { legacyLogsDirectory: options.config.containerLogsDir } : {}),
      // GC removes only what nodelet created; with adoptUnlabelledPods also an earlier nodelet's
      // unlabelled objects (see ownership.ts), never another owner's.
      ...(options.config.adoptUnlabelledPods === true
        ? {
            owns: (labels: Readonly<Record<string, string>>) =>
              labels[LABEL_MANAGED_BY] !== undefined ? isManagedByNodelet(labels) : true,
          }
        : {}),
    },
    policy,
    async run(runtime) {
      const allSourcesReady = options.allSourcesReady();
      const result = await runtime.runContainerGC(policy, allSourcesReady, false);
      const removed =
        result.removedContainers +
        result.removedSandboxes +
        result.removedLogDirectories +
        result.removedLegacySymlinks;
      if (removed > 0 || result.failures > 0) {
        logger.info({ ...result }, "container garbage collection");
      }
      if (!allSourcesReady) return;
      const [containers, sandboxes] = await Promise.all([
        runtime.containerGCRuntime.listContainers(),
        runtime.containerGCRuntime.listSandboxes(),
      ]);
      const cleanup = await cleanupPodDirectories({
        rootDir: options.config.rootDir,
        shouldRemove: (uid) => podState.shouldPodContentBeRemoved(uid),
        runtimeUids: new Set([...containers.map((c) => c.podUid), ...sandboxes.map((s) => s.podUid)]),
        logger,
        ...(options.mountInfoPath ? { mountInfoPath: options.mountInfoPath } : {}),
      });
      for (const uid of cleanup.removed) {
        metrics.removed.inc({ object: "pod_dir" });
        failures.succeeded("pod_dir", uid);
        logger.info({ uid }, "removed the pod directory of a pod that is gone");
      }
      for (const [uid, reason] of cleanup.kept) failures.failed("pod_dir", uid, new Error(reason));
    },
  };
}

export interface AgentGarbageCollectionOptions {
  config: NodeletConfig;
  logger: Logger;
  registry: Registry;
  clock: Clock;
  /** The agent's pods by UID, with their last status. */
  states: ReadonlyMap<string, { status?: V1PodStatus | undefined }>;
  /** The pod workers once started: a pod being killed is still known. */
  workers: () => { active(): string[] } | undefined;
  podConfig: () => { allSourcesReady(): boolean } | undefined;
  mountInfoPath?: string | undefined;
}

export interface GarbageCollectionLoops {
  every: PeriodicTasks["every"];
  runtime: KubeGenericRuntimeManager;
  imageService: ImageManagerService;
  runtimeService: RuntimeService;
  /** Test hooks (0 = never). */
  imageGCPeriodMs?: number | undefined;
  containerGCPeriodMs?: number | undefined;
}

export interface AgentGarbageCollection extends AgentContainerGC {
  /** Schedules container GC (every minute) and image GC (every 5 minutes), as the kubelet's loops. */
  start(loops: GarbageCollectionLoops): void;
}

/** The agent's garbage collection: its pod state, the container GC pass and both loops. */
export function createAgentGarbageCollection(options: AgentGarbageCollectionOptions): AgentGarbageCollection {
  const { config, states } = options;
  const containerGC = createAgentContainerGC({
    config,
    logger: options.logger,
    registry: options.registry,
    mountInfoPath: options.mountInfoPath,
    known: (uid) => states.has(uid) || (options.workers()?.active().includes(uid) ?? false),
    terminal: (uid) => {
      const status = states.get(uid)?.status;
      return status !== undefined && podIsTerminal(status);
    },
    allSourcesReady: () => options.podConfig()?.allSourcesReady() ?? false,
  });
  return {
    ...containerGC,
    start(loops) {
      const imageGC = createImageGCManager({
        images: loops.imageService,
        runtime: loops.runtimeService,
        policy: {
          highThresholdPercent: config.imageGCHighThresholdPercent,
          lowThresholdPercent: config.imageGCLowThresholdPercent,
          minAgeMs: config.imageMinimumGCAgeMs,
          maxAgeMs: config.imageMaximumGCAgeMs,
        },
        clock: options.clock,
        registry: options.registry,
        nodeName: config.nodeName,
      });
      loops.every(
        loops.containerGCPeriodMs ?? CONTAINER_GC_PERIOD_MS,
        () => containerGC.run(loops.runtime),
        "container garbage collection",
      );
      loops.every(
        loops.imageGCPeriodMs ?? IMAGE_GC_PERIOD_MS,
        async () => {
          await imageGC.detectImages();
          await imageGC.garbageCollect();
        },
        "image garbage collection",
      );
    },
  };
}
