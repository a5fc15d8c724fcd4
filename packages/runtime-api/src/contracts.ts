import type { AuthConfig, PodSandboxConfig } from "@nodelet/cri-api";
import type { Backoff } from "./backoff.js";
import type { V1Container, V1LifecycleHandler, V1Pod, V1PodLogOptions, V1Secret } from "./k8s-types.js";
import type { ObjectReference } from "./object-reference.js";
import type {
  ContainerID,
  GCPolicy,
  Image,
  ImageSpec,
  ImageStats,
  Pod,
  PodStatus,
  PodSyncResult,
  RuntimeStatus,
  Version,
} from "./runtime-types.js";

/** Options for calls that can take long. */
export interface SignalOptions {
  signal?: AbortSignal | undefined;
}

/** The kubelet's ImageService contract: images as the Runtime exposes them. */
export interface ImageService {
  /** Pulls with credentials from the pull secrets and the keyring; returns the image reference. */
  pullImage(
    image: ImageSpec,
    pullSecrets: readonly V1Secret[],
    sandboxConfig: PodSandboxConfig | undefined,
    options?: SignalOptions,
  ): Promise<string>;
  /** The image's id, or "" when it is not present. */
  getImageRef(image: ImageSpec): Promise<string>;
  listImages(): Promise<Image[]>;
  removeImage(image: ImageSpec): Promise<void>;
  imageStats(): Promise<ImageStats>;
}

/** The kubelet's container Runtime contract. */
export interface Runtime extends ImageService {
  /** The runtime's name (e.g. "containerd"); also the type of every ContainerID. */
  type(): string;
  supportsSingleFileMapping(): boolean;
  version(): Promise<Version>;
  /** The CRI version the runtime speaks (cached). */
  apiVersion(): Promise<Version>;
  status(): Promise<RuntimeStatus>;
  /** Pods as the runtime has them; only running ones unless `all`. Newest first. */
  getPods(all: boolean): Promise<Pod[]>;
  garbageCollect(policy: GCPolicy, allSourcesReady: boolean, evictNonDeletedPods: boolean): Promise<void>;
  /** Moves the pod towards its spec: sandbox, init containers, sidecars, app containers. */
  syncPod(
    pod: V1Pod,
    podStatus: PodStatus,
    pullSecrets: readonly V1Secret[],
    backOff: Backoff,
    options?: SignalOptions,
  ): Promise<PodSyncResult>;
  /** Stops every container and sandbox of the pod. `pod` may be undefined (rebuilt from labels). */
  killPod(pod: V1Pod | undefined, runningPod: Pod, gracePeriodOverrideSeconds?: number): Promise<void>;
  getPodStatus(uid: string, name: string, namespace: string): Promise<PodStatus>;
  getContainerLogs(
    pod: V1Pod,
    containerId: ContainerID,
    logOptions: V1PodLogOptions,
    stdout: NodeJS.WritableStream,
    stderr: NodeJS.WritableStream,
    options?: SignalOptions,
  ): Promise<void>;
  deleteContainer(containerId: ContainerID): Promise<void>;
  updatePodCIDR(podCIDR: string): Promise<void>;
}

/** The kubelet's StreamingRuntime: URLs of the runtime's streaming server. */
export interface StreamingRuntime {
  getExec(
    containerId: ContainerID,
    cmd: readonly string[],
    streams: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean },
  ): Promise<URL>;
  getAttach(
    containerId: ContainerID,
    streams: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean },
  ): Promise<URL>;
  getPortForward(
    podName: string,
    podNamespace: string,
    podUid: string,
    ports: readonly number[],
  ): Promise<URL>;
}

/** The kubelet's CommandRunner: run a command in a container and collect its output. */
export interface CommandRunner {
  /**
   * stdout then stderr, concatenated. `timeoutSeconds` 0 means none. A non-zero exit rejects with
   * CommandExitError; a timeout with CommandTimedOut.
   */
  runInContainer(containerId: ContainerID, cmd: readonly string[], timeoutSeconds: number): Promise<Buffer>;
}

export type KubeGenericRuntime = Runtime & StreamingRuntime & CommandRunner;

// What kuberuntime composes. Each is an interface so a third party can bring its own.

/** Makes sure a container's image is present, following its pull policy and backoff. */
export interface ImageManager {
  /**
   * Resolves to the image reference to create the container with. Rejects with ErrImagePull,
   * ImagePullBackOff, ErrImageNeverPull or InvalidImageName.
   */
  ensureImageExists(
    pod: V1Pod,
    container: V1Container,
    pullSecrets: readonly V1Secret[],
    sandboxConfig: PodSandboxConfig | undefined,
    options?: SignalOptions,
  ): Promise<string>;
}

/**
 * Credentials for an image, in the order to try them: the pod's pull secrets, the node's docker
 * config, then credential-provider plugins; most specific match first within each. Empty when
 * nothing matches (then the pull is anonymous). `image` may carry a tag or digest.
 */
export interface DockerKeyring {
  lookup(image: string, options?: { pullSecrets?: readonly V1Secret[] | undefined }): Promise<AuthConfig[]>;
}

/** Progress of a pull, as much as the puller knows; at least the elapsed time. */
export interface ImagePullProgress {
  image: string;
  elapsedMs: number;
  bytesDone?: number | undefined;
  bytesTotal?: number | undefined;
  layersDone?: number | undefined;
  layersTotal?: number | undefined;
}

export interface ImagePullRequest {
  image: string;
  /** One credential to use; undefined for an anonymous pull. */
  auth?: AuthConfig | undefined;
  sandboxConfig?: PodSandboxConfig | undefined;
  signal?: AbortSignal | undefined;
  /** Called while the pull runs (the default puller: elapsed time every 10 s at least). */
  onProgress?: ((progress: ImagePullProgress) => void) | undefined;
}

export interface ImagePullResult {
  /** The image reference (id or digest) to create containers with. */
  imageRef: string;
  /** Size in bytes when known. */
  imageSize?: number | undefined;
}

/**
 * Pulls one image with one credential. The plugin point for third parties: the image manager
 * decides when to pull and with which credentials, the puller only moves bytes.
 */
export interface ImagePuller {
  pullImage(request: ImagePullRequest): Promise<ImagePullResult>;
}

export type ProbeResult = "Success" | "Failure" | "Unknown";

/** Liveness and startup results by container, as the prober last published them. */
export interface ProbeResults {
  liveness(containerId: ContainerID): ProbeResult | undefined;
  startup(containerId: ContainerID): ProbeResult | undefined;
}

/** What the log manager is told when a container started (its legacy symlink is made from it). */
export interface StartedContainerLog {
  containerId: string;
  podName: string;
  podNamespace: string;
  containerName: string;
  /** The container's log file, absolute (the sandbox's log directory + the container's log path). */
  logPath: string;
}

/**
 * Container log rotation and cleanup (the kubelet's ContainerLogManager, pkg/kubelet/logs):
 * @nodelet/logs implements it; kuberuntime takes any object that satisfies it.
 */
export interface ContainerLogManager {
  /**
   * Removes a container's log files (`<logPath>` and every rotated `<logPath>.*`) and its legacy
   * symlink, before the container itself is removed; a container or file already gone counts as
   * cleaned. Rejects when a file could not be removed (the caller keeps the container to retry).
   */
  clean(containerId: string): Promise<void>;
  /** A container started: make its legacy log symlink (best effort; never rejects). */
  containerStarted?(container: StartedContainerLog): Promise<void>;
  /** Starts the periodic rotation (every containerLogMonitorInterval); idempotent. */
  start?(): void;
  /** Stops the periodic rotation and waits for a rotation or compression in progress. */
  stop?(): Promise<void>;
}

/** Runs lifecycle hooks (postStart, preStop). */
export interface HandlerRunner {
  /** Resolves with a message (possibly empty); rejects when the hook failed. */
  run(
    containerId: ContainerID,
    pod: V1Pod,
    container: V1Container,
    handler: V1LifecycleHandler,
    options?: SignalOptions,
  ): Promise<string>;
}

/** Maps a pod's runtimeClassName to a CRI runtime handler. */
export interface RuntimeClassResolver {
  /** "" for the default handler; rejects when the class is unknown. */
  lookupRuntimeHandler(runtimeClassName: string | undefined): Promise<string>;
}

export type EventType = "Normal" | "Warning";

/** Where the kubelet's events go (Pulling, Created, Started, Killing, BackOff...). */
export interface EventRecorder {
  event(object: ObjectReference, type: EventType, reason: string, message: string): void;
}
