// The object an event is about: a pod, or one container of it through a field path.
// Follows pkg/kubelet/container/ref.go (GenerateContainerRef, fieldPath).
import type { V1Container, V1Pod } from "./k8s-types.js";
import { podNamespace } from "./pod-helpers.js";
import type { ContainerType } from "./runtime-types.js";

/** The kubelet's partial object reference of a pod; `fieldPath` points at one of its containers. */
export interface ObjectReference {
  kind: "Pod";
  namespace: string;
  name: string;
  uid: string;
  /** `spec.containers{name}`, `spec.initContainers{name}` or `spec.ephemeralContainers{name}`. */
  fieldPath?: string;
}

const SPEC_FIELD: Record<ContainerType, string> = {
  container: "containers",
  init: "initContainers",
  ephemeral: "ephemeralContainers",
};

/** The reference of the pod itself (sandbox events, pod-level failures). */
export function podObjectReference(pod: V1Pod): ObjectReference {
  return {
    kind: "Pod",
    namespace: podNamespace(pod),
    name: pod.metadata?.name ?? "",
    uid: pod.metadata?.uid ?? "",
  };
}

/**
 * Which list of the pod spec holds the container: regular first, then init. Ephemeral containers
 * are not in nodelet's V1PodSpec, so the caller names that type; undefined when the name is in no list.
 */
export function containerTypeOf(pod: V1Pod, name: string): ContainerType | undefined {
  if (pod.spec?.containers.some((c) => c.name === name)) return "container";
  if (pod.spec?.initContainers?.some((c) => c.name === name)) return "init";
  return undefined;
}

/** The kubelet's field path of a container: `spec.<list>{<name>}`. */
export function containerFieldPath(name: string, type: ContainerType): string {
  return `spec.${SPEC_FIELD[type]}{${name}}`;
}

/**
 * The reference of one container of the pod, the field path naming its list. `type` defaults to
 * the list the pod spec has it in, and to the regular list for a name found in none (where the
 * kubelet fails and records no event), so the event is still recorded.
 */
export function containerObjectReference(
  pod: V1Pod,
  container: V1Container | string,
  type?: ContainerType,
): Required<ObjectReference> {
  const name = typeof container === "string" ? container : container.name;
  const kind = type ?? containerTypeOf(pod, name) ?? "container";
  return { ...podObjectReference(pod), fieldPath: containerFieldPath(name, kind) };
}
