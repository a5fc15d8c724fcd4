// The pod helpers several packages need, kept once: restart decisions, init-container and sidecar
// predicates, the pod's namespace and full name.
// Follows pkg/kubelet/container/helpers.go and runtime.go (ShouldContainerBeRestarted,
// HasAnyRegularContainerCreated, GetPodFullName, BuildPodFullName, ParsePodFullName),
// pkg/api/v1/pod/util.go (IsRestartableInitContainer) and pkg/kubelet/util/format (format.Pod).
import { ErrorCode, NodeletError } from "./errors.js";
import type { V1Container, V1ObjectMeta, V1Pod } from "./k8s-types.js";
import { type ContainerStatus, findContainerStatusByName, type PodStatus } from "./runtime-types.js";

/**
 * The namespace of a pod whose manifest names none. The kubelet's file and URL sources give such a
 * static pod metav1.NamespaceDefault, so an empty string and a missing namespace both mean "default"
 * everywhere in nodelet (labels, log paths, event references, backoff keys).
 */
export const DEFAULT_NAMESPACE = "default";

/** The pod's namespace, with an empty or missing one read as {@link DEFAULT_NAMESPACE}. */
export function podNamespace(pod: { metadata?: V1ObjectMeta | undefined }): string {
  return pod.metadata?.namespace || DEFAULT_NAMESPACE;
}

/** The kubelet's BuildPodFullName: `<name>_<namespace>`, the key of runtime pods and log directories. */
export function buildPodFullName(name: string, namespace: string): string {
  return `${name}_${namespace}`;
}

/** The kubelet's GetPodFullName: `<name>_<namespace>`, the namespace defaulted. */
export function getPodFullName(pod: V1Pod): string {
  return buildPodFullName(pod.metadata.name ?? "", podNamespace(pod));
}

/** The kubelet's ParsePodFullName: both parts must be non-empty; throws InvalidArgument otherwise. */
export function parsePodFullName(fullName: string): { name: string; namespace: string } {
  const parts = fullName.split("_");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
    throw new NodeletError(
      ErrorCode.InvalidArgument,
      `failed to parse the pod full name "${fullName}": expected <name>_<namespace>`,
    );
  }
  return { name: parts[0] as string, namespace: parts[1] as string };
}

/** The kubelet's format.Pod, for log and error messages: `<name>_<namespace>(<uid>)`. */
export function formatPod(pod: V1Pod): string {
  return `${getPodFullName(pod)}(${pod.metadata.uid ?? ""})`;
}

/** An init container with `restartPolicy: Always`: a sidecar that runs beside the regular containers. */
export function isRestartableInitContainer(container: V1Container): boolean {
  return container.restartPolicy === "Always";
}

/** Whether the pod has at least one restartable init container (sidecar). */
export function hasRestartableInitContainer(pod: V1Pod): boolean {
  return (pod.spec.initContainers ?? []).some(isRestartableInitContainer);
}

/** Whether `name` is one of the pod's init containers (sidecars included). */
export function isInitContainer(pod: V1Pod, name: string): boolean {
  return (pod.spec.initContainers ?? []).some((c) => c.name === name);
}

/** The pod restarts failed containers: its policy is Always (the default) or OnFailure. */
export function shouldRestartOnFailure(pod: V1Pod): boolean {
  return pod.spec.restartPolicy !== "Never";
}

/**
 * Whether an exited container of the pod runs again under the restart policies. A container's own
 * policy wins over the pod's: a sidecar (`restartPolicy: Always` on an init container) restarts
 * whatever the pod's policy, as the kubelet's computeInitContainerActions restarts it and as
 * podutil.ContainerShouldRestart decides once container-level policies are enabled.
 */
export function isContainerRestartable(container: V1Container, pod: V1Pod, exitCode: number): boolean {
  if (isRestartableInitContainer(container)) return true;
  switch (pod.spec.restartPolicy ?? "Always") {
    case "Never":
      return false;
    case "OnFailure":
      return exitCode !== 0;
    default:
      return true;
  }
}

/**
 * The kubelet's ShouldContainerBeRestarted, for a container of the pod in the sync loop. In order:
 * a pod being deleted restarts nothing; a container without a status (never ran, or every instance
 * was garbage-collected) starts; a running one does not; one that is created or unknown (it never
 * got to run) starts even under Never; an exited one follows {@link isContainerRestartable}.
 * The status taken is the newest instance of the container (PodStatus lists them newest first).
 */
export function shouldContainerBeRestarted(
  container: V1Container,
  pod: V1Pod,
  podStatus: PodStatus,
): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  const status = findContainerStatusByName(podStatus, container.name);
  if (!status) return true;
  if (status.state === "running") return false;
  if (status.state === "unknown" || status.state === "created") return true;
  return isContainerRestartable(container, pod, status.exitCode);
}

/** A container status the runtime has created (created, running or exited; not unknown). */
function isCreated(status: ContainerStatus | undefined): boolean {
  return status !== undefined && status.state !== "unknown";
}

/**
 * The kubelet's HasAnyRegularContainerCreated: the newest instance of some regular container is
 * created, running or exited, so the pod's initialisation finished at some point.
 */
export function hasAnyRegularContainerCreated(pod: V1Pod, podStatus: PodStatus): boolean {
  return pod.spec.containers.some((c) => isCreated(findContainerStatusByName(podStatus, c.name)));
}
