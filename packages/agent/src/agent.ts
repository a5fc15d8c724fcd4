// The node agent: pod sources -> pod config -> pod workers -> kuberuntime.syncPod, with the PLEG,
// probes and periodic syncs waking the workers, and the HTTP API showing what happens.
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import { createKubeGenericRuntimeManager, type KubeGenericRuntimeManager } from "@nodelet/kuberuntime";
import { createProbeManager, createProber, type ProbeManager } from "@nodelet/lifecycle";
import {
  type Clock,
  type ContainerID,
  createBackoff,
  ErrorCode,
  errorMessage,
  type ImageManagerService,
  isNodeletError,
  KUBELET_BACKOFF,
  type PodStatus,
  podNamespace,
  podObjectReference,
  type RuntimeService,
  systemClock,
  type V1Pod,
  type V1PodStatus,
} from "@nodelet/runtime-api";
import { Registry } from "prom-client";
import { admitPod, rejectedPodStatus } from "./admission.js";
import type { NodeletConfig } from "./config.js";
import { type ConsoleRoutes, createConsoleRoutes } from "./console-routes.js";
import { type AgentLogs, createAgentLogs } from "./container-logs.js";
import { createEventedPleg, type EventedPleg } from "./evented-pleg.js";
import { createEventStore } from "./events.js";
import { createAgentGarbageCollection } from "./gc-loops.js";
import { createLoggingRecorder, type Logger } from "./logging.js";
import { type AgentMetrics, createAgentMetrics } from "./metrics.js";
import { requirePodSource } from "./node-config.js";
import { chooseNodeIPs, nodeHostNames } from "./node-ip.js";
import { orphanCandidates } from "./orphans.js";
import { createOrphanFilter, type OrphanFilter } from "./ownership.js";
import { createPeriodicTasks } from "./periodic.js";
import { createPleg, type Pleg } from "./pleg.js";
import { createPodCache, type PodCache } from "./pod-cache.js";
import { createPodConfig, type PodConfig } from "./pod-config.js";
import { type ContainerSyncError, generatePodStatus, podIsTerminal } from "./pod-status.js";
import { createPodWorkers, type PodUpdateType, type PodWorkers } from "./pod-workers.js";
import { probeStatuses, specOf } from "./probe-status.js";
import { createPullProgressTracker, withPullMessage } from "./pull-progress.js";
import { registerActiveResourcesGauge } from "./resource-metrics.js";
import { type AgentServer, type AgentView, createAgentServer } from "./server.js";
import { createManifestDirSource } from "./sources/manifest-dir.js";
import { createManifestUrlSource } from "./sources/manifest-url.js";
import type { PodSource } from "./sources/types.js";
import { podKey } from "./static-pod.js";
import { createAgentStreaming } from "./streaming-targets.js";
import { createSyncQueue, SYNC_LOOP_TICK_MS } from "./sync-queue.js";

/** The kubelet's housekeeping period: orphan cleanup and the like. */
const HOUSEKEEPING_MS = 2000;
/** A manifest that cannot be used and changed less than this ago is taken as half-written. */
const MANIFEST_WRITE_SETTLE_MS = 100;

export interface AgentOptions {
  config: NodeletConfig;
  logger: Logger;
  clock?: Clock;
  registry?: Registry;
  /** Test hook: run image GC this often instead of every 5 minutes (0 = never). */
  imageGCPeriodMs?: number;
  /** Test hook: run container GC this often instead of every minute (0 = never). */
  containerGCPeriodMs?: number;
}

export interface Agent {
  /** Connects to the runtime, starts the sources, loops and the HTTP API. Resolves with where it listens. */
  start(): Promise<{ address: string; port: number }>;
  /** Stops everything and leaves the pods running, as the kubelet does on exit. */
  stop(): Promise<void>;
  readonly view: AgentView;
}

interface PodState {
  pod: V1Pod;
  status: V1PodStatus | undefined;
  lastSyncErrors: Map<string, ContainerSyncError>;
  firstSeenAt: number;
  startObserved: boolean;
}

function podRef(pod: V1Pod): { pod: string } {
  return { pod: podKey(pod) };
}

export function createAgent(options: AgentOptions): Agent {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const registry = options.registry ?? new Registry();
  // Events are logged, kept for /events and /watch, and end a pull's progress message.
  const events = createEventStore({
    nodeName: config.nodeName,
    clock,
    next: createLoggingRecorder(logger, 500, clock),
  });
  const pullProgress = createPullProgressTracker(events);
  const recorder = pullProgress.recorder(events);
  const metrics: AgentMetrics = createAgentMetrics(registry);
  registerActiveResourcesGauge(registry);
  const backOff = createBackoff({ ...KUBELET_BACKOFF, clock });
  const states = new Map<string, PodState>();
  /**
   * UID → when this agent's last sync or kill of the pod ended. A relist that started before then
   * may not show what it did: the orphan cleanup skips such a pod, and the pod cache does not
   * take its absence from that relist as an empty status.
   */
  const actedAt = new Map<string, number>();
  // Container and image GC (gc-loops.ts); a pod is known by UID while a source has it or a worker kills it.
  const garbageCollection = createAgentGarbageCollection({
    config,
    logger,
    registry,
    clock,
    states,
    workers: () => workers,
    podConfig: () => podConfig,
  });
  /** status.hostIP(s) and the downward API's: --node-ip or the default route's address (node-ip.ts). */
  let hostIPs: string[] = [];
  const syncQueue = createSyncQueue({ resyncMs: config.syncFrequencyMs, clock });

  let runtimeService: RuntimeService | undefined;
  let imageService: ImageManagerService | undefined;
  let runtime: KubeGenericRuntimeManager | undefined;
  let probes: ProbeManager | undefined;
  let pleg: Pleg | undefined;
  let eventedPleg: EventedPleg | undefined;
  let podCache: PodCache | undefined;
  let podConfig: PodConfig | undefined;
  let workers: PodWorkers<V1Pod> | undefined;
  let server: AgentServer | undefined;
  let orphanFilter: OrphanFilter | undefined;
  let consoleRoutes: ConsoleRoutes | undefined;
  let logs: AgentLogs | undefined;
  // stop() waits for the periodic tasks in flight before closing the CRI clients.
  const periodic = createPeriodicTasks({ clock, logger });
  const every = periodic.every;
  let lastSyncLoopAt = clock.now();

  const needRuntime = (): KubeGenericRuntimeManager => {
    if (!runtime) throw new Error("the agent is not started");
    return runtime;
  };

  const uidOf = (pod: V1Pod) => pod.metadata.uid ?? "";

  /** The pod cache's status: read from the runtime only when `fresh` or the PLEG saw a change. */
  async function readStatus(pod: V1Pod, fresh = false): Promise<PodStatus> {
    if (!podCache) throw new Error("the agent is not started");
    const cache = podCache;
    const args = [uidOf(pod), pod.metadata.name ?? "", podNamespace(pod)] as const;
    return fresh ? cache.refresh(...args) : cache.get(...args);
  }

  async function syncPod(
    pod: V1Pod,
    type: Exclude<PodUpdateType, "kill">,
    signal?: AbortSignal,
  ): Promise<void> {
    const rt = needRuntime();
    const state = states.get(uidOf(pod));
    if (!state) return;
    // A pod that reached Succeeded or Failed is done: nothing restarts it (its spec cannot change
    // under the same UID), as the kubelet stops syncing terminal pods.
    if (state.status && podIsTerminal(state.status)) return;
    // At every sync (it only starts missing probe workers) rather than when the pod is added: a
    // pod re-added while being killed gets its probes back once the kill removed them.
    probes?.addPod(pod);
    const before = await readStatus(pod);
    if (signal?.aborted) return; // the agent is stopping: start nothing new
    let result: Awaited<ReturnType<typeof rt.syncPod>>;
    try {
      result = await rt.syncPod(pod, before, [], backOff);
    } finally {
      actedAt.set(uidOf(pod), clock.now());
    }
    // Retried in ~10 s after any error, resynced after syncFrequency otherwise (both jittered).
    syncQueue.done(uidOf(pod), result.syncError !== undefined || result.syncResults.some((s) => s.error));
    if (result.syncError) {
      logger.error({ ...podRef(pod), code: result.syncError.code }, result.syncError.message);
    }
    for (const step of result.syncResults) {
      if (step.action !== "StartContainer") continue;
      if (step.error) {
        state.lastSyncErrors.set(step.target, { reason: step.error, message: step.message });
        logger.warn({ ...podRef(pod), container: step.target, reason: step.error }, step.message);
      } else {
        state.lastSyncErrors.delete(step.target);
      }
    }
    // Nothing done, nothing changed: the status read before the sync is still the pod's.
    // (ConfigPodSandbox is in every sync's results, as the kubelet's; it changes nothing.)
    const acted = result.syncResults.some((s) => s.action !== "ConfigPodSandbox" || s.error);
    const after = acted || result.syncError ? await readStatus(pod, true) : before;
    probes?.updatePodStatus(pod, probeStatuses(pod, after));
    const status = generatePodStatus({
      pod,
      podStatus: after,
      previous: state.status,
      lastSyncErrors: state.lastSyncErrors,
      readiness: (id: ContainerID) => {
        const name = after.containerStatuses.find((c) => c.id.id === id.id)?.name;
        const spec = name ? specOf(pod, name) : undefined;
        return spec?.readinessProbe ? (probes?.isReady(id) ?? false) : true;
      },
      started: (id: ContainerID) => {
        const name = after.containerStatuses.find((c) => c.id.id === id.id)?.name;
        const spec = name ? specOf(pod, name) : undefined;
        return spec?.startupProbe ? (probes?.isStarted(id) ?? false) : undefined;
      },
      hostIPs,
      now: new Date(clock.now()),
    });
    state.status = status;
    consoleRoutes?.watch.podChanged(uidOf(pod));
    if (!state.startObserved && status.phase === "Running") {
      const allRunning = (status.containerStatuses ?? []).every((c) => c.state?.running);
      if (allRunning) {
        state.startObserved = true;
        metrics.podStartDuration.observe((clock.now() - state.firstSeenAt) / 1000);
      }
    }
    logger.debug({ ...podRef(pod), type, phase: status.phase }, "synced pod");
  }

  async function killPod(pod: V1Pod): Promise<void> {
    const rt = needRuntime();
    const uid = uidOf(pod);
    probes?.removePod(uid);
    const running = (await rt.getPods(false)).find((p) => p.id === uid);
    if (running) {
      logger.info(podRef(pod), "killing pod: its manifest is gone or changed");
      await rt.killPod(pod, running);
      actedAt.set(uid, clock.now());
    }
    // A pod re-added (same UID) while being killed keeps its new state: the pod workers create
    // it again now.
    if (podConfig?.pod(uid) === undefined) {
      states.delete(uid);
      syncQueue.forget(uid);
      podCache?.delete(uid);
      consoleRoutes?.watch.podChanged(uid);
    }
  }

  /** Runtime pods no source describes are killed once every source has been read, as the kubelet does. */
  async function cleanupOrphans(): Promise<void> {
    if (!podConfig?.allSourcesReady() || !pleg || !workers || !orphanFilter) return;
    const active = new Set(workers.active());
    const candidates = orphanCandidates({
      pods: pleg.pods(),
      listedAt: pleg.podsListedAt(),
      known: (uid) => states.has(uid) || active.has(uid),
      actedAt,
    });
    // Only pods nodelet created (its ownership label): a kubelet's pods on a shared runtime stay.
    for (const pod of await orphanFilter.killable(candidates)) {
      metrics.orphanedRuntimePods.inc();
      logger.info({ pod: `${pod.namespace}/${pod.name}`, uid: pod.id }, "killing a pod no source describes");
      await needRuntime().killPod(undefined, pod);
      actedAt.set(pod.id, clock.now());
    }
  }

  const view: AgentView = {
    pods: () =>
      [...states.values()].map((s) =>
        withPullMessage(
          { ...s.pod, ...(s.status ? { status: s.status } : {}) },
          pullProgress.message(uidOf(s.pod)),
        ),
      ),
    runningPods: () => needRuntime().getPods(false),
    healthChecks: () => {
      const checks = [{ name: "ping", ok: true, message: "" }];
      const plegHealth = pleg?.healthy() ?? { ok: false, message: "pleg is not running" };
      checks.push({ name: "pleg", ...plegHealth });
      const sinceSync = clock.now() - lastSyncLoopAt;
      const syncLimit = Math.max(2 * config.syncFrequencyMs, 3 * 60_000);
      checks.push({
        name: "syncloop",
        ok: sinceSync <= syncLimit,
        message: sinceSync <= syncLimit ? "" : `sync loop last ran ${Math.round(sinceSync / 1000)}s ago`,
      });
      return checks;
    },
    registry,
  };

  return {
    view,
    async start() {
      requirePodSource(config);
      hostIPs = chooseNodeIPs(config.nodeIPs);
      runtimeService = await createRemoteRuntimeService(config.containerRuntimeEndpoint, {
        requestTimeoutMs: config.runtimeRequestTimeoutMs,
      });
      imageService = await createRemoteImageService(config.containerRuntimeEndpoint, {
        requestTimeoutMs: config.runtimeRequestTimeoutMs,
      });
      orphanFilter = createOrphanFilter({
        runtimeService,
        logger,
        adoptUnlabelledPods: config.adoptUnlabelledPods === true,
      });
      const prober = createProber({
        commandRunner: {
          runInContainer: (id, cmd, timeout) => needRuntime().runInContainer(id, cmd, timeout),
        },
        podIPs: (pod) => states.get(uidOf(pod))?.status?.podIPs?.map((p) => p.ip) ?? [],
        eventRecorder: recorder,
        registry,
        clock,
      });
      probes = createProbeManager({
        prober,
        clock,
        startedAtMs: clock.now(),
        onResultChange: (change) => {
          const state = states.get(change.podUid);
          logger.debug(
            {
              ...(state ? podRef(state.pod) : {}),
              container: change.containerName,
              probe: change.type,
              result: change.result,
            },
            "probe result changed",
          );
          if (state) workers?.update(state.pod, "sync");
        },
      });
      logs = createAgentLogs({ config, runtimeService, clock, logger, registry });
      runtime = await createKubeGenericRuntimeManager({
        runtimeService,
        imageService,
        rootDirectory: config.rootDir,
        podLogsDirectory: config.podLogsDir,
        containerGC: garbageCollection.settings,
        logManager: logs.manager,
        nodeName: config.nodeName,
        probeResults: probes,
        eventRecorder: recorder,
        onPullProgress: pullProgress.onPullProgress,
        logger,
        registry,
        clock,
        cpuCFSQuota: config.cpuCFSQuota,
        cpuCFSQuotaPeriodUs: config.cpuCFSQuotaPeriodMs * 1000,
        seccompDefault: config.seccompDefault,
        nodeIPs: hostIPs,
        clusterDNS: config.clusterDNS,
        clusterDomain: config.clusterDomain,
        resolvConf: config.resolvConf,
        pullLimits: {
          serializeImagePulls: config.serializeImagePulls,
          ...(config.maxParallelImagePulls !== undefined
            ? { maxParallelImagePulls: config.maxParallelImagePulls }
            : {}),
          registryPullQPS: config.registryPullQPS,
          registryBurst: config.registryBurst,
        },
        ...(config.imageCredentialProviderConfig !== undefined
          ? { imageCredentialProviderConfigFile: config.imageCredentialProviderConfig }
          : {}),
        ...(config.imageCredentialProviderBinDir !== undefined
          ? { imageCredentialProviderBinDir: config.imageCredentialProviderBinDir }
          : {}),
      });
      podCache = createPodCache({
        runtime,
        clock,
        // A new pod: the last relist, if it started after anything this agent did to the pod and
        // had none of it, says the pod has nothing in the runtime yet (one status read less).
        absentSince: (uid) => {
          const listedAt = pleg?.podsListedAt();
          if (listedAt === undefined || (actedAt.get(uid) ?? Number.NEGATIVE_INFINITY) >= listedAt)
            return undefined;
          return pleg?.pods().some((p) => p.id === uid) ? undefined : listedAt;
        },
      });
      const versionInfo = await runtime.version();
      logger.info(
        {
          runtime: runtime.type(),
          version: versionInfo.toString(),
          endpoint: config.containerRuntimeEndpoint,
          node: config.nodeName,
        },
        "connected to the container runtime",
      );
      workers = createPodWorkers<V1Pod>({
        uidOf,
        clock,
        sync: syncPod,
        kill: killPod,
        onError: (pod, type, err) => {
          if (type !== "kill") syncQueue.done(uidOf(pod), true);
          const code = isNodeletError(err) ? err.code : ErrorCode.Unknown;
          logger.error(
            { ...podRef(pod), type, code, err: err instanceof Error ? err.message : String(err) },
            "pod worker failed; the next sync retries",
          );
        },
        onDone: (_pod, type, ms) => metrics.observePodWorker(type, ms / 1000),
      });

      // PLEG: every change the runtime shows wakes the pod's worker.
      pleg = createPleg({
        runtime,
        clock,
        onEvents: (events, pods) => {
          metrics.updateRunning(pods);
          const seenAt = clock.now();
          const changed = new Set(events.map((e) => e.id));
          const observed = new Map(pods.filter((p) => changed.has(p.id)).map((p) => [p.id, p]));
          for (const uid of changed) {
            const state = states.get(uid);
            if (!state) continue;
            podCache?.invalidate(uid, seenAt, observed.get(uid));
            workers?.update(state.pod, "sync");
          }
          for (const e of events)
            logger.debug({ uid: e.id, container: e.data, event: e.type }, "pod lifecycle event");
        },
        onRelist: (durationMs, intervalMs) => {
          metrics.plegRelistDuration.observe(durationMs / 1000);
          if (intervalMs > 0) metrics.plegRelistInterval.observe(intervalMs / 1000);
          metrics.plegLastSeen.set(clock.now() / 1000);
        },
        onError: (err) =>
          logger.error({ err: err instanceof Error ? err.message : String(err) }, "PLEG relist failed"),
      });
      await pleg.relist(); // adoption starts from what the runtime already runs
      const plegRef = pleg;
      eventedPleg = createEventedPleg({
        runtimeService,
        pleg: plegRef,
        clock,
        onModeChange: (mode, reason) => logger.info({ mode, reason }, "PLEG mode"),
        onStreamError: (err) => logger.debug({ err: errorMessage(err) }, "container event stream failed"),
      });

      const sources: PodSource[] = [];
      if (config.staticPodPath) {
        sources.push(
          createManifestDirSource({
            dir: config.staticPodPath,
            nodeName: config.nodeName,
            fileCheckFrequencyMs: config.fileCheckFrequencyMs,
            // The kubelet reacts to inotify at once, and so does nodelet: a burst seen while a read
            // runs gives one more read, and a file caught half-written waits to settle instead.
            debounceMs: 0,
            writeSettleMs: MANIFEST_WRITE_SETTLE_MS,
            clock,
            logger,
          }),
        );
      }
      if (config.staticPodURL) {
        sources.push(
          createManifestUrlSource({
            url: config.staticPodURL,
            nodeName: config.nodeName,
            httpCheckFrequencyMs: config.httpCheckFrequencyMs,
            clock,
            logger,
          }),
        );
      }
      podConfig = createPodConfig(sources, { logger });
      podConfig.onChange((change) => {
        for (const pod of change.removed) workers?.update(pod, "kill");
        for (const pod of change.added) {
          if (workers?.isKilling(uidOf(pod))) {
            metrics.restartedPods.inc({ static: "true" });
            logger.info(podRef(pod), "pod added again while being killed: it starts again once killed");
          }
          // Admission (maxPods) counts the pods admitted and not finished, this one aside.
          let active = 0;
          for (const [uid, s] of states)
            if (uid !== uidOf(pod) && !(s.status && podIsTerminal(s.status))) active++;
          const verdict = admitPod(active, config.maxPods);
          states.set(uidOf(pod), {
            pod,
            status: verdict.admit ? undefined : rejectedPodStatus(pod, verdict.reason, verdict.message),
            lastSyncErrors: new Map(),
            firstSeenAt: clock.now(),
            startObserved: false,
          });
          consoleRoutes?.watch.podChanged(uidOf(pod));
          if (!verdict.admit) {
            recorder.event(podObjectReference(pod), "Warning", verdict.reason, verdict.message);
            logger.warn({ ...podRef(pod), reason: verdict.reason }, verdict.message);
            continue;
          }
          logger.info(podRef(pod), "pod added");
          workers?.update(pod, "create");
        }
        for (const pod of change.updated) {
          const state = states.get(uidOf(pod));
          if (state) state.pod = pod;
          consoleRoutes?.watch.podChanged(uidOf(pod));
          workers?.update(pod, "update");
        }
        // Manifest problems are not logged here: each source (and the pod config, for
        // duplicates) logs a problem once when it appears, not again with every change.
        metrics.desiredPods.set({ static: "true" }, states.size);
      });
      pleg.start();
      eventedPleg.start();

      every(
        SYNC_LOOP_TICK_MS,
        () => {
          lastSyncLoopAt = clock.now();
          for (const uid of syncQueue.due()) {
            const state = states.get(uid);
            if (state) workers?.update(state.pod, "sync");
          }
        },
        "periodic sync",
      );
      every(HOUSEKEEPING_MS, cleanupOrphans, "housekeeping");
      garbageCollection.start({
        every,
        runtime,
        imageService,
        runtimeService,
        imageGCPeriodMs: options.imageGCPeriodMs,
        containerGCPeriodMs: options.containerGCPeriodMs,
      });

      const rt = runtime;
      consoleRoutes = createConsoleRoutes({
        events,
        pods: view.pods,
        registry,
        nodeFacts: async () => {
          const [version, apiVersion, list] = await Promise.all([
            rt.version(),
            rt.apiVersion(),
            rt.listImages(),
          ]);
          return {
            nodeName: config.nodeName,
            runtime: { name: rt.type(), version: version.toString(), apiVersion: apiVersion.toString() },
            images: list.map((i) => ({
              id: i.id,
              tags: i.repoTags,
              sizeBytes: Number(i.size),
              pinned: i.pinned,
            })),
            health: view.healthChecks(),
          };
        },
      });
      server = createAgentServer({
        console: consoleRoutes,
        streaming: createAgentStreaming({ pods: () => view.pods(), runtime: rt, logger }),
        containerLogs: logs?.route(view.pods, rt),
        address: config.address,
        port: config.port,
        ...(config.tlsCertFile && config.tlsPrivateKeyFile
          ? { tls: { certFile: config.tlsCertFile, keyFile: config.tlsPrivateKeyFile } }
          : {}),
        ...(config.authenticationTokenFile ? { tokenFile: config.authenticationTokenFile } : {}),
        nodeHosts: nodeHostNames(config.nodeName, hostIPs),
        view,
        logger,
      });
      // Listening before the sources start: a bad port or certificate fails the start before any
      // pod is touched.
      const bound = await server.listen();
      podConfig.start();
      return bound;
    },
    async stop() {
      await periodic.stop();
      await podConfig?.stop();
      await eventedPleg?.stop();
      await pleg?.stop();
      await workers?.stop();
      await probes?.stop();
      await logs?.manager.stop();
      consoleRoutes?.close();
      await server?.close();
      runtimeService?.close();
      imageService?.close();
      logger.info("stopped; pods keep running");
    },
  };
}
