import { KeyValue } from "@nodelet/cri-api";
import {
  ErrorCode,
  effectiveRequests,
  expandVariableReferences,
  NodeletError,
  parseQuantity,
  podNamespace,
  quantityToInt,
  quantityToMilli,
  type V1Container,
  type V1EnvVar,
  type V1ObjectFieldSelector,
  type V1Pod,
  type V1Quantity,
  type V1ResourceFieldSelector,
} from "@nodelet/runtime-api";

export interface EnvironmentContext {
  /** The pod's IPs, primary first. */
  podIPs: readonly string[];
  /** The node's IPs, primary first. */
  hostIPs: readonly string[];
  /** The node's name; a static pod's spec.nodeName is the node's. */
  nodeName: string;
  /**
   * Node allocatable cpu (thousandths) and memory (bytes): what `resourceFieldRef` reports for an
   * unset limit, as the kubelet does. Without it such a reference is an error.
   */
  nodeAllocatable?: { cpuMilli: number; memoryBytes: number };
}

/**
 * The container's environment, as the kubelet's makeEnvironmentVariables for a pod without an API
 * server: each `value` is expanded against the variables defined before it; `fieldRef` and
 * `resourceFieldRef` are resolved; config map and secret references cannot be. A repeated name
 * keeps its first position and its last value.
 */
export function makeEnvironmentVariables(
  pod: V1Pod,
  container: V1Container,
  context: EnvironmentContext,
): KeyValue[] {
  const env = new Map<string, string>();
  for (const envVar of container.env ?? []) {
    env.set(envVar.name, runtimeValue(envVar, pod, container, context, env));
  }
  return [...env].map(([key, value]) => KeyValue.fromPartial({ key, value: Buffer.from(value, "utf8") }));
}

function runtimeValue(
  envVar: V1EnvVar,
  pod: V1Pod,
  container: V1Container,
  context: EnvironmentContext,
  env: ReadonlyMap<string, string>,
): string {
  if (envVar.value) return expandVariableReferences(envVar.value, env);
  const from = envVar.valueFrom;
  if (from === undefined) return "";
  if (from.fieldRef) return fieldRefValue(from.fieldRef, pod, container, envVar.name, context);
  if (from.resourceFieldRef)
    return resourceFieldRefValue(from.resourceFieldRef, pod, container, envVar.name, context);
  const source = from.configMapKeyRef ? "configMapKeyRef" : from.secretKeyRef ? "secretKeyRef" : undefined;
  if (source !== undefined) {
    throw envError(container, `nodelet runs static pods: ${source} is not supported (env ${envVar.name})`);
  }
  return "";
}

// podFieldSelectorRuntimeValue + fieldpath.ExtractFieldPathAsString.
function fieldRefValue(
  selector: V1ObjectFieldSelector,
  pod: V1Pod,
  container: V1Container,
  name: string,
  context: EnvironmentContext,
): string {
  if (selector.apiVersion !== undefined && selector.apiVersion !== "" && selector.apiVersion !== "v1") {
    throw envError(
      container,
      `env ${name}: fieldRef apiVersion "${selector.apiVersion}" is not supported (use v1)`,
    );
  }
  const path = selector.fieldPath;
  switch (path) {
    case "metadata.name":
      return pod.metadata.name ?? "";
    case "metadata.namespace":
      return podNamespace(pod);
    case "metadata.uid":
      return pod.metadata.uid ?? "";
    case "metadata.labels":
      return formatMap(pod.metadata.labels ?? {});
    case "metadata.annotations":
      return formatMap(pod.metadata.annotations ?? {});
    case "spec.nodeName":
      return pod.spec.nodeName || context.nodeName;
    case "spec.serviceAccountName":
      return pod.spec.serviceAccountName ?? "";
    case "status.hostIP":
    case "status.hostIPs":
      if (context.hostIPs.length === 0) {
        throw envError(container, `env ${name}: ${path} requested but the node has no IP address`);
      }
      // The pod's status.hostIPs holds at most two addresses (one per family), as /pods reports them.
      return path === "status.hostIP"
        ? (context.hostIPs[0] as string)
        : context.hostIPs.slice(0, 2).join(",");
    case "status.podIP":
      return context.podIPs[0] ?? "";
    case "status.podIPs":
      return context.podIPs.join(",");
  }
  const subscript = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (subscript) {
    const map = subscript[1] === "labels" ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[subscript[2] as string] ?? "";
  }
  throw envError(container, `env ${name}: unsupported fieldPath: ${path}`);
}

// `fieldpath.FormatMap`: sorted `key="value"` lines.
function formatMap(map: Readonly<Record<string, string>>): string {
  return Object.keys(map)
    .sort()
    .map((key) => `${key}=${JSON.stringify(map[key])}`)
    .join("\n");
}

// containerResourceRuntimeValue: limits default to node allocatable (defaultPodLimitsForDownwardAPI),
// requests to limits (API defaulting); the value is ceil(amount / divisor).
function resourceFieldRefValue(
  selector: V1ResourceFieldSelector,
  pod: V1Pod,
  container: V1Container,
  name: string,
  context: EnvironmentContext,
): string {
  let target = container;
  if (selector.containerName) {
    const found = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find(
      (c) => c.name === selector.containerName,
    );
    if (found === undefined) {
      throw envError(
        container,
        `env ${name}: resourceFieldRef container ${selector.containerName} not found`,
      );
    }
    target = found;
  }
  const match = /^(limits|requests)\.(cpu|memory)$/.exec(selector.resource);
  if (!match) {
    throw envError(container, `env ${name}: unsupported container resource: ${selector.resource}`);
  }
  const kind = match[1] as "limits" | "requests";
  const resource = match[2] as "cpu" | "memory";
  let amount: V1Quantity | undefined =
    kind === "limits" ? target.resources?.limits?.[resource] : effectiveRequests(target)[resource];
  if (kind === "limits" && amount === undefined) {
    const allocatable = context.nodeAllocatable;
    if (allocatable === undefined) {
      throw envError(
        container,
        `env ${name}: ${selector.resource} is unset and node allocatable ${resource} is unknown`,
      );
    }
    amount = resource === "cpu" ? `${allocatable.cpuMilli}m` : allocatable.memoryBytes;
  }
  const divisor =
    selector.divisor === undefined || parseQuantity(selector.divisor) === 0 ? "1" : selector.divisor;
  if (resource === "cpu") {
    return String(Math.ceil((amount === undefined ? 0 : quantityToMilli(amount)) / quantityToMilli(divisor)));
  }
  return String(Math.ceil((amount === undefined ? 0 : quantityToInt(amount)) / quantityToInt(divisor)));
}

/** Command and args with `$(VAR)` references to the container's environment expanded. */
export function expandContainerCommandAndArgs(
  container: V1Container,
  envs: readonly KeyValue[],
): { command: string[]; args: string[] } {
  const vars = new Map(envs.map((kv) => [kv.key, Buffer.from(kv.value).toString("utf8")] as const));
  return {
    command: (container.command ?? []).map((cmd) => expandVariableReferences(cmd, vars)),
    args: (container.args ?? []).map((arg) => expandVariableReferences(arg, vars)),
  };
}

function envError(container: V1Container, message: string): NodeletError {
  return new NodeletError(ErrorCode.CreateContainerConfigError, `container "${container.name}": ${message}`, {
    details: { container: container.name, field: "env" },
  });
}
