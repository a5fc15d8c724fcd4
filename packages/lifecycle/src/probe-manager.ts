import {
  type Clock,
  type ContainerID,
  formatContainerID,
  isRestartableInitContainer,
  type ProbeResult,
  type ProbeResults,
  shouldRestartOnFailure,
  systemClock,
  type Timer,
  type V1Container,
  type V1Pod,
  type V1Probe,
} from "@nodelet/runtime-api";
import { type Prober, type ProbeType, probeSetting, probeSpecFor } from "./prober.js";

export type ContainerRunState = "running" | "waiting" | "terminated";

/** What the agent knows of one container of the pod, at each sync. */
export interface ContainerProbeStatus {
  /** The container's name in the pod spec (containers or initContainers). */
  name: string;
  /** The current container, when one was created. Without one the container is not probed. */
  containerId?: ContainerID | undefined;
  state: ContainerRunState;
  /** When the running container started (ms since the epoch): initialDelaySeconds counts from here. */
  startedAtMs?: number | undefined;
  /**
   * The container has terminated and will not be started again. When unset it is computed as the
   * kubelet does: a sidecar (init container with restartPolicy Always) restarts, otherwise only
   * `restartPolicy: Never` keeps a terminated container down.
   */
  restartPolicyTerminal?: boolean | undefined;
}

/** A published result changed (or was first set for a new container). */
export interface ProbeResultChange {
  type: ProbeType;
  podUid: string;
  containerName: string;
  containerId: ContainerID;
  result: ProbeResult;
}

export interface ProbeManagerOptions {
  prober: Prober;
  /** Time and the probe timers; default the system clock. A manual clock tests the manager without sleeping. */
  clock?: Clock | undefined;
  /** Called when a published result changes: the agent syncs the pod (a liveness Failure kills the container). */
  onResultChange?: ((event: ProbeResultChange) => void) | undefined;
  /**
   * When the agent started (ms since the epoch); default: when the manager was created. Workers
   * created less than one period after it wait a random part of a period before their first probe.
   */
  startedAtMs?: number | undefined;
  /** In [0, 1): the random part of the first delay. Default Math.random. */
  random?: (() => number) | undefined;
}

/**
 * The kubelet's prober manager (pkg/kubelet/prober/prober_manager.go and worker.go). Its liveness
 * and startup answers satisfy runtime-api's ProbeResults, for kuberuntime's computePodActions.
 */
export interface ProbeManager extends ProbeResults {
  /** Starts a worker per (container, probe type) of the pod, sidecars included; existing ones are kept. */
  addPod(pod: V1Pod): void;
  /** Stops the pod's workers and forgets the pod. Their results are dropped. */
  removePod(podUid: string): void;
  /**
   * What the agent knows of the pod and its containers, at every sync. The pod's deletionTimestamp
   * and status.phase are read from `pod`. A started container that is not ready yet gets a
   * readiness probe at once (the kubelet's manual trigger).
   */
  updatePodStatus(pod: V1Pod, containerStatuses: readonly ContainerProbeStatus[]): void;
  /** The published readiness result of the container; undefined when it has no readiness worker or no result yet. */
  readiness(containerId: ContainerID): ProbeResult | undefined;
  liveness(containerId: ContainerID): ProbeResult | undefined;
  startup(containerId: ContainerID): ProbeResult | undefined;
  /** Running, and its startup probe succeeded or it has none (the kubelet's ContainerStatus.Started). */
  isStarted(containerId: ContainerID): boolean;
  /** Started, and its readiness probe succeeded or it has none (the kubelet's ContainerStatus.Ready). */
  isReady(containerId: ContainerID): boolean;
  /** Stops every worker and resolves once none is probing any more. Later addPod calls do nothing. */
  stop(): Promise<void>;
}

const initialValues: Record<ProbeType, ProbeResult> = {
  readiness: "Failure",
  liveness: "Success",
  startup: "Unknown",
};

interface PodState {
  pod: V1Pod;
  statuses: ContainerProbeStatus[] | undefined;
}

interface Worker {
  key: string;
  podUid: string;
  /** The pod as added: its name, namespace and uid label the worker's metrics. */
  pod: V1Pod;
  container: V1Container;
  type: ProbeType;
  spec: V1Probe;
  periodMs: number;
  containerId: ContainerID | undefined;
  containerKey: string | undefined;
  lastResult: ProbeResult | undefined;
  resultRun: number;
  onHold: boolean;
  stopped: boolean;
  triggered: boolean;
  ticked: boolean;
  tickAt: number;
  tickTimer: Timer | undefined;
  wake: (() => void) | undefined;
  abort: AbortController;
  done: Promise<void>;
}

function workerKey(podUid: string, containerName: string, type: ProbeType): string {
  return `${podUid}\u0000${containerName}\u0000${type}`;
}

/** Containers with probes: the app containers and the sidecars (restartable init containers). */
function probedContainers(pod: V1Pod): V1Container[] {
  const sidecars = (pod.spec?.initContainers ?? []).filter(isRestartableInitContainer);
  return [...(pod.spec?.containers ?? []), ...sidecars];
}

/** Creates the probe manager. Workers run on the clock's timers until removePod or stop. */
export function createProbeManager(options: ProbeManagerOptions): ProbeManager {
  const { prober, onResultChange } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const startedAtMs = options.startedAtMs ?? clock.now();

  const pods = new Map<string, PodState>();
  const workers = new Map<string, Worker>();
  /** containerKey -> where its status is, for the lookups by container ID. */
  const containers = new Map<string, { podUid: string; status: ContainerProbeStatus }>();
  const results: Record<ProbeType, Map<string, ProbeResult>> = {
    readiness: new Map(),
    liveness: new Map(),
    startup: new Map(),
  };
  let stopped = false;

  function publish(w: Worker, result: ProbeResult): void {
    if (w.containerKey === undefined || w.containerId === undefined) return;
    const map = results[w.type];
    if (map.get(w.containerKey) === result) return;
    map.set(w.containerKey, result);
    try {
      onResultChange?.({
        type: w.type,
        podUid: w.podUid,
        containerName: w.container.name,
        containerId: w.containerId,
        result,
      });
    } catch {
      // A listener's failure must not stop the probing.
    }
  }

  /** The kubelet's isContainerStarted. */
  function started(podUid: string, status: ContainerProbeStatus): boolean {
    if (status.state !== "running" || status.containerId === undefined) return false;
    const result = results.startup.get(formatContainerID(status.containerId));
    if (result !== undefined) return result === "Success";
    return !workers.has(workerKey(podUid, status.name, "startup"));
  }

  function wake(w: Worker): void {
    const resume = w.wake;
    w.wake = undefined;
    resume?.();
  }

  function sleepUntilWoken(w: Worker): Promise<void> {
    return new Promise<void>((resolve) => {
      w.wake = resolve;
    });
  }

  function scheduleTick(w: Worker): void {
    w.tickTimer = clock.setTimeout(
      () => {
        w.tickTimer = undefined;
        if (w.stopped) return;
        const now = clock.now();
        if (now >= w.tickAt) {
          w.ticked = true;
          // A Go ticker drops the ticks a slow receiver missed.
          w.tickAt += w.periodMs;
          if (w.tickAt <= now) w.tickAt = now + w.periodMs;
          wake(w);
        }
        scheduleTick(w);
      },
      Math.max(0, w.tickAt - clock.now()),
    );
  }

  function resetTicker(w: Worker): void {
    w.tickTimer?.cancel();
    w.ticked = false;
    w.tickAt = clock.now() + w.periodMs;
    scheduleTick(w);
  }

  async function initialSleep(w: Worker, ms: number): Promise<void> {
    const until = clock.now() + ms;
    while (!w.stopped && clock.now() < until) {
      const timer = clock.setTimeout(() => wake(w), until - clock.now());
      await sleepUntilWoken(w);
      timer.cancel();
    }
  }

  /** Waits for the next tick, a manual trigger or stop. */
  async function next(w: Worker): Promise<"stop" | "tick" | "trigger"> {
    for (;;) {
      if (w.stopped) return "stop";
      if (w.triggered) {
        w.triggered = false;
        return "trigger";
      }
      if (w.ticked) {
        w.ticked = false;
        return "tick";
      }
      await sleepUntilWoken(w);
    }
  }

  function willNotRestart(pod: V1Pod, w: Worker, status: ContainerProbeStatus): boolean {
    if (status.restartPolicyTerminal !== undefined) return status.restartPolicyTerminal;
    // Only init containers can be restartable, so the worker's own container tells a sidecar.
    if (isRestartableInitContainer(w.container)) return false;
    return !shouldRestartOnFailure(pod);
  }

  /** worker.go's doProbe: probes once if it should, publishes; false when the worker should exit. */
  async function doProbe(w: Worker): Promise<boolean> {
    const state = pods.get(w.podUid);
    if (!state?.statuses) return true; // no status yet
    const pod = state.pod;
    const phase = pod.status?.phase;
    if (phase === "Failed" || phase === "Succeeded") return false;
    const status = state.statuses.find((s) => s.name === w.container.name && s.containerId !== undefined);
    if (status?.containerId === undefined) return true; // not created yet, or deleted
    const key = formatContainerID(status.containerId);
    if (w.containerKey !== key) {
      if (w.containerKey !== undefined) results[w.type].delete(w.containerKey);
      w.containerKey = key;
      w.containerId = status.containerId;
      publish(w, initialValues[w.type]);
      w.onHold = false; // a new container: probing resumes
    }
    if (w.onHold) return true;

    if (status.state !== "running") {
      publish(w, "Failure");
      return status.state !== "terminated" || !willNotRestart(pod, w, status);
    }

    if (pod.metadata?.deletionTimestamp && (w.type === "liveness" || w.type === "startup")) {
      publish(w, "Success"); // a quiet shutdown
      return false;
    }

    const initialDelaySeconds = w.spec.initialDelaySeconds ?? 0;
    const startedAt = status.startedAtMs ?? clock.now();
    if (Math.trunc((clock.now() - startedAt) / 1000) < initialDelaySeconds) return true;

    if (started(w.podUid, status)) {
      if (w.type === "startup") return true; // started: startup probing is done
    } else if (w.type !== "startup") {
      return true; // liveness and readiness wait for the container to start
    }

    let outcome: Awaited<ReturnType<Prober["probe"]>>;
    try {
      outcome = await prober.probe(w.type, pod, { containerId: status.containerId }, w.container, {
        signal: w.abort.signal,
      });
    } catch {
      return true; // cancelled by stop, or a broken prober: no result
    }
    if (w.stopped) return false;
    if (outcome.error !== undefined) return true; // a probe error is thrown away
    const result = outcome.result;
    if (w.lastResult === result) {
      w.resultRun++;
    } else {
      w.lastResult = result;
      w.resultRun = 1;
    }
    if (
      (result === "Failure" && w.resultRun < probeSetting(w.spec, "failureThreshold")) ||
      (result === "Success" && w.resultRun < probeSetting(w.spec, "successThreshold"))
    ) {
      return true; // below the threshold: the published result stays
    }
    publish(w, result);
    if ((w.type === "liveness" && result === "Failure") || w.type === "startup") {
      // The container will be restarted (or has started): hold until a new container ID.
      w.onHold = true;
      w.resultRun = 0;
    }
    return true;
  }

  async function run(w: Worker): Promise<void> {
    try {
      // After an agent restart, spread the first probes over a period.
      if (w.periodMs > clock.now() - startedAtMs) await initialSleep(w, random() * w.periodMs);
      if (w.stopped) return;
      resetTicker(w);
      for (;;) {
        let keepGoing: boolean;
        try {
          keepGoing = await doProbe(w);
        } catch {
          keepGoing = true;
        }
        if (!keepGoing) break;
        const event = await next(w);
        if (event === "stop") break;
        if (event === "trigger") resetTicker(w); // the period restarts from a manual run
      }
    } finally {
      w.stopped = true;
      w.tickTimer?.cancel();
      w.tickTimer = undefined;
      if (w.containerKey !== undefined) results[w.type].delete(w.containerKey);
      if (workers.get(w.key) === w) workers.delete(w.key);
      prober.forgetMetrics?.(w.type, w.pod, w.container.name);
    }
  }

  function startWorker(pod: V1Pod, container: V1Container, type: ProbeType, spec: V1Probe): void {
    const podUid = pod.metadata?.uid ?? "";
    const w: Worker = {
      key: workerKey(podUid, container.name, type),
      podUid,
      pod,
      container,
      type,
      spec,
      periodMs: probeSetting(spec, "periodSeconds") * 1000,
      containerId: undefined,
      containerKey: undefined,
      lastResult: undefined,
      resultRun: 0,
      onHold: false,
      stopped: false,
      triggered: false,
      ticked: false,
      tickAt: 0,
      tickTimer: undefined,
      wake: undefined,
      abort: new AbortController(),
      done: Promise.resolve(),
    };
    workers.set(w.key, w);
    w.done = run(w);
  }

  function stopWorker(w: Worker): void {
    if (w.stopped) return;
    w.stopped = true;
    w.abort.abort(new Error("probe worker stopped"));
    wake(w);
  }

  function trigger(podUid: string, containerName: string, type: ProbeType): void {
    const w = workers.get(workerKey(podUid, containerName, type));
    if (!w || w.stopped) return;
    w.triggered = true;
    wake(w);
  }

  function lookup(type: ProbeType, containerId: ContainerID): ProbeResult | undefined {
    return results[type].get(formatContainerID(containerId));
  }

  return {
    addPod(pod) {
      if (stopped) return;
      const podUid = pod.metadata?.uid ?? "";
      const state = pods.get(podUid);
      if (state) state.pod = pod;
      else pods.set(podUid, { pod, statuses: undefined });
      for (const container of probedContainers(pod)) {
        for (const type of ["startup", "readiness", "liveness"] as const) {
          const spec = probeSpecFor(container, type);
          if (spec && !workers.has(workerKey(podUid, container.name, type))) {
            startWorker(pod, container, type, spec);
          }
        }
      }
    },

    removePod(podUid) {
      for (const w of [...workers.values()]) if (w.podUid === podUid) stopWorker(w);
      pods.delete(podUid);
      for (const [key, entry] of containers) if (entry.podUid === podUid) containers.delete(key);
    },

    updatePodStatus(pod, containerStatuses) {
      const podUid = pod.metadata?.uid ?? "";
      const state = pods.get(podUid) ?? { pod, statuses: undefined };
      state.pod = pod;
      pods.set(podUid, state);
      for (const [key, entry] of containers) if (entry.podUid === podUid) containers.delete(key);
      const previous = new Map(
        (state.statuses ?? [])
          .filter((s) => s.containerId !== undefined)
          .map((s) => [formatContainerID(s.containerId as ContainerID), s] as const),
      );
      const statuses = containerStatuses.map((s): ContainerProbeStatus => {
        if (s.state !== "running" || s.startedAtMs !== undefined || s.containerId === undefined)
          return { ...s };
        // No start time given: count the initial delay from when the container was first seen running.
        const before = previous.get(formatContainerID(s.containerId));
        return { ...s, startedAtMs: before?.startedAtMs ?? clock.now() };
      });
      state.statuses = statuses;
      for (const s of statuses) {
        if (s.containerId !== undefined)
          containers.set(formatContainerID(s.containerId), { podUid, status: s });
      }
      for (const s of statuses) {
        if (s.state !== "running" || s.containerId === undefined || !started(podUid, s)) continue;
        if (results.readiness.get(formatContainerID(s.containerId)) !== "Success") {
          trigger(podUid, s.name, "readiness");
        }
      }
      if (pod.metadata?.deletionTimestamp) {
        // Liveness and startup publish Success and exit now, not a period later.
        for (const s of statuses) {
          trigger(podUid, s.name, "liveness");
          trigger(podUid, s.name, "startup");
        }
      }
    },

    readiness: (containerId) => lookup("readiness", containerId),
    liveness: (containerId) => lookup("liveness", containerId),
    startup: (containerId) => lookup("startup", containerId),

    isStarted(containerId) {
      const entry = containers.get(formatContainerID(containerId));
      return entry !== undefined && started(entry.podUid, entry.status);
    },

    isReady(containerId) {
      const entry = containers.get(formatContainerID(containerId));
      if (!entry || !started(entry.podUid, entry.status)) return false;
      if (lookup("readiness", containerId) === "Success") return true;
      return !workers.has(workerKey(entry.podUid, entry.status.name, "readiness"));
    },

    async stop() {
      stopped = true;
      const all = [...workers.values()];
      for (const w of all) stopWorker(w);
      await Promise.all(all.map((w) => w.done));
    },
  };
}
