import {
  type ContainerType,
  podNamespace,
  type V1Container,
  type V1ContainerPort,
  type V1LifecycleHandler,
  type V1Pod,
  type V1TerminationMessagePolicy,
} from "@nodelet/runtime-api";
import { hashContainer } from "./container-hash.js";

// The label and annotation keys the kubelet writes on sandboxes and containers (kr/labels.go,
// pkg/kubelet/types/labels.go). Other tools (crictl, log shippers, the kubelet itself after a
// switch back) read them, so the spelling is the kubelet's.

export const LABEL_POD_NAME = "io.kubernetes.pod.name";
export const LABEL_POD_NAMESPACE = "io.kubernetes.pod.namespace";
export const LABEL_POD_UID = "io.kubernetes.pod.uid";
export const LABEL_CONTAINER_NAME = "io.kubernetes.container.name";

/**
 * nodelet's ownership label, on every sandbox and container it creates: the agent treats only
 * pods carrying it as its own (to kill as orphans); a pod's own labels can never set it.
 */
export const LABEL_MANAGED_BY = "io.nodelet.managed-by";
export const MANAGED_BY_NODELET = "nodelet";

export const ANNOTATION_CONTAINER_HASH = "io.kubernetes.container.hash";
export const ANNOTATION_CONTAINER_RESTART_COUNT = "io.kubernetes.container.restartCount";
export const ANNOTATION_CONTAINER_TERMINATION_MESSAGE_PATH = "io.kubernetes.container.terminationMessagePath";
export const ANNOTATION_CONTAINER_TERMINATION_MESSAGE_POLICY =
  "io.kubernetes.container.terminationMessagePolicy";
export const ANNOTATION_POD_DELETION_GRACE_PERIOD = "io.kubernetes.pod.deletionGracePeriod";
export const ANNOTATION_POD_TERMINATION_GRACE_PERIOD = "io.kubernetes.pod.terminationGracePeriod";
export const ANNOTATION_CONTAINER_PRESTOP_HANDLER = "io.kubernetes.container.preStopHandler";
export const ANNOTATION_CONTAINER_PORTS = "io.kubernetes.container.ports";
export const ANNOTATION_CONTAINER_TYPE = "io.kubernetes.container.type";

/** The API server's defaults for the two termination-message fields. */
export const DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log";
export const DEFAULT_TERMINATION_MESSAGE_POLICY: V1TerminationMessagePolicy = "File";

/**
 * Sandbox labels: every pod label, then the kubelet's three pod keys and nodelet's ownership
 * label, which win on conflict (a pod cannot set or override them).
 */
export function newPodSandboxLabels(pod: V1Pod): Record<string, string> {
  return {
    ...pod.metadata.labels,
    [LABEL_POD_NAME]: pod.metadata.name ?? "",
    [LABEL_POD_NAMESPACE]: podNamespace(pod),
    [LABEL_POD_UID]: pod.metadata.uid ?? "",
    [LABEL_MANAGED_BY]: MANAGED_BY_NODELET,
  };
}

/** Sandbox annotations: the pod's annotations verbatim (a copy). */
export function newPodSandboxAnnotations(pod: V1Pod): Record<string, string> {
  return { ...pod.metadata.annotations };
}

/** Container labels: the four identity keys and nodelet's ownership label, nothing from the pod. */
export function newContainerLabels(container: V1Container, pod: V1Pod): Record<string, string> {
  return {
    [LABEL_POD_NAME]: pod.metadata.name ?? "",
    [LABEL_POD_NAMESPACE]: podNamespace(pod),
    [LABEL_POD_UID]: pod.metadata.uid ?? "",
    [LABEL_CONTAINER_NAME]: container.name,
    [LABEL_MANAGED_BY]: MANAGED_BY_NODELET,
  };
}

/**
 * Container annotations. The kubelet first copies device-plugin annotations; nodelet has no device
 * plugins, so there is nothing to copy.
 */
export function newContainerAnnotations(
  container: V1Container,
  pod: V1Pod,
  restartCount: number,
  containerType: ContainerType,
): Record<string, string> {
  const annotations: Record<string, string> = {
    [ANNOTATION_CONTAINER_HASH]: hashContainer(container),
    [ANNOTATION_CONTAINER_RESTART_COUNT]: String(restartCount),
    [ANNOTATION_CONTAINER_TERMINATION_MESSAGE_PATH]:
      container.terminationMessagePath || DEFAULT_TERMINATION_MESSAGE_PATH,
    [ANNOTATION_CONTAINER_TERMINATION_MESSAGE_POLICY]:
      container.terminationMessagePolicy || DEFAULT_TERMINATION_MESSAGE_POLICY,
  };
  if (pod.metadata.deletionGracePeriodSeconds !== undefined) {
    annotations[ANNOTATION_POD_DELETION_GRACE_PERIOD] = String(pod.metadata.deletionGracePeriodSeconds);
  }
  if (pod.spec.terminationGracePeriodSeconds !== undefined) {
    annotations[ANNOTATION_POD_TERMINATION_GRACE_PERIOD] = String(pod.spec.terminationGracePeriodSeconds);
  }
  if (container.lifecycle?.preStop) {
    annotations[ANNOTATION_CONTAINER_PRESTOP_HANDLER] = JSON.stringify(container.lifecycle.preStop);
  }
  if (container.ports && container.ports.length > 0) {
    annotations[ANNOTATION_CONTAINER_PORTS] = JSON.stringify(container.ports.map(portForJson));
  }
  annotations[ANNOTATION_CONTAINER_TYPE] = containerType;
  return annotations;
}

// Go's json.Marshal of v1.ContainerPort: struct field order, omitempty, protocol defaulted to TCP.
function portForJson(port: V1ContainerPort): V1ContainerPort {
  return {
    ...(port.name ? { name: port.name } : {}),
    ...(port.hostPort ? { hostPort: port.hostPort } : {}),
    containerPort: port.containerPort,
    protocol: port.protocol ?? "TCP",
    ...(port.hostIP ? { hostIP: port.hostIP } : {}),
  };
}

export interface LabeledContainerInfo {
  podName: string;
  podNamespace: string;
  podUid: string;
  containerName: string;
}

/** Reads the four identity labels; a missing one reads as "" (old or foreign containers). */
export function getContainerInfoFromLabels(labels: Readonly<Record<string, string>>): LabeledContainerInfo {
  return {
    podName: labels[LABEL_POD_NAME] ?? "",
    podNamespace: labels[LABEL_POD_NAMESPACE] ?? "",
    podUid: labels[LABEL_POD_UID] ?? "",
    containerName: labels[LABEL_CONTAINER_NAME] ?? "",
  };
}

export interface AnnotatedContainerInfo {
  /** Lowercase hex without leading zeros; "" when absent or malformed. */
  hash: string;
  restartCount: number;
  podDeletionGracePeriod?: number;
  podTerminationGracePeriod?: number;
  terminationMessagePath: string;
  terminationMessagePolicy: V1TerminationMessagePolicy | "";
  preStopHandler?: V1LifecycleHandler;
  containerPorts: V1ContainerPort[];
  containerType: ContainerType;
}

const CONTAINER_TYPES: ReadonlySet<string> = new Set<ContainerType>(["init", "container", "ephemeral"]);
const TERMINATION_MESSAGE_POLICIES: ReadonlySet<string> = new Set<V1TerminationMessagePolicy>([
  "File",
  "FallbackToLogsOnError",
]);

/**
 * Reads the kubelet's annotations back, with its rules: a missing key reads as 0, "" or undefined
 * without complaint; a malformed value reads the same way and is reported through `onWarning`
 * (the kubelet logs it). The container type defaults to "container".
 */
export function getContainerInfoFromAnnotations(
  annotations: Readonly<Record<string, string>>,
  onWarning?: (message: string) => void,
): AnnotatedContainerInfo {
  const warn = (key: string, value: string, why: string) =>
    onWarning?.(`annotation ${key}=${JSON.stringify(value)} is ${why}; ignoring it`);

  const info: AnnotatedContainerInfo = {
    hash: "",
    restartCount: 0,
    terminationMessagePath: annotations[ANNOTATION_CONTAINER_TERMINATION_MESSAGE_PATH] ?? "",
    terminationMessagePolicy: "",
    containerPorts: [],
    containerType: "container",
  };

  const hash = annotations[ANNOTATION_CONTAINER_HASH];
  if (hash !== undefined) {
    // strconv.ParseUint(s, 16, 64)
    if (/^[0-9a-fA-F]{1,16}$/.test(hash)) info.hash = BigInt(`0x${hash}`).toString(16);
    else warn(ANNOTATION_CONTAINER_HASH, hash, "not a 64-bit hex number");
  }

  const restartCount = annotations[ANNOTATION_CONTAINER_RESTART_COUNT];
  if (restartCount !== undefined) {
    const parsed = parseGoInt(restartCount);
    if (parsed === undefined) warn(ANNOTATION_CONTAINER_RESTART_COUNT, restartCount, "not an integer");
    else info.restartCount = parsed;
  }

  for (const [key, field] of [
    [ANNOTATION_POD_DELETION_GRACE_PERIOD, "podDeletionGracePeriod"],
    [ANNOTATION_POD_TERMINATION_GRACE_PERIOD, "podTerminationGracePeriod"],
  ] as const) {
    const value = annotations[key];
    if (value === undefined) continue;
    const parsed = parseGoInt(value);
    if (parsed === undefined) warn(key, value, "not an integer");
    else info[field] = parsed;
  }

  const policy = annotations[ANNOTATION_CONTAINER_TERMINATION_MESSAGE_POLICY];
  if (policy !== undefined) {
    if (TERMINATION_MESSAGE_POLICIES.has(policy))
      info.terminationMessagePolicy = policy as V1TerminationMessagePolicy;
    else warn(ANNOTATION_CONTAINER_TERMINATION_MESSAGE_POLICY, policy, "not File or FallbackToLogsOnError");
  }

  const preStop = annotations[ANNOTATION_CONTAINER_PRESTOP_HANDLER];
  if (preStop !== undefined) {
    const parsed = parseJson(preStop);
    if (isPlainObject(parsed)) info.preStopHandler = parsed as V1LifecycleHandler;
    else warn(ANNOTATION_CONTAINER_PRESTOP_HANDLER, preStop, "not a JSON LifecycleHandler");
  }

  const ports = annotations[ANNOTATION_CONTAINER_PORTS];
  if (ports !== undefined) {
    const parsed = parseJson(ports);
    if (Array.isArray(parsed) && parsed.every(isContainerPort)) info.containerPorts = parsed;
    else warn(ANNOTATION_CONTAINER_PORTS, ports, "not a JSON list of ContainerPort");
  }

  const type = annotations[ANNOTATION_CONTAINER_TYPE];
  if (type !== undefined) {
    if (CONTAINER_TYPES.has(type)) info.containerType = type as ContainerType;
    else warn(ANNOTATION_CONTAINER_TYPE, type, "not init, container or ephemeral");
  }

  return info;
}

// strconv.Atoi / ParseInt(s, 10, 64): optional sign, decimal digits, nothing else.
function parseGoInt(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isContainerPort(value: unknown): value is V1ContainerPort {
  return isPlainObject(value) && typeof value.containerPort === "number";
}
