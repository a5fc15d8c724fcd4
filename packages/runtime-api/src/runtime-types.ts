import { type AuthConfig, PodSandboxState, type PodSandboxStatus } from "@nodelet/cri-api";
import { ErrorCode, NodeletError } from "./errors.js";

/** A container as the kubelet names it: `<runtime type>://<id>`, e.g. `containerd://4f2a...`. */
export interface ContainerID {
  type: string;
  id: string;
}

export function formatContainerID(id: ContainerID): string {
  return `${id.type}://${id.id}`;
}

export function parseContainerID(text: string): ContainerID {
  const parts = text.split("://");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
    throw new NodeletError(
      ErrorCode.InvalidArgument,
      `invalid container ID "${text}": expected <type>://<id>`,
    );
  }
  return { type: parts[0] as string, id: parts[1] as string };
}

export type ContainerStateName = "created" | "running" | "exited" | "unknown";

/** A sandbox's CRI state in the kubelet's container terms: ready is running, not ready exited. */
export function sandboxStateName(state: PodSandboxState): ContainerStateName {
  if (state === PodSandboxState.SANDBOX_READY) return "running";
  if (state === PodSandboxState.SANDBOX_NOTREADY) return "exited";
  return "unknown";
}

/** A container (or a sandbox, in Pod.sandboxes) as the runtime lists it. */
export interface Container {
  id: ContainerID;
  name: string;
  image: string;
  imageID: string;
  imageRef: string;
  imageRuntimeHandler: string;
  /** The container hash label (hex), "" when absent. */
  hash: string;
  state: ContainerStateName;
  /** Creation time in ms since the epoch. */
  createdAt: number;
}

/** The runtime's view of a pod: what is actually there, grouped by pod UID. */
export interface Pod {
  id: string;
  name: string;
  namespace: string;
  /** Creation of the newest sandbox, ms since the epoch (0 when none). */
  createdAt: number;
  containers: Container[];
  sandboxes: Container[];
}

export type ContainerType = "init" | "container" | "ephemeral";

/** One container's status, from ContainerStatus plus the kubelet's labels and annotations. */
export interface ContainerStatus {
  id: ContainerID;
  name: string;
  state: ContainerStateName;
  createdAt: Date | undefined;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  exitCode: number;
  image: string;
  imageID: string;
  imageRef: string;
  imageRuntimeHandler: string;
  hash: string;
  restartCount: number;
  reason: string;
  message: string;
  containerType: ContainerType;
  logPath: string;
}

/** A sandbox status as the CRI reports it. */
export type SandboxStatus = PodSandboxStatus;

/** Everything the runtime knows about one pod; statuses newest first. */
export interface PodStatus {
  id: string;
  name: string;
  namespace: string;
  /** Pod IPs from the newest READY sandbox, primary first. */
  ips: string[];
  containerStatuses: ContainerStatus[];
  sandboxStatuses: SandboxStatus[];
  /** When this status was read, ms since the epoch. */
  timestamp: number;
}

/** The newest status of the container called `name` (statuses are newest first). */
export function findContainerStatusByName(status: PodStatus, name: string): ContainerStatus | undefined {
  return status.containerStatuses.find((c) => c.name === name);
}

export interface ImageSpec {
  image: string;
  runtimeHandler?: string | undefined;
  annotations?: Record<string, string> | undefined;
}

export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  spec: ImageSpec;
  pinned: boolean;
}

export interface ImageStats {
  totalStorageBytes: number;
}

export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface RuntimeStatus {
  conditions: RuntimeCondition[];
  handlers: { name: string; recursiveReadOnlyMounts: boolean; userNamespaces: boolean }[];
  features: { supplementalGroupsPolicy: boolean };
}

export function runtimeCondition(status: RuntimeStatus, type: string): RuntimeCondition | undefined {
  return status.conditions.find((c) => c.type === type);
}

/** Container garbage collection policy (the kubelet's GCPolicy). */
export interface GCPolicy {
  /** Minimum age of a dead container before it may be removed, ms. */
  minAgeMs: number;
  /** Dead containers kept per (pod, container name); < 0 means no limit. */
  maxPerPodContainer: number;
  /** Dead containers kept on the node; < 0 means no limit. */
  maxContainers: number;
}

export type SyncAction =
  | "StartContainer"
  | "KillContainer"
  | "SetupNetwork"
  | "TeardownNetwork"
  | "InitContainer"
  | "CreatePodSandbox"
  | "ConfigPodSandbox"
  | "KillPodSandbox"
  | "ResizePodInPlace";

/** One step of a syncPod and how it ended. */
export interface SyncResult {
  action: SyncAction;
  /** What the step acted on: a container name, a sandbox or pod id. */
  target: string;
  /** The kubelet's reason when the step failed (CrashLoopBackOff, ErrImagePull, RunContainerError...). */
  error?: ErrorCode | undefined;
  message: string;
}

/** The outcome of a syncPod: every step, plus a failure that stopped the sync before any step. */
export class PodSyncResult {
  readonly syncResults: SyncResult[] = [];
  syncError: NodeletError | undefined;

  add(result: SyncResult): SyncResult {
    this.syncResults.push(result);
    return result;
  }

  addAll(other: PodSyncResult): void {
    this.syncResults.push(...other.syncResults);
    if (other.syncError && !this.syncError) this.syncError = other.syncError;
  }

  fail(error: NodeletError): void {
    this.syncError = error;
  }

  /** The first failure as an error (the sync error, else the first failed step), or undefined. */
  error(): NodeletError | undefined {
    if (this.syncError) return this.syncError;
    const failed = this.syncResults.filter((r) => r.error !== undefined);
    if (failed.length === 0) return undefined;
    const first = failed[0] as SyncResult;
    return new NodeletError(
      first.error as ErrorCode,
      failed
        .map((r) => `failed to "${r.action}" for "${r.target}" with ${r.error}: "${r.message}"`)
        .join("; "),
      { details: { results: failed } },
    );
  }
}

/** A runtime version, comparable: "1.6.20~ds1" compares as 1.6.20. */
export class Version {
  readonly components: readonly number[];
  readonly text: string;

  private constructor(text: string, components: number[]) {
    this.text = text;
    this.components = components;
  }

  static parse(text: string): Version {
    const match = /^v?(\d+(?:\.\d+)*)/.exec(text.trim());
    if (!match) {
      throw new NodeletError(
        ErrorCode.InvalidArgument,
        `cannot parse version "${text}": expected a dotted number`,
      );
    }
    return new Version(text, (match[1] as string).split(".").map(Number));
  }

  compare(other: Version | string): -1 | 0 | 1 {
    const b = typeof other === "string" ? Version.parse(other) : other;
    const n = Math.max(this.components.length, b.components.length);
    for (let i = 0; i < n; i++) {
      const x = this.components[i] ?? 0;
      const y = b.components[i] ?? 0;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  }

  toString(): string {
    return this.text;
  }
}

/** Credentials for one registry, as the CRI takes them. */
export type RegistryAuth = AuthConfig;
