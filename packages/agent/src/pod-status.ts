// The kubelet's generateAPIPodStatus for one pod, as a pure function: the runtime's view of the pod
// (PodStatus), the last status we reported, the last sync error per container and the probe results
// in; a Kubernetes v1 PodStatus out (phase, conditions, container statuses, IPs, start time, QoS).
//
// Sources: pkg/kubelet/kubelet_pods.go (convertToAPIContainerStatuses, getPhase, generateAPIPodStatus),
// pkg/kubelet/status/generate.go (conditions), pkg/kubelet/status/status_manager.go (startTime and
// lastTransitionTime carry-over), pkg/kubelet/prober/prober_manager.go (ready and started). Feature
// gates are taken at their defaults (ContainerRestartRules and RestartAllContainersOnContainerExits off).
import { isIP } from "node:net";
import { podSandboxChanged } from "@nodelet/kuberuntime";
import {
  type ContainerID,
  type ContainerStatus,
  formatContainerID,
  getPodQOS,
  hasAnyRegularContainerCreated,
  isRestartableInitContainer,
  nanosToMillis,
  type PodStatus,
  shouldContainerBeRestarted,
  type V1Container,
  type V1ContainerStateTerminated,
  type V1ContainerStateWaiting,
  type V1ContainerStatus,
  type V1Pod,
  type V1PodCondition,
  type V1PodPhase,
  type V1PodStatus,
} from "@nodelet/runtime-api";

/** The last failed SyncResult of one container (the kubelet's reason cache entry). */
export interface ContainerSyncError {
  /** The kubelet's reason: CrashLoopBackOff, ErrImagePull, ImagePullBackOff, CreateContainerConfigError... */
  reason: string;
  message: string;
}

export interface GeneratePodStatusInput {
  pod: V1Pod;
  /** The runtime's view of the pod; container statuses newest first. */
  podStatus: PodStatus;
  /** The status last reported for this pod: start time, transition times, terminal phase, statuses of removed containers. */
  previous?: V1PodStatus | undefined;
  /** The last sync error per container name; shown as `state.waiting` of a container that will be (re)started. */
  lastSyncErrors: ReadonlyMap<string, ContainerSyncError>;
  /**
   * The readiness result of a running container: true when its readiness probe last succeeded, and
   * true for a container without a readiness probe (the kubelet's "no worker means ready").
   */
  readiness: (id: ContainerID) => boolean;
  /** The startup result of a running container; undefined when it has no startup probe (started once running). */
  started: (id: ContainerID) => boolean | undefined;
  /** The node's IPs, primary first. */
  hostIPs: string[];
  now: Date;
  /**
   * The pod will run no container again (removed, or its containers all finished and will not
   * restart): a pod whose containers have all stopped gets Succeeded or Failed whatever its restart
   * policy. The kubelet does this for API pods only (a TODO for static pods, kubernetes#116484); the
   * agent has only static pods and applies it to them.
   */
  terminal?: boolean | undefined;
}

const CONTAINER_CREATING = "ContainerCreating";
const POD_INITIALIZING = "PodInitializing";
const CONTAINER_STATUS_UNKNOWN = "ContainerStatusUnknown";

/** Whether the status is in a terminal phase (Succeeded or Failed): no container of the pod will run again. */
export function podIsTerminal(status: V1PodStatus): boolean {
  return status.phase === "Succeeded" || status.phase === "Failed";
}

/** The kubelet's generateAPIPodStatus (plus the status manager's carry-over of start and transition times). */
export function generatePodStatus(input: GeneratePodStatusInput): V1PodStatus {
  const { pod, podStatus, previous, now } = input;
  const runtimeStatuses = [...podStatus.containerStatuses].sort(
    (a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0),
  );
  const ctx: Context = {
    input,
    runtimeStatuses,
    sortedStatus: { ...podStatus, containerStatuses: runtimeStatuses },
  };

  const status: V1PodStatus = {};
  const podIPs = sortPodIPs(podStatus.ips, input.hostIPs);
  if (pod.spec.hostNetwork && podIPs.length === 0) podIPs.push(...hostNetworkPodIPs(input.hostIPs));
  if (podIPs.length > 0) {
    status.podIP = podIPs[0] as string;
    status.podIPs = podIPs.map((ip) => ({ ip }));
  }
  if (input.hostIPs.length > 0) {
    status.hostIP = input.hostIPs[0] as string;
    status.hostIPs = input.hostIPs.slice(0, 2).map((ip) => ({ ip }));
  }
  status.qosClass = getPodQOS(pod);

  const initContainers = pod.spec.initContainers ?? [];
  const containerStatuses = convertContainerStatuses(
    ctx,
    pod.spec.containers,
    previous?.containerStatuses,
    false,
  );
  const initContainerStatuses = convertContainerStatuses(
    ctx,
    initContainers,
    previous?.initContainerStatuses,
    true,
  );
  // The kubelet sorts regular container statuses by name and init container statuses by spec order.
  containerStatuses.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const all = [...containerStatuses, ...initContainerStatuses];

  let phase = getPhase(pod, all, input.terminal === true, hasAnyActiveRegularContainerStarted(ctx));
  // Pods do not leave a terminal phase.
  if (!isTerminalPhase(phase) && previous?.phase !== undefined && isTerminalPhase(previous.phase)) {
    phase = previous.phase;
  }
  status.phase = phase;
  if (previous && previous.phase === phase) {
    if (previous.reason !== undefined) status.reason = previous.reason;
    if (previous.message !== undefined) status.message = previous.message;
  }

  const allForConditions = [...initContainerStatuses, ...containerStatuses];
  const conditions: V1PodCondition[] = [
    {
      type: "PodReadyToStartContainers",
      status: podSandboxChanged(pod, podStatus).create ? "False" : "True",
    },
    initializedCondition(pod, allForConditions, phase),
    readyCondition(pod, allForConditions, phase),
    containersReadyCondition(pod, allForConditions, phase),
    { type: "PodScheduled", status: "True" },
  ];
  status.conditions = conditions.map((c) => withTransitionTime(c, previous, now));

  status.startTime = previous?.startTime ?? rfc3339(now);
  if (initContainerStatuses.length > 0) status.initContainerStatuses = initContainerStatuses;
  status.containerStatuses = containerStatuses;
  return status;
}

interface Context {
  input: GeneratePodStatusInput;
  /** podStatus.containerStatuses, newest first. */
  runtimeStatuses: ContainerStatus[];
  /** podStatus with its container statuses in that order, for runtime-api's pod helpers. */
  sortedStatus: PodStatus;
}

/** Kubernetes times are RFC 3339 with whole seconds (metav1.Time). */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function isTerminalPhase(phase: V1PodPhase): boolean {
  return phase === "Succeeded" || phase === "Failed";
}

/** The kubelet's sortPodIPs: the first IP of the node's family, then the first of the other family. */
function sortPodIPs(ips: readonly string[], hostIPs: readonly string[]): string[] {
  const primaryFamily = hostIPs[0] !== undefined && isIP(hostIPs[0]) === 6 ? 6 : 4;
  const secondaryFamily = primaryFamily === 4 ? 6 : 4;
  const out: string[] = [];
  const primary = ips.find((ip) => isIP(ip) === primaryFamily);
  if (primary !== undefined) out.push(primary);
  const secondary = ips.find((ip) => isIP(ip) === secondaryFamily);
  if (secondary !== undefined) out.push(secondary);
  return out;
}

/** A host-network pod has the node's IPs (the primary, and the secondary of the other family). */
function hostNetworkPodIPs(hostIPs: readonly string[]): string[] {
  const [first, second] = hostIPs;
  if (first === undefined) return [];
  return second !== undefined && isIP(second) !== isIP(first) ? [first, second] : [first];
}

function withTransitionTime(
  condition: V1PodCondition,
  previous: V1PodStatus | undefined,
  now: Date,
): V1PodCondition {
  const old = previous?.conditions?.find((c) => c.type === condition.type);
  const lastTransitionTime =
    old && old.status === condition.status && old.lastTransitionTime !== undefined
      ? old.lastTransitionTime
      : rfc3339(now);
  return { ...condition, lastProbeTime: null, lastTransitionTime };
}

// ---- container statuses -------------------------------------------------------------------------

function convertTerminated(cs: ContainerStatus): V1ContainerStateTerminated {
  const terminated: V1ContainerStateTerminated = {
    exitCode: cs.exitCode,
    // containerd sets Completed / Error / OOMKilled itself; the fallback covers runtimes that do not.
    reason: cs.reason !== "" ? cs.reason : cs.exitCode === 0 ? "Completed" : "Error",
  };
  if (cs.message !== "") terminated.message = cs.message;
  if (cs.startedAt) terminated.startedAt = rfc3339(cs.startedAt);
  if (cs.finishedAt) terminated.finishedAt = rfc3339(cs.finishedAt);
  terminated.containerID = formatContainerID(cs.id);
  return terminated;
}

/** The kubelet's convertContainerStatus: one runtime instance as an API container status. */
function convertRuntimeStatus(
  cs: ContainerStatus,
  old: V1ContainerStatus | undefined,
  specImage: string,
): V1ContainerStatus {
  const status: V1ContainerStatus = {
    name: cs.name,
    state: {},
    lastState: {},
    ready: false,
    restartCount: cs.restartCount,
    // The runtime's name for the image (containerd: the first repo tag, "docker.io/library/busybox:1.36").
    image: cs.image !== "" ? cs.image : specImage,
    imageID: cs.imageRef,
    containerID: formatContainerID(cs.id),
  };
  switch (cs.state) {
    case "running":
      status.state = { running: cs.startedAt ? { startedAt: rfc3339(cs.startedAt) } : {} };
      break;
    case "exited":
      status.state = { terminated: convertTerminated(cs) };
      break;
    case "unknown":
      if (old?.state?.running) {
        // It was running and the runtime lost it: it ran and stopped, it is not "never started".
        status.state = {
          terminated: {
            exitCode: 137,
            reason: CONTAINER_STATUS_UNKNOWN,
            message: "The container could not be located when the pod was terminated",
          },
        };
        status.restartCount = old.restartCount + 1;
      } else {
        status.state = { waiting: {} };
      }
      break;
    default:
      // Created but not running: waiting to run.
      status.state = { waiting: {} };
  }
  return status;
}

/**
 * The kubelet's HasAnyActiveRegularContainerStarted: a regular container exists in the current
 * sandbox. The runtime status does not say which sandbox a container belongs to, so "created no
 * earlier than the newest sandbox" stands for it.
 */
function hasAnyActiveRegularContainerStarted(ctx: Context): boolean {
  const sandbox = ctx.input.podStatus.sandboxStatuses[0];
  if (!sandbox) return false;
  const since = nanosToMillis(sandbox.createdAt);
  const names = new Set(ctx.input.pod.spec.containers.map((c) => c.name));
  return ctx.runtimeStatuses.some((s) => names.has(s.name) && (s.createdAt?.getTime() ?? 0) >= since);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** The kubelet's convertToAPIContainerStatuses plus the prober manager's ready / started. */
function convertContainerStatuses(
  ctx: Context,
  containers: readonly V1Container[],
  previous: readonly V1ContainerStatus[] | undefined,
  isInit: boolean,
): V1ContainerStatus[] {
  const { pod, lastSyncErrors } = ctx.input;
  const hasInitContainers = (pod.spec.initContainers?.length ?? 0) > 0;
  const defaultReason = hasInitContainers ? POD_INITIALIZING : CONTAINER_CREATING;
  const oldByName = new Map((previous ?? []).map((s) => [s.name, s]));
  const newestByName = new Map<string, ContainerStatus>();
  for (const s of ctx.runtimeStatuses) if (!newestByName.has(s.name)) newestByName.set(s.name, s);

  // Every container starts as waiting with the default reason; a previously reported terminated
  // status stands until the runtime says otherwise (its container may have been removed).
  const statuses = new Map<string, V1ContainerStatus>();
  for (const container of containers) {
    const old = oldByName.get(container.name);
    let status: V1ContainerStatus = {
      name: container.name,
      state: { waiting: { reason: defaultReason } },
      lastState: {},
      ready: false,
      restartCount: 0,
      image: container.image ?? "",
      imageID: "",
    };
    if (old?.state?.terminated) {
      status = clone(old);
    } else if (old) {
      status.restartCount = old.restartCount;
      status.lastState = clone(old.lastState ?? {});
    }
    statuses.set(container.name, status);
  }

  // A container we reported running that the runtime no longer lists has stopped, though we do not
  // know how: record it as terminated in lastState so the pod does not fall back to Pending.
  for (const container of containers) {
    if (newestByName.has(container.name)) continue;
    const old = oldByName.get(container.name);
    const status = statuses.get(container.name);
    if (!old || !status || old.state?.terminated || !old.state?.running) continue;
    if (status.state?.waiting?.reason !== defaultReason || status.lastState?.terminated) continue;
    status.lastState = {
      terminated: {
        exitCode: 137,
        reason: CONTAINER_STATUS_UNKNOWN,
        message:
          "The container could not be located when the pod was deleted.  The container used to be Running",
      },
    };
    if (!pod.metadata.deletionTimestamp) status.restartCount += 1;
  }

  // The newest instance gives the state, the one before it the lastState.
  const seen = new Map<string, number>();
  const specImage = new Map(containers.map((c) => [c.name, c.image ?? ""]));
  for (const cs of ctx.runtimeStatuses) {
    const current = statuses.get(cs.name);
    const count = seen.get(cs.name) ?? 0;
    if (!current || count >= 2) continue;
    const converted = convertRuntimeStatus(cs, oldByName.get(cs.name), specImage.get(cs.name) ?? "");
    if (count === 0) statuses.set(cs.name, converted);
    else current.lastState = converted.state ?? {};
    seen.set(cs.name, count + 1);
  }

  // A container that the next sync will (re)start and whose last start failed is waiting, with the
  // failure as its reason (CrashLoopBackOff, ErrImagePull...).
  for (const container of containers) {
    const status = statuses.get(container.name);
    if (!status) continue;
    const newest = newestByName.get(container.name);
    if (isInit) {
      if (newest?.state === "exited" && newest.exitCode === 0) continue;
      if (
        !newest &&
        !isRestartableInitContainer(container) &&
        status.state?.waiting &&
        hasAnyRegularContainerCreated(pod, ctx.sortedStatus)
      ) {
        // Removed from the runtime, but the regular containers exist: it did complete.
        status.state = {
          terminated: {
            exitCode: 0,
            reason: "Completed",
            message:
              "Unable to get init container status from container runtime and pod has been initialized, treat it as exited normally",
          },
        };
        continue;
      }
    }
    if (!shouldContainerBeRestarted(container, pod, ctx.sortedStatus)) continue;
    const failure = lastSyncErrors.get(container.name);
    if (!failure) continue;
    if (status.state?.terminated) status.lastState = status.state;
    const waiting: V1ContainerStateWaiting = { reason: failure.reason };
    if (failure.message !== "") waiting.message = failure.message;
    status.state = { waiting };
  }

  return containers.map((container) => {
    const status = statuses.get(container.name) as V1ContainerStatus;
    setReadyAndStarted(ctx, container, status, newestByName.get(container.name), isInit);
    return status;
  });
}

/** The prober manager's UpdatePodStatus for one container. */
function setReadyAndStarted(
  ctx: Context,
  container: V1Container,
  status: V1ContainerStatus,
  newest: ContainerStatus | undefined,
  isInit: boolean,
): void {
  const running = status.state?.running !== undefined && newest?.state === "running";
  const started = running && (ctx.input.started((newest as ContainerStatus).id) ?? true);
  status.started = started;
  if (isInit && !isRestartableInitContainer(container)) {
    status.ready = status.state?.terminated?.exitCode === 0;
    return;
  }
  status.ready = started && ctx.input.readiness((newest as ContainerStatus).id);
}

// ---- phase --------------------------------------------------------------------------------------

function findStatus(statuses: readonly V1ContainerStatus[], name: string): V1ContainerStatus | undefined {
  return statuses.find((s) => s.name === name);
}

/** The kubelet's getPhase (ContainerRestartRules off). */
function getPhase(
  pod: V1Pod,
  statuses: readonly V1ContainerStatus[],
  podIsTerminal: boolean,
  podHasInitialized: boolean,
): V1PodPhase {
  const spec = pod.spec;
  const restartPolicy = spec.restartPolicy ?? "Always";
  let pendingRestartableInit = 0;
  let pendingRegularInit = 0;
  let failedInitialization = 0;

  for (const container of spec.initContainers ?? []) {
    if (isRestartableInitContainer(container)) continue;
    const s = findStatus(statuses, container.name);
    if (!s?.state) {
      pendingRegularInit++;
    } else if (s.state.running) {
      pendingRegularInit++;
    } else if (s.state.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInitialization++;
    } else if (s.state.waiting) {
      const last = s.lastState?.terminated;
      if (last) {
        if (last.exitCode !== 0) failedInitialization++;
      } else {
        pendingRegularInit++;
      }
    } else {
      pendingRegularInit++;
    }
  }

  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;

  for (const container of spec.initContainers ?? []) {
    if (!isRestartableInitContainer(container)) continue;
    const s = findStatus(statuses, container.name);
    if (!s?.state) {
      unknown++;
    } else if (s.state.running) {
      if (s.started !== true) pendingRestartableInit++;
      running++;
    } else if (s.state.terminated) {
      // A stopped sidecar does not count for the phase.
    } else if (s.state.waiting) {
      if (!s.lastState?.terminated) {
        pendingRestartableInit++;
        waiting++;
      }
    } else {
      pendingRestartableInit++;
      unknown++;
    }
  }

  for (const container of spec.containers) {
    const s = findStatus(statuses, container.name);
    if (!s?.state) {
      unknown++;
    } else if (s.state.running) {
      running++;
    } else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else {
      unknown++;
    }
  }

  if (failedInitialization > 0 && restartPolicy === "Never") return "Failed";

  if (pendingRegularInit > 0 || (pendingRestartableInit > 0 && !podHasInitialized) || waiting > 0) {
    return "Pending";
  }
  if (running > 0 && unknown === 0) return "Running";
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? "Succeeded" : "Failed";
    if (restartPolicy === "Always") return "Running"; // all restarting
    if (stopped === succeeded) return "Succeeded";
    if (restartPolicy === "Never") return "Failed";
    return "Running"; // OnFailure: at least one failed and is restarting
  }
  return "Pending";
}

// ---- conditions ---------------------------------------------------------------------------------

/** Go's `fmt.Sprintf("%s", []string{...})`: "[a b]". */
function goList(names: readonly string[]): string {
  return `[${names.join(" ")}]`;
}

function hasAnyRegularContainerStarted(pod: V1Pod, statuses: readonly V1ContainerStatus[]): boolean {
  const names = new Set(pod.spec.containers.map((c) => c.name));
  return statuses.some((s) => names.has(s.name) && (s.state?.running || s.state?.terminated));
}

function initializedCondition(
  pod: V1Pod,
  statuses: readonly V1ContainerStatus[],
  phase: V1PodPhase,
): V1PodCondition {
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const container of pod.spec.initContainers ?? []) {
    const s = findStatus(statuses, container.name);
    if (!s) {
      unknown.push(container.name);
      continue;
    }
    const initialized = isRestartableInitContainer(container) ? s.started === true : s.ready;
    if (!initialized) incomplete.push(container.name);
  }
  if (phase === "Succeeded" && unknown.length === 0) {
    return { type: "Initialized", status: "True", reason: "PodCompleted" };
  }
  // A regular container has run: the pod was initialized before, even if a sidecar restarts now.
  if (hasAnyRegularContainerStarted(pod, statuses)) return { type: "Initialized", status: "True" };
  const messages: string[] = [];
  if (unknown.length > 0) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (incomplete.length > 0) messages.push(`containers with incomplete status: ${goList(incomplete)}`);
  if (messages.length > 0) {
    return {
      type: "Initialized",
      status: "False",
      reason: "ContainersNotInitialized",
      message: messages.join(", "),
    };
  }
  return { type: "Initialized", status: "True" };
}

function containersReadyCondition(
  pod: V1Pod,
  statuses: readonly V1ContainerStatus[],
  phase: V1PodPhase,
): V1PodCondition {
  const unknown: string[] = [];
  const unready: string[] = [];
  const counted = [
    ...(pod.spec.initContainers ?? []).filter((c) => isRestartableInitContainer(c)),
    ...pod.spec.containers,
  ];
  for (const container of counted) {
    const s = findStatus(statuses, container.name);
    if (!s) unknown.push(container.name);
    else if (!s.ready) unready.push(container.name);
  }
  if ((phase === "Succeeded" && unknown.length === 0) || phase === "Failed") {
    return {
      type: "ContainersReady",
      status: "False",
      reason: phase === "Failed" ? "PodFailed" : "PodCompleted",
    };
  }
  const messages: string[] = [];
  if (unknown.length > 0) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (unready.length > 0) messages.push(`containers with unready status: ${goList(unready)}`);
  if (messages.length > 0) {
    return {
      type: "ContainersReady",
      status: "False",
      reason: "ContainersNotReady",
      message: messages.join(", "),
    };
  }
  return { type: "ContainersReady", status: "True" };
}

/** Ready is ContainersReady here: static pods have no readiness gates. */
function readyCondition(
  pod: V1Pod,
  statuses: readonly V1ContainerStatus[],
  phase: V1PodPhase,
): V1PodCondition {
  return { ...containersReadyCondition(pod, statuses, phase), type: "Ready" };
}
