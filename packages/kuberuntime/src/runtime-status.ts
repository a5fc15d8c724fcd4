// Reading the runtime: CRI lists and statuses turned into the kubelet's Pod and PodStatus,
// grouped by the labels the kubelet writes.
import { isIP } from "node:net";
import {
  ContainerFilter,
  ContainerState,
  type ContainerStatusResponse,
  type Container as CriContainer,
  type ContainerStatus as CriContainerStatus,
  type PodSandbox,
  PodSandboxFilter,
  PodSandboxState,
  type PodSandboxStatus,
  type StatusResponse,
} from "@nodelet/cri-api";
import {
  type Clock,
  type Container,
  type ContainerStateName,
  type ContainerStatus,
  ErrorCode,
  isNodeletError,
  nanosToDate,
  nanosToMillis,
  type Pod,
  type PodStatus,
  type RuntimeService,
  type RuntimeStatus,
  sandboxStateName,
} from "@nodelet/runtime-api";
import { capTerminationMessages, terminationMessage } from "./container-logs.js";
import { getContainerInfoFromAnnotations, getContainerInfoFromLabels, LABEL_POD_UID } from "./labels.js";
import type { StatusMemo } from "./status-memo.js";

export function toContainerState(state: ContainerState): ContainerStateName {
  switch (state) {
    case ContainerState.CONTAINER_CREATED:
      return "created";
    case ContainerState.CONTAINER_RUNNING:
      return "running";
    case ContainerState.CONTAINER_EXITED:
      return "exited";
    default:
      return "unknown";
  }
}

// The runtime service may answer an unchanged container or sandbox with the same frozen object
// on every relist (cri-remote does): its conversion is then made once and shared, frozen too.
const converted = new WeakMap<CriContainer | PodSandbox, Container>();

function convertOnce<T extends CriContainer | PodSandbox>(
  runtimeName: string,
  item: T,
  convert: (runtimeName: string, item: T) => Container,
): Container {
  if (!Object.isFrozen(item)) return convert(runtimeName, item);
  let container = converted.get(item);
  if (container?.id.type !== runtimeName) {
    container = convert(runtimeName, item);
    Object.freeze(container.id);
    converted.set(item, Object.freeze(container));
  }
  return container;
}

function fromCriContainer(runtimeName: string, c: CriContainer): Container {
  const annotated = getContainerInfoFromAnnotations(c.annotations);
  return {
    id: { type: runtimeName, id: c.id },
    name: c.metadata?.name ?? "",
    image: c.image?.image ?? "",
    imageID: c.imageRef,
    imageRef: c.imageRef,
    imageRuntimeHandler: c.image?.runtimeHandler ?? "",
    hash: annotated.hash,
    state: toContainerState(c.state),
    createdAt: nanosToMillis(c.createdAt),
  };
}

function fromCriSandbox(runtimeName: string, s: PodSandbox): Container {
  return {
    id: { type: runtimeName, id: s.id },
    name: s.metadata?.name ?? "",
    image: "",
    imageID: "",
    imageRef: "",
    imageRuntimeHandler: s.runtimeHandler,
    hash: "",
    state: sandboxStateName(s.state),
    createdAt: nanosToMillis(s.createdAt),
  };
}

/** The kubelet's GetPods: sandboxes and containers grouped by pod UID, newest sandbox first. */
export async function listPods(runtime: RuntimeService, runtimeName: string, all: boolean): Promise<Pod[]> {
  const sandboxFilter = all
    ? undefined
    : PodSandboxFilter.fromPartial({ state: { state: PodSandboxState.SANDBOX_READY } });
  const containerFilter = all
    ? undefined
    : ContainerFilter.fromPartial({ state: { state: ContainerState.CONTAINER_RUNNING } });
  const [sandboxes, containers] = await Promise.all([
    runtime.listPodSandbox(sandboxFilter),
    runtime.listContainers(containerFilter),
  ]);
  const pods = new Map<string, Pod>();
  const podFor = (uid: string, name: string, namespace: string): Pod => {
    let pod = pods.get(uid);
    if (!pod) {
      pod = { id: uid, name, namespace, createdAt: 0, containers: [], sandboxes: [] };
      pods.set(uid, pod);
    }
    return pod;
  };
  for (const s of sandboxes) {
    if (!s.metadata) continue;
    const pod = podFor(s.metadata.uid, s.metadata.name, s.metadata.namespace);
    const sandbox = convertOnce(runtimeName, s, fromCriSandbox);
    pod.sandboxes.push(sandbox);
    pod.createdAt = Math.max(pod.createdAt, sandbox.createdAt);
  }
  for (const c of containers) {
    if (!c.metadata) continue;
    const labelled = getContainerInfoFromLabels(c.labels);
    if (!labelled.podUid) continue; // not made by a kubelet-like agent
    // A container whose sandbox is gone still makes a pod entry, so it can be killed.
    podFor(labelled.podUid, labelled.podName, labelled.podNamespace).containers.push(
      convertOnce(runtimeName, c, fromCriContainer),
    );
  }
  for (const pod of pods.values()) pod.sandboxes.sort((a, b) => b.createdAt - a.createdAt);
  return [...pods.values()].sort((a, b) => b.createdAt - a.createdAt);
}

/** Pod IPs of a sandbox, primary first; none at all if any fails to parse, as the kubelet. */
export function determinePodSandboxIPs(status: PodSandboxStatus): string[] {
  const network = status.network;
  if (!network) return [];
  const ips = [network.ip, ...network.additionalIps.map((a) => a.ip)].filter((ip) => ip !== "");
  return ips.every((ip) => isIP(ip) !== 0) ? ips : [];
}

async function toContainerStatus(runtimeName: string, s: CriContainerStatus): Promise<ContainerStatus> {
  const annotated = getContainerInfoFromAnnotations(s.annotations);
  const state = toContainerState(s.state);
  let message = s.message;
  if (state === "exited") {
    const fromFile = await terminationMessage(
      s,
      annotated.terminationMessagePath,
      annotated.terminationMessagePolicy,
    );
    if (fromFile) message = message ? `${message}: ${fromFile}` : fromFile;
  }
  return {
    id: { type: runtimeName, id: s.id },
    name: s.metadata?.name ?? "",
    state,
    createdAt: nanosToDate(s.createdAt),
    startedAt: nanosToDate(s.startedAt),
    finishedAt: nanosToDate(s.finishedAt),
    exitCode: s.exitCode,
    image: s.image?.image ?? "",
    imageID: s.imageRef,
    imageRef: s.imageRef,
    imageRuntimeHandler: s.image?.runtimeHandler ?? "",
    hash: annotated.hash,
    restartCount: annotated.restartCount,
    reason: s.reason,
    message,
    containerType: annotated.containerType,
    logPath: s.logPath,
  };
}

function ignoreNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
  return promise.catch((err: unknown) => {
    if (isNodeletError(err, ErrorCode.NotFound)) return undefined; // removed between list and status
    throw err;
  });
}

/**
 * The kubelet's GetPodStatus: every sandbox and container of the pod UID, newest first. With a
 * memo, statuses of objects listed in the state they were last read in are not read again.
 */
export async function readPodStatus(
  runtime: RuntimeService,
  runtimeName: string,
  clock: Clock,
  uid: string,
  name: string,
  namespace: string,
  memo?: StatusMemo,
): Promise<PodStatus> {
  const byUid = { labelSelector: { [LABEL_POD_UID]: uid } };
  // Containers the sync just started or stopped: asked about alongside the list, not after it.
  const early = new Map<string, Promise<ContainerStatusResponse | undefined>>();
  for (const id of memo?.takeChanged(uid) ?? []) {
    const read = ignoreNotFound(runtime.containerStatus(id, false));
    read.catch(() => undefined); // awaited below when listed; a rejection is not left unhandled
    early.set(id, read);
  }
  const [sandboxes, containers] = await Promise.all([
    runtime.listPodSandbox(PodSandboxFilter.fromPartial(byUid)),
    runtime.listContainers(ContainerFilter.fromPartial(byUid)),
  ]);
  sandboxes.sort((a, b) => (b.createdAt > a.createdAt ? 1 : b.createdAt < a.createdAt ? -1 : 0));
  const sandboxStatuses = (
    await Promise.all(
      sandboxes.map(
        async (sandbox) =>
          memo?.sandbox(uid, sandbox.id, sandbox.state) ??
          (
            await ignoreNotFound(runtime.podSandboxStatus(sandbox.id, false))
          )?.status,
      ),
    )
  ).filter((s): s is PodSandboxStatus => s !== undefined);
  const newest = sandboxStatuses[0];
  const ips =
    newest !== undefined && newest.id === sandboxes[0]?.id && newest.state === PodSandboxState.SANDBOX_READY
      ? determinePodSandboxIPs(newest)
      : [];
  const timestamp = clock.now();
  const read = await Promise.all(
    containers.map(async (c) => {
      const kept = memo?.container(uid, c.id, c.state);
      if (kept) return { state: c.state, status: kept };
      const res = await (early.get(c.id) ?? ignoreNotFound(runtime.containerStatus(c.id, false)));
      return res?.status
        ? { state: res.status.state, status: await toContainerStatus(runtimeName, res.status) }
        : undefined;
    }),
  );
  const found = read.filter((r): r is { state: ContainerState; status: ContainerStatus } => r !== undefined);
  memo?.store(uid, sandboxStatuses, found);
  const containerStatuses = capTerminationMessages(found.map((r) => r.status)).sort(
    (a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0),
  );
  return { id: uid, name, namespace, ips, containerStatuses, sandboxStatuses, timestamp };
}

/** The running part of a PodStatus as a runtime Pod (the kubelet's ConvertPodStatusToRunningPod). */
export function runningPodFromStatus(runtimeName: string, status: PodStatus): Pod {
  const containers: Container[] = status.containerStatuses
    .filter((c) => c.state === "running")
    .map((c) => ({
      id: c.id,
      name: c.name,
      image: c.image,
      imageID: c.imageID,
      imageRef: c.imageRef,
      imageRuntimeHandler: c.imageRuntimeHandler,
      hash: c.hash,
      state: c.state,
      createdAt: c.createdAt?.getTime() ?? 0,
    }));
  const sandboxes: Container[] = status.sandboxStatuses.map((s) => ({
    id: { type: runtimeName, id: s.id },
    name: s.metadata?.name ?? "",
    image: "",
    imageID: "",
    imageRef: "",
    imageRuntimeHandler: s.runtimeHandler,
    hash: "",
    state: sandboxStateName(s.state),
    createdAt: nanosToMillis(s.createdAt),
  }));
  return {
    id: status.id,
    name: status.name,
    namespace: status.namespace,
    createdAt: sandboxes[0]?.createdAt ?? 0,
    containers,
    sandboxes,
  };
}

/** The CRI Status answer as the Runtime's RuntimeStatus (the kubelet's toKubeRuntimeStatus). */
export function toRuntimeStatus(res: StatusResponse): RuntimeStatus {
  return {
    conditions: (res.status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
    })),
    handlers: res.runtimeHandlers.map((h) => ({
      name: h.name,
      recursiveReadOnlyMounts: h.features?.recursiveReadOnlyMounts ?? false,
      userNamespaces: h.features?.userNamespaces ?? false,
    })),
    features: { supplementalGroupsPolicy: res.features?.supplementalGroupsPolicy ?? false },
  };
}
