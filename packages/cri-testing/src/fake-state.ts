import { randomBytes } from "node:crypto";
import { join } from "node:path";
import {
  Container,
  type ContainerConfig,
  ContainerEventResponse,
  ContainerEventType,
  type ContainerFilter,
  ContainerState,
  ContainerStats,
  ContainerStatus,
  type LinuxContainerResources,
  NamespaceMode,
  PodSandbox,
  type PodSandboxConfig,
  type PodSandboxFilter,
  PodSandboxState,
  PodSandboxStats,
  PodSandboxStatus,
} from "@nodelet/cri-api";
import { type Clock, ErrorCode, millisToNanos } from "@nodelet/runtime-api";
import { appendCriLog, type LogStream, openCriLog } from "./cri-log.js";
import { type FakeImage, ImageStore } from "./fake-images.js";
import { runtimeError } from "./status.js";

// The fake runtime's state machine, following containerd 1.6's cri plugin (pkg/cri/server there),
// whose answers were checked against a real containerd: ids are 64 hex digits; names
// (<name>_<namespace>_<uid>_<attempt> for sandboxes, <container>_<pod name>_<namespace>_<uid>_<attempt>
// for containers)
// are reserved until removal; NotFound for unknown ids except on the idempotent removals;
// StopContainer of a created or exited container and StopPodSandbox twice are no-ops;
// RemoveContainer and RemovePodSandbox stop what still runs; ExecSync and StartContainer in the
// wrong state fail with UNKNOWN and the state in the message.

export interface SandboxRecord {
  id: string;
  name: string;
  config: PodSandboxConfig;
  runtimeHandler: string;
  state: PodSandboxState;
  createdAtMs: number;
  ip: string;
  pid: number;
}

export interface ContainerRecord {
  id: string;
  name: string;
  sandboxId: string;
  config: ContainerConfig;
  state: ContainerState;
  createdAtMs: number;
  startedAtMs: number;
  finishedAtMs: number;
  exitCode: number;
  reason: string;
  message: string;
  imageId: string;
  imageRef: string;
  imageName: string;
  /** Absolute log path ("" when the sandbox or container gives none). */
  logPath: string;
  pid: number;
  resources: LinuxContainerResources | undefined;
  annotations: Record<string, string>;
}

export interface FakeStateOptions {
  clock: Clock;
  /** New 64-hex ids; default random. */
  newId?: (() => string) | undefined;
  defaultImageSize: number;
}

const stateName: Record<number, string> = {
  [ContainerState.CONTAINER_CREATED]: "CONTAINER_CREATED",
  [ContainerState.CONTAINER_RUNNING]: "CONTAINER_RUNNING",
  [ContainerState.CONTAINER_EXITED]: "CONTAINER_EXITED",
  [ContainerState.CONTAINER_UNKNOWN]: "CONTAINER_UNKNOWN",
};

/** Exit codes of a process ended by a signal, as the runtime reports them. */
export const SIGTERM_EXIT = 143;
export const SIGKILL_EXIT = 137;

function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string>) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

export type EventListener = (event: ContainerEventResponse) => void;

export class FakeState {
  readonly sandboxes = new Map<string, SandboxRecord>();
  readonly containers = new Map<string, ContainerRecord>();
  readonly images: ImageStore;
  readonly listeners = new Set<EventListener>();
  readonly #names = new Map<string, string>();
  readonly #clock: Clock;
  readonly #newId: () => string;
  #seq = 0;

  constructor(options: FakeStateOptions) {
    this.#clock = options.clock;
    this.#newId = options.newId ?? (() => randomBytes(32).toString("hex"));
    this.images = new ImageStore(options.defaultImageSize);
  }

  now(): number {
    return this.#clock.now();
  }

  #reserve(kind: "sandbox" | "container", name: string, id: string): void {
    const holder = this.#names.get(name);
    if (holder !== undefined) {
      throw runtimeError(
        ErrorCode.Unknown,
        `failed to reserve ${kind} name "${name}": name "${name}" is reserved for "${holder}"`,
      );
    }
    this.#names.set(name, id);
  }

  sandbox(id: string, notFound = `an error occurred when try to find sandbox "${id}": not found`) {
    const s = this.sandboxes.get(id);
    if (!s) throw runtimeError(ErrorCode.NotFound, notFound);
    return s;
  }

  container(id: string, notFound = `an error occurred when try to find container "${id}": not found`) {
    const c = this.containers.get(id);
    if (!c) throw runtimeError(ErrorCode.NotFound, notFound);
    return c;
  }

  runSandbox(config: PodSandboxConfig, runtimeHandler: string): string {
    const m = config.metadata;
    const id = this.#newId();
    const name = `${m?.name ?? ""}_${m?.namespace ?? ""}_${m?.uid ?? ""}_${m?.attempt ?? 0}`;
    this.#reserve("sandbox", name, id);
    const n = ++this.#seq;
    const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === NamespaceMode.NODE;
    this.sandboxes.set(id, {
      id,
      name,
      config,
      runtimeHandler,
      state: PodSandboxState.SANDBOX_READY,
      createdAtMs: this.now(),
      ip: hostNetwork ? "" : `10.88.${(n >> 8) & 255}.${n & 255 || 1}`,
      pid: 1000 + n,
    });
    return id;
  }

  stopSandbox(id: string): void {
    const s = this.sandbox(id);
    for (const c of this.containers.values()) {
      if (c.sandboxId === id && c.state === ContainerState.CONTAINER_RUNNING) {
        this.exit(c, SIGKILL_EXIT, "Error", "");
      }
    }
    s.state = PodSandboxState.SANDBOX_NOTREADY;
  }

  removeSandbox(id: string): void {
    const s = this.sandboxes.get(id);
    if (!s) return;
    for (const c of [...this.containers.values()]) if (c.sandboxId === id) this.removeContainer(c.id);
    s.state = PodSandboxState.SANDBOX_NOTREADY;
    this.sandboxes.delete(id);
    this.#names.delete(s.name);
  }

  createContainer(sandboxId: string, config: ContainerConfig): string {
    const s = this.sandbox(sandboxId, `failed to find sandbox id "${sandboxId}": not found`);
    const ref = config.image?.image ?? "";
    const image = this.images.find(ref);
    if (!image) throw runtimeError(ErrorCode.NotFound, `failed to resolve image "${ref}": not found`);
    const id = this.#newId();
    // containerd's makeContainerName: the container's own attempt, so a restart (attempt n+1) gets a new name.
    const pod = s.config.metadata;
    const name = `${config.metadata?.name ?? ""}_${pod?.name ?? ""}_${pod?.namespace ?? ""}_${pod?.uid ?? ""}_${config.metadata?.attempt ?? 0}`;
    this.#reserve("container", name, id);
    const logDir = s.config.logDirectory;
    this.containers.set(id, {
      id,
      name,
      sandboxId,
      config,
      state: ContainerState.CONTAINER_CREATED,
      createdAtMs: this.now(),
      startedAtMs: 0,
      finishedAtMs: 0,
      exitCode: 0,
      reason: "",
      message: "",
      imageId: image.id,
      imageRef: image.repoDigests[0] ?? image.id,
      imageName: image.repoTags[0] ?? ref,
      logPath: logDir !== "" && config.logPath !== "" ? join(logDir, config.logPath) : "",
      pid: 0,
      resources: config.linux?.resources,
      annotations: { ...config.annotations },
    });
    this.emit(id, ContainerEventType.CONTAINER_CREATED_EVENT);
    return id;
  }

  startContainer(id: string): void {
    const c = this.container(id);
    if (c.state !== ContainerState.CONTAINER_CREATED) {
      throw runtimeError(
        ErrorCode.Unknown,
        `failed to set starting state for container "${id}": container is in ${stateName[c.state]} state`,
      );
    }
    const s = this.sandbox(c.sandboxId);
    if (s.state !== PodSandboxState.SANDBOX_READY) {
      throw runtimeError(ErrorCode.Unknown, `sandbox container "${s.id}" is not running`);
    }
    if (c.logPath !== "") openCriLog(c.logPath);
    c.state = ContainerState.CONTAINER_RUNNING;
    c.startedAtMs = this.now();
    c.pid = 2000 + ++this.#seq;
    this.emit(id, ContainerEventType.CONTAINER_STARTED_EVENT);
  }

  /** Ends a running container; containers in other states are left alone. */
  exit(c: ContainerRecord, exitCode: number, reason: string | undefined, message: string): void {
    if (c.state !== ContainerState.CONTAINER_RUNNING) return;
    c.state = ContainerState.CONTAINER_EXITED;
    c.finishedAtMs = this.now();
    c.exitCode = exitCode;
    c.reason = reason ?? (exitCode === 0 ? "Completed" : "Error");
    c.message = message;
    c.pid = 0;
    this.emit(c.id, ContainerEventType.CONTAINER_STOPPED_EVENT);
  }

  stopContainer(id: string, timeoutSeconds: number): void {
    // A process ends on SIGTERM within its grace period; SIGKILL ends it when there is none.
    this.exit(this.container(id), timeoutSeconds > 0 ? SIGTERM_EXIT : SIGKILL_EXIT, undefined, "");
  }

  removeContainer(id: string): void {
    const c = this.containers.get(id);
    if (!c) return;
    this.exit(c, SIGKILL_EXIT, undefined, "");
    this.emit(id, ContainerEventType.CONTAINER_DELETED_EVENT);
    this.containers.delete(id);
    this.#names.delete(c.name);
  }

  requireRunning(id: string, notFound: string, prefix: string): ContainerRecord {
    const c = this.container(id, notFound);
    if (c.state !== ContainerState.CONTAINER_RUNNING) {
      throw runtimeError(ErrorCode.Unknown, `${prefix}container is in ${stateName[c.state]} state`);
    }
    return c;
  }

  print(id: string, text: string, stream: LogStream): void {
    const c = this.requireRunning(id, `no container "${id}"`, `cannot print: `);
    if (c.logPath !== "") appendCriLog(c.logPath, text, stream, this.now());
  }

  emit(containerId: string, type: ContainerEventType): void {
    if (this.listeners.size === 0) return;
    const c = this.containers.get(containerId);
    const s = c && this.sandboxes.get(c.sandboxId);
    const event = ContainerEventResponse.fromPartial({
      containerId,
      containerEventType: type,
      createdAt: millisToNanos(this.now()),
      podSandboxStatus: s ? this.sandboxStatus(s) : undefined,
      containersStatuses: c ? [this.containerStatus(c)] : [],
    });
    for (const listener of this.listeners) listener(event);
  }

  listSandboxes(filter: PodSandboxFilter | undefined): PodSandbox[] {
    return [...this.sandboxes.values()]
      .filter(
        (s) =>
          (!filter?.id || s.id.startsWith(filter.id)) &&
          (filter?.state === undefined || s.state === filter.state.state) &&
          labelsMatch(filter?.labelSelector, s.config.labels),
      )
      .map((s) =>
        PodSandbox.fromPartial({
          id: s.id,
          metadata: s.config.metadata,
          state: s.state,
          createdAt: millisToNanos(s.createdAtMs),
          labels: s.config.labels,
          annotations: s.config.annotations,
          runtimeHandler: s.runtimeHandler,
        }),
      );
  }

  sandboxStatus(s: SandboxRecord): PodSandboxStatus {
    return PodSandboxStatus.fromPartial({
      id: s.id,
      metadata: s.config.metadata,
      state: s.state,
      createdAt: millisToNanos(s.createdAtMs),
      network: { ip: s.ip, additionalIps: [] },
      linux: { namespaces: { options: s.config.linux?.securityContext?.namespaceOptions } },
      labels: s.config.labels,
      annotations: s.config.annotations,
      runtimeHandler: s.runtimeHandler,
    });
  }

  filterContainers(filter: Partial<ContainerFilter> | undefined): ContainerRecord[] {
    return [...this.containers.values()].filter(
      (c) =>
        (!filter?.id || c.id.startsWith(filter.id)) &&
        (!filter?.podSandboxId || c.sandboxId.startsWith(filter.podSandboxId)) &&
        (filter?.state === undefined || c.state === filter.state.state) &&
        labelsMatch(filter?.labelSelector, c.config.labels),
    );
  }

  toContainer(c: ContainerRecord): Container {
    return Container.fromPartial({
      id: c.id,
      podSandboxId: c.sandboxId,
      metadata: c.config.metadata,
      image: c.config.image,
      imageRef: c.imageId,
      imageId: c.imageId,
      state: c.state,
      createdAt: millisToNanos(c.createdAtMs),
      labels: c.config.labels,
      annotations: c.annotations,
    });
  }

  containerStatus(c: ContainerRecord): ContainerStatus {
    return ContainerStatus.fromPartial({
      id: c.id,
      metadata: c.config.metadata,
      state: c.state,
      createdAt: millisToNanos(c.createdAtMs),
      startedAt: millisToNanos(c.startedAtMs),
      finishedAt: millisToNanos(c.finishedAtMs),
      exitCode: c.exitCode,
      image: { ...c.config.image, image: c.imageName },
      imageRef: c.imageRef,
      imageId: c.imageId,
      reason: c.reason,
      message: c.message,
      labels: c.config.labels,
      annotations: c.annotations,
      mounts: c.config.mounts,
      logPath: c.logPath,
      resources: c.resources ? { linux: c.resources } : undefined,
    });
  }

  /** The verbose "info" of ContainerStatus: the fields of containerd's that tests read. */
  containerInfo(c: ContainerRecord): Record<string, string> {
    const r = c.resources;
    const resources: Record<string, unknown> = {};
    if (r?.memoryLimitInBytes) resources.memory = { limit: Number(r.memoryLimitInBytes) };
    if (r?.cpuShares || r?.cpuQuota || r?.cpuPeriod) {
      resources.cpu = {
        ...(r.cpuShares ? { shares: Number(r.cpuShares) } : {}),
        ...(r.cpuQuota ? { quota: Number(r.cpuQuota) } : {}),
        ...(r.cpuPeriod ? { period: Number(r.cpuPeriod) } : {}),
      };
    }
    const info = {
      sandboxID: c.sandboxId,
      pid: c.pid,
      image: c.imageId,
      runtimeSpec: {
        process: { args: [...c.config.command, ...c.config.args] },
        linux: { resources },
      },
    };
    return { info: JSON.stringify(info) };
  }

  containerStats(c: ContainerRecord): ContainerStats {
    const ts = millisToNanos(this.now());
    return ContainerStats.fromPartial({
      attributes: {
        id: c.id,
        metadata: c.config.metadata,
        labels: c.config.labels,
        annotations: c.annotations,
      },
      cpu: { timestamp: ts, usageCoreNanoSeconds: { value: 0n } },
      memory: { timestamp: ts, workingSetBytes: { value: 0n } },
      writableLayer: { timestamp: ts, usedBytes: { value: 0n } },
    });
  }

  sandboxStats(s: SandboxRecord): PodSandboxStats {
    return PodSandboxStats.fromPartial({
      attributes: {
        id: s.id,
        metadata: s.config.metadata,
        labels: s.config.labels,
        annotations: s.config.annotations,
      },
      linux: {
        containers: this.filterContainers({ podSandboxId: s.id }).map((c) => this.containerStats(c)),
      },
    });
  }

  addImage(image: FakeImage) {
    return this.images.add(image);
  }
}
