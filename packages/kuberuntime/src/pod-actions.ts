// computePodActions: what a syncPod must do to move a pod from its current status to its spec.
// Pure: the runtime's view comes in as PodStatus, probe results through ProbeResults.
// Follows computePodActions and computeInitContainerActions in
// pkg/kubelet/kuberuntime/kuberuntime_manager.go; the restart and sidecar predicates are
// runtime-api's (pkg/kubelet/container/helpers.go).
import { NamespaceMode, PodSandboxState } from "@nodelet/cri-api";
import type {
  ContainerID,
  ContainerStatus,
  PodStatus,
  ProbeResults,
  V1Container,
  V1Pod,
} from "@nodelet/runtime-api";
import {
  findContainerStatusByName,
  formatContainerID,
  hasAnyRegularContainerCreated,
  isRestartableInitContainer,
  shouldContainerBeRestarted,
  shouldRestartOnFailure,
} from "@nodelet/runtime-api";
import { hashContainer } from "./container-hash.js";

export const noProbeResults: ProbeResults = { liveness: () => undefined, startup: () => undefined };

export type ContainerKillReason = "" | "StartupProbe" | "LivenessProbe" | "FailedPostStartHook" | "Unknown";

export interface ContainerToKill {
  id: ContainerID;
  name: string;
  container: V1Container;
  message: string;
  reason: ContainerKillReason;
}

export interface PodActions {
  killPod: boolean;
  createSandbox: boolean;
  /** The sandbox to reuse (or the old one being replaced); "" when none. */
  sandboxId: string;
  attempt: number;
  /** Indexes into spec.initContainers, in spec order. */
  initContainersToStart: number[];
  /** Indexes into spec.containers. */
  containersToStart: number[];
  /** Keyed by formatted ContainerID. */
  containersToKill: Map<string, ContainerToKill>;
}

export function containerChanged(container: V1Container, status: ContainerStatus): boolean {
  return hashContainer(container) !== status.hash;
}

/** The kubelet's isInitContainerFailed: OOM-killed, non-zero exit, or unknown state. */
export function isInitContainerFailed(status: ContainerStatus): boolean {
  if (status.reason === "OOMKilled") return true;
  if (status.state === "exited" && status.exitCode !== 0) return true;
  return status.state === "unknown";
}

function containerSucceeded(container: V1Container, podStatus: PodStatus): boolean {
  const status = findContainerStatusByName(podStatus, container.name);
  return status !== undefined && status.state === "exited" && status.exitCode === 0;
}

function networkModeForPod(pod: V1Pod): NamespaceMode {
  return pod.spec.hostNetwork ? NamespaceMode.NODE : NamespaceMode.POD;
}

/** The kubelet's PodSandboxChanged: whether a new sandbox is needed, its attempt, and the current sandbox id. */
export function podSandboxChanged(
  pod: V1Pod,
  podStatus: PodStatus,
): { create: boolean; attempt: number; sandboxId: string } {
  const newest = podStatus.sandboxStatuses[0];
  if (!newest) return { create: true, attempt: 0, sandboxId: "" };
  const next = (newest.metadata?.attempt ?? 0) + 1;
  const ready = podStatus.sandboxStatuses.filter((s) => s.state === PodSandboxState.SANDBOX_READY).length;
  if (ready > 1 || newest.state !== PodSandboxState.SANDBOX_READY) {
    return { create: true, attempt: next, sandboxId: newest.id };
  }
  const mode = newest.linux?.namespaces?.options?.network ?? NamespaceMode.POD;
  if (mode !== networkModeForPod(pod)) return { create: true, attempt: next, sandboxId: "" };
  if (!pod.spec.hostNetwork && newest.network && newest.network.ip === "") {
    return { create: true, attempt: next, sandboxId: newest.id };
  }
  return { create: false, attempt: newest.metadata?.attempt ?? 0, sandboxId: newest.id };
}

export function computePodActions(
  pod: V1Pod,
  podStatus: PodStatus,
  probes: ProbeResults = noProbeResults,
): PodActions {
  const sandbox = podSandboxChanged(pod, podStatus);
  const actions: PodActions = {
    killPod: sandbox.create,
    createSandbox: sandbox.create,
    sandboxId: sandbox.sandboxId,
    attempt: sandbox.attempt,
    initContainersToStart: [],
    containersToStart: [],
    containersToKill: new Map(),
  };

  if (sandbox.create) {
    // A Never pod that already ran does not get a second sandbox: it is only killed.
    if (!shouldRestartOnFailure(pod) && sandbox.attempt !== 0 && podStatus.containerStatuses.length > 0) {
      actions.createSandbox = false;
      return actions;
    }
    const toStart = pod.spec.containers
      .map((_, i) => i)
      .filter(
        (i) =>
          !(
            pod.spec.restartPolicy === "OnFailure" &&
            containerSucceeded(pod.spec.containers[i] as V1Container, podStatus)
          ),
      );
    if (toStart.length === 0 && hasAnyRegularContainerCreated(pod, podStatus)) {
      actions.createSandbox = false;
      return actions;
    }
    if ((pod.spec.initContainers ?? []).length > 0) {
      actions.initContainersToStart = [0];
      return actions;
    }
    actions.containersToStart = toStart;
    return actions;
  }

  const initialized = computeInitContainerActions(pod, podStatus, actions, probes);
  if (actions.killPod || !initialized) return actions;

  let keep = 0;
  pod.spec.containers.forEach((container, index) => {
    const status = findContainerStatusByName(podStatus, container.name);
    if (status?.state !== "running") {
      if (shouldContainerBeRestarted(container, pod, podStatus)) {
        actions.containersToStart.push(index);
        if (status?.state === "unknown") {
          kill(
            actions,
            status,
            container,
            "Container is in unknown state, try killing it before restart",
            "Unknown",
          );
        }
      }
      return;
    }
    let restart = shouldRestartOnFailure(pod);
    let message: string;
    let reason: ContainerKillReason = "";
    if (containerChanged(container, status)) {
      message = `Container ${container.name} definition changed`;
      restart = true; // a new definition replaces the container whatever the policy
    } else if (probes.liveness(status.id) === "Failure") {
      message = `Container ${container.name} failed liveness probe`;
      reason = "LivenessProbe";
    } else if (probes.startup(status.id) === "Failure") {
      message = `Container ${container.name} failed startup probe`;
      reason = "StartupProbe";
    } else {
      keep++;
      return;
    }
    if (restart) {
      message = `${message}, will be restarted`;
      actions.containersToStart.push(index);
    }
    kill(actions, status, container, message, reason);
  });

  if (keep === 0 && actions.containersToStart.length === 0) {
    // Nothing left to run: the pod is done, and sidecars must not keep it alive.
    actions.killPod = true;
    actions.initContainersToStart = [];
  }
  return actions;
}

function kill(
  actions: PodActions,
  status: ContainerStatus,
  container: V1Container,
  message: string,
  reason: ContainerKillReason,
): void {
  actions.containersToKill.set(formatContainerID(status.id), {
    id: status.id,
    name: container.name,
    container,
    message,
    reason,
  });
}

/**
 * Init containers, sidecars included. Walks them from the last to the first, because finished
 * init containers may have been garbage-collected: the furthest one with a status tells how far
 * initialisation got. Returns whether the pod is initialised.
 */
function computeInitContainerActions(
  pod: V1Pod,
  podStatus: PodStatus,
  actions: PodActions,
  probes: ProbeResults,
): boolean {
  const inits = pod.spec.initContainers ?? [];
  if (inits.length === 0) return true;

  // A created or running app container means initialisation finished in the past.
  let podInitialized = pod.spec.containers.some((c) => {
    const s = findContainerStatusByName(podStatus, c.name);
    return s !== undefined && (s.state === "created" || s.state === "running");
  });
  let previousInitialized = podInitialized;
  const restartOnFailure = shouldRestartOnFailure(pod);
  const toStart: number[] = [];

  for (let i = inits.length - 1; i >= 0; i--) {
    const container = inits[i] as V1Container;
    const sidecar = isRestartableInitContainer(container);
    const status = findContainerStatusByName(podStatus, container.name);
    if (!status) {
      if (previousInitialized && sidecar) toStart.push(i);
      continue;
    }
    if (previousInitialized && !sidecar) continue; // done long ago; only sidecars are kept running

    switch (status.state) {
      case "created":
        // Created but never started: the start must have failed; try again.
        toStart.push(i);
        break;
      case "running": {
        if (!sidecar) break; // wait for it to finish
        if (container.startupProbe) {
          const startup = probes.startup(status.id);
          if (startup === undefined) break;
          if (startup !== "Success") {
            if (startup === "Failure") {
              kill(
                actions,
                status,
                container,
                `Init container ${container.name} failed startup probe`,
                "StartupProbe",
              );
              toStart.push(i);
            }
            break;
          }
        }
        if (i === inits.length - 1) podInitialized = true;
        else if (!previousInitialized) toStart.push(i + 1);
        if (containerChanged(container, status)) {
          kill(actions, status, container, `Init container ${container.name} definition changed`, "");
          toStart.push(i);
          break;
        }
        if (container.livenessProbe && probes.liveness(status.id) === "Failure") {
          kill(
            actions,
            status,
            container,
            `Init container ${container.name} failed liveness probe`,
            "LivenessProbe",
          );
          toStart.push(i);
        }
        break;
      }
      case "exited":
        if (sidecar) {
          toStart.push(i); // sidecars always come back
          break;
        }
        if (isInitContainerFailed(status)) {
          if (!restartOnFailure) {
            actions.killPod = true;
            actions.initContainersToStart = [];
            return false;
          }
          toStart.push(i);
          break;
        }
        if (i === inits.length - 1) podInitialized = true;
        else toStart.push(i + 1);
        break;
      default: {
        const message = `Init container is in "${status.state}" state, try killing it before restart`;
        if (!sidecar && !restartOnFailure) {
          actions.killPod = true;
          actions.initContainersToStart = [];
          return false;
        }
        kill(actions, status, container, message, "Unknown");
        toStart.push(i);
      }
    }
    previousInitialized = true;
  }
  if (!previousInitialized) toStart.push(0);
  actions.initContainersToStart = toStart.reverse();
  return podInitialized;
}
