import {
  type AttachRequest,
  type AttachResponse,
  type AuthConfig,
  type CheckpointContainerRequest,
  type CheckpointPodRequest,
  type Container,
  type ContainerConfig,
  type ContainerEventResponse,
  type ContainerFilter,
  ContainerState,
  type ContainerStats,
  type ContainerStatsFilter,
  type ContainerStatusResponse,
  type ExecRequest,
  type ExecResponse,
  type GetEventsRequest,
  type Image,
  type ImageFilter,
  type ImageFsInfoResponse,
  type ImageSpec,
  type ImageStatusResponse,
  type LinuxContainerResources,
  type MetricDescriptor,
  type PodSandbox,
  type PodSandboxConfig,
  type PodSandboxFilter,
  type PodSandboxMetrics,
  type PodSandboxStats,
  type PodSandboxStatsFilter,
  type PodSandboxStatusResponse,
  type PortForwardRequest,
  type PortForwardResponse,
  type RestorePodRequest,
  type RestorePodResponse,
  RuntimeCondition,
  type RuntimeConfig,
  type RuntimeConfigResponse,
  type StatusResponse,
  type VersionResponse,
} from "@nodelet/cri-api";
import {
  type CallOptions,
  CommandExitError,
  type ContainerResourcesUpdate,
  ErrorCode,
  type ExecSyncResult,
  type ImageManagerService,
  isNodeletError,
  NodeletError,
  type RuntimeService,
} from "@nodelet/runtime-api";
import type { LogStream } from "./cri-log.js";
import { FakeCore, type FakeRuntimeOptions, type RecordedCall } from "./fake-core.js";
import type { ExecHandler } from "./fake-handlers.js";
import type { FakeImage } from "./fake-images.js";
import { toImage } from "./fake-images.js";
import type { FaultSpec, InjectedFault } from "./faults.js";
import type { CriMethod, CriRequest, CriResponse } from "./methods.js";
import { type FakeRuntimeServer, type ServeOptions, serveCore } from "./server.js";
import { clientError, runtimeError } from "./status.js";

/**
 * An in-memory CRI runtime (both services) with containerd's state machine and error codes, plus
 * controls for tests. The kubelet's model is FakeRuntimeService in cri-api's pkg/apis/testing.
 */
export interface FakeRuntime extends RuntimeService, ImageManagerService {
  /** Ends a running container with this exit code (reason "Completed" for 0, else "Error", unless given). */
  exitContainer(containerId: string, exitCode: number, options?: { reason?: string; message?: string }): void;
  /** Writes output of a running container to its log file in the CRI format. */
  print(containerId: string, text: string, stream?: LogStream): void;
  /** Scripts ExecSync; the default answers exit code 0 with no output. Without an argument, back to that. */
  onExec(handler?: ExecHandler): void;
  /** Puts an image in the store without a pull. */
  addImage(image: FakeImage): Image;
  /** Sets a runtime condition that Status reports (RuntimeReady and NetworkReady start true). */
  setRuntimeCondition(type: string, status: boolean, reason?: string, message?: string): void;
  /** Makes calls of one method fail or wait; see FaultSpec. */
  injectFault<M extends CriMethod>(method: M, fault: FaultSpec<M>): InjectedFault;
  /** Removes the faults of one method, or all. */
  clearFaults(method?: CriMethod): void;
  /** The calls received so far (of one method, or all), in order. */
  calls(method?: CriMethod): readonly RecordedCall[];
  /** Serves this runtime as a gRPC CRI server on a unix socket. */
  serve(options?: ServeOptions): Promise<FakeRuntimeServer>;
}

/** Creates an empty fake runtime: no sandboxes, containers or images; RuntimeReady and NetworkReady. */
export function createFakeRuntime(options: FakeRuntimeOptions = {}): FakeRuntime {
  return new InProcessFakeRuntime(new FakeCore(options));
}

/** Serves a fake runtime as a gRPC CRI server on a unix socket (the same as `fake.serve()`). */
export function serveFakeRuntime(fake: FakeRuntime, options?: ServeOptions): Promise<FakeRuntimeServer> {
  return fake.serve(options);
}

type Stream<M extends CriMethod> = AsyncIterable<CriResponse<M>>;

class InProcessFakeRuntime implements FakeRuntime {
  readonly #core: FakeCore;
  #closed = false;

  constructor(core: FakeCore) {
    this.#core = core;
  }

  /** A signal that aborts on the caller's signal or the call's deadline (on the fake's clock). */
  #signal(options: CallOptions | undefined) {
    const controller = new AbortController();
    const onAbort = () => controller.abort(options?.signal?.reason);
    if (options?.signal?.aborted) onAbort();
    options?.signal?.addEventListener("abort", onAbort, { once: true });
    const deadline =
      options?.timeoutMs !== undefined && options.timeoutMs > 0
        ? this.#core.clock.setTimeout(() => controller.abort(DEADLINE), options.timeoutMs)
        : undefined;
    const dispose = () => {
      deadline?.cancel();
      options?.signal?.removeEventListener("abort", onAbort);
    };
    return { signal: controller.signal, dispose, controller };
  }

  #error(method: CriMethod, err: unknown, signal: AbortSignal): NodeletError {
    if (signal.aborted && err === signal.reason) {
      const code = signal.reason === DEADLINE ? ErrorCode.DeadlineExceeded : ErrorCode.Cancelled;
      return clientError(
        method,
        runtimeError(code, code === ErrorCode.Cancelled ? "context canceled" : "deadline exceeded"),
      );
    }
    return clientError(method, err as never);
  }

  #checkOpen(method: CriMethod): void {
    if (this.#closed) {
      throw new NodeletError(
        ErrorCode.RuntimeUnavailable,
        `${method}: this CRI client was closed; create a new one`,
        {
          details: { rpc: method },
        },
      );
    }
  }

  async #call<M extends CriMethod>(
    method: M,
    request: CriRequest<M>,
    options?: CallOptions,
  ): Promise<CriResponse<M>> {
    this.#checkOpen(method);
    const { signal, dispose } = this.#signal(options);
    try {
      return (await this.#core.invoke(method, request, signal)) as CriResponse<M>;
    } catch (err) {
      throw this.#error(method, err, signal);
    } finally {
      dispose();
    }
  }

  async *#stream<M extends CriMethod>(method: M, request: CriRequest<M>, options?: CallOptions): Stream<M> {
    this.#checkOpen(method);
    const { signal, dispose, controller } = this.#signal(options);
    try {
      const messages = (await this.#core.invoke(method, request, signal)) as Stream<M>;
      for await (const m of messages) yield m;
      if (signal.aborted) throw signal.reason;
    } catch (err) {
      throw this.#error(method, err, signal);
    } finally {
      controller.abort();
      dispose();
    }
  }

  // --- controls

  exitContainer(containerId: string, exitCode: number, options: { reason?: string; message?: string } = {}) {
    const c = this.#core.state.containers.get(containerId);
    if (!c) throw FakeCore.controlError(`exitContainer: no container "${containerId}"`);
    if (c.state !== ContainerState.CONTAINER_RUNNING)
      throw FakeCore.controlError(`exitContainer: container "${containerId}" is not running`);
    this.#core.state.exit(c, exitCode, options.reason, options.message ?? "");
  }

  print(containerId: string, text: string, stream: LogStream = "stdout"): void {
    try {
      this.#core.state.print(containerId, text, stream);
    } catch (err) {
      throw FakeCore.controlError(`print: ${(err as Error).message}`);
    }
  }

  onExec(handler?: ExecHandler): void {
    this.#core.exec = handler ?? (() => ({ exitCode: 0 }));
  }

  addImage(image: FakeImage): Image {
    return toImage(this.#core.state.addImage(image));
  }

  setRuntimeCondition(type: string, status: boolean, reason = "", message = ""): void {
    this.#core.conditions.set(type, RuntimeCondition.fromPartial({ type, status, reason, message }));
  }

  injectFault<M extends CriMethod>(method: M, fault: FaultSpec<M>): InjectedFault {
    return this.#core.faults.add(method, fault);
  }

  clearFaults(method?: CriMethod): void {
    this.#core.faults.clear(method);
  }

  calls(method?: CriMethod): readonly RecordedCall[] {
    return this.#core.calls.filter((c) => method === undefined || c.method === method);
  }

  serve(options?: ServeOptions): Promise<FakeRuntimeServer> {
    return serveCore(this.#core, options);
  }

  /** Later calls through this object reject with RuntimeUnavailable; the state and any server stay. */
  close(): void {
    this.#closed = true;
  }

  // --- RuntimeService

  async version(apiVersion: string, options?: CallOptions): Promise<VersionResponse> {
    return this.#call("Version", { version: apiVersion }, options);
  }

  async status(verbose: boolean, options?: CallOptions): Promise<StatusResponse> {
    return this.#call("Status", { verbose }, options);
  }

  async runtimeConfig(options?: CallOptions): Promise<RuntimeConfigResponse> {
    return this.#call("RuntimeConfig", {}, options);
  }

  async updateRuntimeConfig(runtimeConfig: RuntimeConfig, options?: CallOptions): Promise<void> {
    await this.#call("UpdateRuntimeConfig", { runtimeConfig }, options);
  }

  async runPodSandbox(
    config: PodSandboxConfig,
    runtimeHandler: string,
    options?: CallOptions,
  ): Promise<string> {
    return (await this.#call("RunPodSandbox", { config, runtimeHandler }, options)).podSandboxId;
  }

  async stopPodSandbox(podSandboxId: string, options?: CallOptions): Promise<void> {
    await this.#call("StopPodSandbox", { podSandboxId }, options);
  }

  async removePodSandbox(podSandboxId: string, options?: CallOptions): Promise<void> {
    await this.#call("RemovePodSandbox", { podSandboxId }, options);
  }

  async podSandboxStatus(
    podSandboxId: string,
    verbose: boolean,
    options?: CallOptions,
  ): Promise<PodSandboxStatusResponse> {
    return this.#call("PodSandboxStatus", { podSandboxId, verbose }, options);
  }

  async listPodSandbox(filter?: PodSandboxFilter, options?: CallOptions): Promise<PodSandbox[]> {
    return (await this.#call("ListPodSandbox", { filter }, options)).items;
  }

  async *streamPodSandboxes(filter?: PodSandboxFilter, options?: CallOptions): AsyncIterable<PodSandbox[]> {
    for await (const m of this.#stream("StreamPodSandboxes", { filter }, options)) yield m.podSandboxes;
  }

  async portForward(
    request: Partial<PortForwardRequest>,
    options?: CallOptions,
  ): Promise<PortForwardResponse> {
    return this.#call("PortForward", { podSandboxId: "", port: [], ...request }, options);
  }

  async updatePodSandboxResources(
    podSandboxId: string,
    overhead: LinuxContainerResources | undefined,
    resources: LinuxContainerResources | undefined,
    options?: CallOptions,
  ): Promise<void> {
    await this.#call("UpdatePodSandboxResources", { podSandboxId, overhead, resources }, options);
  }

  async checkpointPod(request: Partial<CheckpointPodRequest>, options?: CallOptions): Promise<void> {
    await this.#call("CheckpointPod", request as CheckpointPodRequest, options);
  }

  async restorePod(request: Partial<RestorePodRequest>, options?: CallOptions): Promise<RestorePodResponse> {
    return this.#call("RestorePod", request as RestorePodRequest, options);
  }

  async createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
    options?: CallOptions,
  ): Promise<string> {
    return (await this.#call("CreateContainer", { podSandboxId, config, sandboxConfig }, options))
      .containerId;
  }

  async startContainer(containerId: string, options?: CallOptions): Promise<void> {
    await this.#call("StartContainer", { containerId }, options);
  }

  async stopContainer(containerId: string, timeoutSeconds: number, options?: CallOptions): Promise<void> {
    const timeout = BigInt(Math.max(0, Math.trunc(timeoutSeconds)));
    await this.#call("StopContainer", { containerId, timeout }, options);
  }

  async removeContainer(containerId: string, options?: CallOptions): Promise<void> {
    await this.#call("RemoveContainer", { containerId }, options);
  }

  async listContainers(filter?: ContainerFilter, options?: CallOptions): Promise<Container[]> {
    return (await this.#call("ListContainers", { filter }, options)).containers;
  }

  async *streamContainers(filter?: ContainerFilter, options?: CallOptions): AsyncIterable<Container[]> {
    for await (const m of this.#stream("StreamContainers", { filter }, options)) yield m.containers;
  }

  async containerStatus(
    containerId: string,
    verbose: boolean,
    options?: CallOptions,
  ): Promise<ContainerStatusResponse> {
    return this.#call("ContainerStatus", { containerId, verbose }, options);
  }

  async updateContainerResources(
    containerId: string,
    resources: ContainerResourcesUpdate,
    options?: CallOptions,
  ): Promise<void> {
    const { linux, windows, annotations = {} } = resources;
    await this.#call("UpdateContainerResources", { containerId, linux, windows, annotations }, options);
  }

  async execSync(
    containerId: string,
    cmd: readonly string[],
    timeoutSeconds: number,
    options?: CallOptions,
  ): Promise<ExecSyncResult> {
    const seconds = Math.max(0, Math.ceil(timeoutSeconds));
    let res: CriResponse<"ExecSync">;
    try {
      res = await this.#call("ExecSync", { containerId, cmd: [...cmd], timeout: BigInt(seconds) }, options);
    } catch (err) {
      // As cri-remote: a deadline is the command timing out.
      if (!isNodeletError(err, ErrorCode.DeadlineExceeded)) throw err;
      throw new NodeletError(
        ErrorCode.CommandTimedOut,
        `command '${cmd.join(" ")}' timed out after ${seconds}s`,
        {
          cause: err,
          details: { containerId, timeoutSeconds: seconds },
        },
      );
    }
    if (res.exitCode !== 0) throw new CommandExitError(cmd, res.exitCode, res.stdout, res.stderr);
    return { stdout: res.stdout, stderr: res.stderr, exitCode: 0 };
  }

  async exec(request: Partial<ExecRequest>, options?: CallOptions): Promise<ExecResponse> {
    const full = {
      containerId: "",
      cmd: [],
      tty: false,
      stdin: false,
      stdout: false,
      stderr: false,
      ...request,
    };
    return this.#call("Exec", full, options);
  }

  async attach(request: Partial<AttachRequest>, options?: CallOptions): Promise<AttachResponse> {
    const full = { containerId: "", tty: false, stdin: false, stdout: false, stderr: false, ...request };
    return this.#call("Attach", full, options);
  }

  async reopenContainerLog(containerId: string, options?: CallOptions): Promise<void> {
    await this.#call("ReopenContainerLog", { containerId }, options);
  }

  async checkpointContainer(
    request: Partial<CheckpointContainerRequest>,
    options?: CallOptions,
  ): Promise<void> {
    await this.#call("CheckpointContainer", request as CheckpointContainerRequest, options);
  }

  getContainerEvents(
    request?: Partial<GetEventsRequest>,
    options?: CallOptions,
  ): AsyncIterable<ContainerEventResponse> {
    return this.#stream("GetContainerEvents", { ...request }, options);
  }

  async containerStats(containerId: string, options?: CallOptions): Promise<ContainerStats | undefined> {
    return (await this.#call("ContainerStats", { containerId }, options)).stats;
  }

  async listContainerStats(filter?: ContainerStatsFilter, options?: CallOptions): Promise<ContainerStats[]> {
    return (await this.#call("ListContainerStats", { filter }, options)).stats;
  }

  async *streamContainerStats(
    filter?: ContainerStatsFilter,
    options?: CallOptions,
  ): AsyncIterable<ContainerStats[]> {
    for await (const m of this.#stream("StreamContainerStats", { filter }, options)) yield m.containerStats;
  }

  async podSandboxStats(podSandboxId: string, options?: CallOptions): Promise<PodSandboxStats | undefined> {
    return (await this.#call("PodSandboxStats", { podSandboxId }, options)).stats;
  }

  async listPodSandboxStats(
    filter?: PodSandboxStatsFilter,
    options?: CallOptions,
  ): Promise<PodSandboxStats[]> {
    return (await this.#call("ListPodSandboxStats", { filter }, options)).stats;
  }

  async *streamPodSandboxStats(
    filter?: PodSandboxStatsFilter,
    options?: CallOptions,
  ): AsyncIterable<PodSandboxStats[]> {
    for await (const m of this.#stream("StreamPodSandboxStats", { filter }, options)) yield m.podSandboxStats;
  }

  async listMetricDescriptors(options?: CallOptions): Promise<MetricDescriptor[]> {
    return (await this.#call("ListMetricDescriptors", {}, options)).descriptors;
  }

  async listPodSandboxMetrics(options?: CallOptions): Promise<PodSandboxMetrics[]> {
    return (await this.#call("ListPodSandboxMetrics", {}, options)).podMetrics;
  }

  async *streamPodSandboxMetrics(options?: CallOptions): AsyncIterable<PodSandboxMetrics[]> {
    for await (const m of this.#stream("StreamPodSandboxMetrics", {}, options)) yield m.podSandboxMetrics;
  }

  // --- ImageManagerService

  async listImages(filter?: ImageFilter, options?: CallOptions): Promise<Image[]> {
    return (await this.#call("ListImages", { filter }, options)).images;
  }

  async *streamImages(filter?: ImageFilter, options?: CallOptions): AsyncIterable<Image[]> {
    for await (const m of this.#stream("StreamImages", { filter }, options)) yield m.images;
  }

  async imageStatus(image: ImageSpec, verbose: boolean, options?: CallOptions): Promise<ImageStatusResponse> {
    return this.#call("ImageStatus", { image, verbose }, options);
  }

  async pullImage(
    image: ImageSpec,
    auth: AuthConfig | undefined,
    sandboxConfig: PodSandboxConfig | undefined,
    options?: CallOptions,
  ): Promise<string> {
    return (await this.#call("PullImage", { image, auth, sandboxConfig }, options)).imageRef;
  }

  async removeImage(image: ImageSpec, options?: CallOptions): Promise<void> {
    await this.#call("RemoveImage", { image }, options);
  }

  async imageFsInfo(options?: CallOptions): Promise<ImageFsInfoResponse> {
    return this.#call("ImageFsInfo", {}, options);
  }
}

/** The abort reason of an in-process call's deadline. */
const DEADLINE = Symbol("deadline");
