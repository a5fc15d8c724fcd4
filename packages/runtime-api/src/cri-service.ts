import type {
  AttachRequest,
  AttachResponse,
  AuthConfig,
  CheckpointContainerRequest,
  CheckpointPodRequest,
  Container,
  ContainerConfig,
  ContainerEventResponse,
  ContainerFilter,
  ContainerStats,
  ContainerStatsFilter,
  ContainerStatusResponse,
  ExecRequest,
  ExecResponse,
  GetEventsRequest,
  Image,
  ImageFilter,
  ImageFsInfoResponse,
  ImageSpec,
  ImageStatusResponse,
  LinuxContainerResources,
  MetricDescriptor,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxMetrics,
  PodSandboxStats,
  PodSandboxStatsFilter,
  PodSandboxStatusResponse,
  PortForwardRequest,
  PortForwardResponse,
  RestorePodRequest,
  RestorePodResponse,
  RuntimeConfig,
  RuntimeConfigResponse,
  StatusResponse,
  VersionResponse,
  WindowsContainerResources,
} from "@nodelet/cri-api";

/** Per-call options every CRI method takes. */
export interface CallOptions {
  /** Cancels the call; the promise rejects with code Cancelled. */
  signal?: AbortSignal | undefined;
  /** Overrides the method's default deadline, in milliseconds. 0 means no deadline. */
  timeoutMs?: number | undefined;
}

export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

export interface ContainerResourcesUpdate {
  linux?: LinuxContainerResources | undefined;
  windows?: WindowsContainerResources | undefined;
  annotations?: Record<string, string> | undefined;
}

/** Version of the runtime and the CRI it speaks (the kubelet's RuntimeVersioner). */
export interface RuntimeVersioner {
  version(apiVersion: string, options?: CallOptions): Promise<VersionResponse>;
}

/** The kubelet's ContainerManager: container lifecycle and exec. */
export interface ContainerManager {
  createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
    options?: CallOptions,
  ): Promise<string>;
  startContainer(containerId: string, options?: CallOptions): Promise<void>;
  /** Stops with SIGTERM, then SIGKILL after `timeoutSeconds`. */
  stopContainer(containerId: string, timeoutSeconds: number, options?: CallOptions): Promise<void>;
  removeContainer(containerId: string, options?: CallOptions): Promise<void>;
  listContainers(filter?: ContainerFilter, options?: CallOptions): Promise<Container[]>;
  streamContainers(filter?: ContainerFilter, options?: CallOptions): AsyncIterable<Container[]>;
  containerStatus(
    containerId: string,
    verbose: boolean,
    options?: CallOptions,
  ): Promise<ContainerStatusResponse>;
  updateContainerResources(
    containerId: string,
    resources: ContainerResourcesUpdate,
    options?: CallOptions,
  ): Promise<void>;
  /**
   * Runs `cmd` and waits for it. `timeoutSeconds` 0 means no timeout. A non-zero exit code
   * rejects with CommandExitError (carrying stdout, stderr and the code), as the kubelet does.
   */
  execSync(
    containerId: string,
    cmd: readonly string[],
    timeoutSeconds: number,
    options?: CallOptions,
  ): Promise<ExecSyncResult>;
  exec(request: Partial<ExecRequest>, options?: CallOptions): Promise<ExecResponse>;
  attach(request: Partial<AttachRequest>, options?: CallOptions): Promise<AttachResponse>;
  reopenContainerLog(containerId: string, options?: CallOptions): Promise<void>;
  checkpointContainer(request: Partial<CheckpointContainerRequest>, options?: CallOptions): Promise<void>;
  /** Server stream of container events; Unimplemented on runtimes without it (containerd 1.6). */
  getContainerEvents(
    request?: Partial<GetEventsRequest>,
    options?: CallOptions,
  ): AsyncIterable<ContainerEventResponse>;
}

/** The kubelet's PodSandboxManager. */
export interface PodSandboxManager {
  /** Returns the new sandbox id. `runtimeHandler` is "" for the default handler. */
  runPodSandbox(config: PodSandboxConfig, runtimeHandler: string, options?: CallOptions): Promise<string>;
  stopPodSandbox(podSandboxId: string, options?: CallOptions): Promise<void>;
  removePodSandbox(podSandboxId: string, options?: CallOptions): Promise<void>;
  podSandboxStatus(
    podSandboxId: string,
    verbose: boolean,
    options?: CallOptions,
  ): Promise<PodSandboxStatusResponse>;
  listPodSandbox(filter?: PodSandboxFilter, options?: CallOptions): Promise<PodSandbox[]>;
  streamPodSandboxes(filter?: PodSandboxFilter, options?: CallOptions): AsyncIterable<PodSandbox[]>;
  portForward(request: Partial<PortForwardRequest>, options?: CallOptions): Promise<PortForwardResponse>;
  updatePodSandboxResources(
    podSandboxId: string,
    overhead: LinuxContainerResources | undefined,
    resources: LinuxContainerResources | undefined,
    options?: CallOptions,
  ): Promise<void>;
  checkpointPod(request: Partial<CheckpointPodRequest>, options?: CallOptions): Promise<void>;
  restorePod(request: Partial<RestorePodRequest>, options?: CallOptions): Promise<RestorePodResponse>;
}

/** The kubelet's ContainerStatsManager. */
export interface ContainerStatsManager {
  containerStats(containerId: string, options?: CallOptions): Promise<ContainerStats | undefined>;
  listContainerStats(filter?: ContainerStatsFilter, options?: CallOptions): Promise<ContainerStats[]>;
  streamContainerStats(filter?: ContainerStatsFilter, options?: CallOptions): AsyncIterable<ContainerStats[]>;
  podSandboxStats(podSandboxId: string, options?: CallOptions): Promise<PodSandboxStats | undefined>;
  listPodSandboxStats(filter?: PodSandboxStatsFilter, options?: CallOptions): Promise<PodSandboxStats[]>;
  streamPodSandboxStats(
    filter?: PodSandboxStatsFilter,
    options?: CallOptions,
  ): AsyncIterable<PodSandboxStats[]>;
  listMetricDescriptors(options?: CallOptions): Promise<MetricDescriptor[]>;
  listPodSandboxMetrics(options?: CallOptions): Promise<PodSandboxMetrics[]>;
  streamPodSandboxMetrics(options?: CallOptions): AsyncIterable<PodSandboxMetrics[]>;
}

/** Every RuntimeService RPC of the CRI (the kubelet's internalapi.RuntimeService). */
export interface RuntimeService
  extends RuntimeVersioner,
    ContainerManager,
    PodSandboxManager,
    ContainerStatsManager {
  updateRuntimeConfig(runtimeConfig: RuntimeConfig, options?: CallOptions): Promise<void>;
  status(verbose: boolean, options?: CallOptions): Promise<StatusResponse>;
  runtimeConfig(options?: CallOptions): Promise<RuntimeConfigResponse>;
  /** Releases the connection; later calls reject with RuntimeUnavailable. */
  close(): void;
}

/** Every ImageService RPC of the CRI (the kubelet's internalapi.ImageManagerService). */
export interface ImageManagerService {
  listImages(filter?: ImageFilter, options?: CallOptions): Promise<Image[]>;
  streamImages(filter?: ImageFilter, options?: CallOptions): AsyncIterable<Image[]>;
  /** Resolves to `image: undefined` when the image is not present (not an error, as in the CRI). */
  imageStatus(image: ImageSpec, verbose: boolean, options?: CallOptions): Promise<ImageStatusResponse>;
  /** Returns the image reference (digest or id). No deadline unless `timeoutMs` is given. */
  pullImage(
    image: ImageSpec,
    auth: AuthConfig | undefined,
    sandboxConfig: PodSandboxConfig | undefined,
    options?: CallOptions,
  ): Promise<string>;
  removeImage(image: ImageSpec, options?: CallOptions): Promise<void>;
  imageFsInfo(options?: CallOptions): Promise<ImageFsInfoResponse>;
  close(): void;
}
