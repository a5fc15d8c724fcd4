import {
  AttachRequest,
  CheckpointContainerRequest,
  CheckpointPodRequest,
  Container,
  type ContainerConfig,
  type ContainerEventResponse,
  type ContainerFilter,
  type ContainerStats,
  type ContainerStatsFilter,
  ContainerStatsRequest,
  ContainerStatusRequest,
  type ContainerStatusResponse,
  CreateContainerRequest,
  ExecRequest,
  type ExecResponse,
  ExecSyncRequest,
  type ExecSyncResponse,
  GetEventsRequest,
  type LinuxContainerResources,
  ListContainerStatsRequest,
  ListContainersRequest,
  ListMetricDescriptorsRequest,
  ListPodSandboxMetricsRequest,
  ListPodSandboxRequest,
  ListPodSandboxStatsRequest,
  type MetricDescriptor,
  PodSandbox,
  type PodSandboxConfig,
  type PodSandboxFilter,
  type PodSandboxMetrics,
  type PodSandboxStats,
  type PodSandboxStatsFilter,
  PodSandboxStatsRequest,
  PodSandboxStatusRequest,
  type PodSandboxStatusResponse,
  PortForwardRequest,
  type PortForwardResponse,
  RemoveContainerRequest,
  RemovePodSandboxRequest,
  ReopenContainerLogRequest,
  RestorePodRequest,
  type RestorePodResponse,
  RunPodSandboxRequest,
  type RuntimeConfig,
  RuntimeConfigRequest,
  type RuntimeConfigResponse,
  RuntimeServiceService,
  StartContainerRequest,
  StatusRequest,
  type StatusResponse,
  StopContainerRequest,
  StopPodSandboxRequest,
  StreamContainerStatsRequest,
  StreamContainersRequest,
  StreamPodSandboxesRequest,
  StreamPodSandboxMetricsRequest,
  StreamPodSandboxStatsRequest,
  UpdateContainerResourcesRequest,
  UpdatePodSandboxResourcesRequest,
  UpdateRuntimeConfigRequest,
  VersionRequest,
  type VersionResponse,
} from "@nodelet/cri-api";
import {
  assertSupportedRuntimeVersion,
  type CallOptions,
  CommandExitError,
  type ContainerResourcesUpdate,
  CRI_VERSION,
  ErrorCode,
  type ExecSyncResult,
  isNodeletError,
  NodeletError,
  type RuntimeService,
} from "@nodelet/runtime-api";
import { Connection } from "./connection.js";
import { checkSocket, parseEndpoint } from "./endpoint.js";
import { ListItemMemo } from "./list-memo.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, type RemoteServiceOptions } from "./options.js";
import {
  validateContainerStatus,
  validateId,
  validateSandboxStatus,
  validateStatus,
  validateUrl,
  validateVersion,
} from "./validate.js";

const rpc = RuntimeServiceService;

/**
 * Connects to a CRI runtime and checks, as the kubelet does, that it speaks CRI v1.
 * Rejects with InvalidEndpoint, RuntimeUnavailable, NotCriRuntime or UnsupportedRuntimeApiVersion.
 */
export async function createRemoteRuntimeService(
  endpoint: string,
  options: RemoteServiceOptions = {},
): Promise<RuntimeService> {
  const parsed = parseEndpoint(endpoint);
  await checkSocket(parsed);
  const service = new RemoteRuntimeService(new Connection(parsed, options));
  try {
    const answer = await service.version(CRI_VERSION, {
      signal: options.signal,
      timeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
    assertSupportedRuntimeVersion(answer);
  } catch (err) {
    service.close();
    throw notCriRuntime(err, endpoint, "RuntimeService");
  }
  return service;
}

/** A gRPC server that lacks the CRI service answers Unimplemented: say what that means here. */
export function notCriRuntime(err: unknown, endpoint: string, service: string): unknown {
  if (!isNodeletError(err, ErrorCode.Unimplemented)) return err;
  return new NodeletError(
    ErrorCode.NotCriRuntime,
    `the gRPC server at ${endpoint} does not serve the CRI ${service} (runtime.v1): ` +
      "point the endpoint at a CRI runtime's socket (for containerd, check that its cri plugin is enabled)",
    { cause: err, details: { endpoint } },
  );
}

class RemoteRuntimeService implements RuntimeService {
  readonly #conn: Connection;
  // Map fields: Container's labels (8) and annotations (9); PodSandbox's labels (5) and annotations (6).
  readonly #containers = new ListItemMemo((bytes) => Container.decode(bytes), [8, 9]);
  readonly #sandboxes = new ListItemMemo((bytes) => PodSandbox.decode(bytes), [5, 6]);

  constructor(conn: Connection) {
    this.#conn = conn;
  }

  async version(apiVersion: string, options?: CallOptions): Promise<VersionResponse> {
    const res = await this.#conn.call(
      "Version",
      rpc.version,
      VersionRequest.fromPartial({ version: apiVersion }),
      options,
    );
    return validateVersion(res);
  }

  async runPodSandbox(
    config: PodSandboxConfig,
    runtimeHandler: string,
    options?: CallOptions,
  ): Promise<string> {
    const res = await this.#conn.call(
      "RunPodSandbox",
      rpc.runPodSandbox,
      RunPodSandboxRequest.fromPartial({ config, runtimeHandler }),
      options,
      // Sandbox creation sets up the network too: the kubelet allows it twice the usual time.
      this.#conn.requestTimeoutMs * 2,
    );
    return validateId("RunPodSandbox", res.podSandboxId);
  }

  async stopPodSandbox(podSandboxId: string, options?: CallOptions): Promise<void> {
    await this.#conn.call(
      "StopPodSandbox",
      rpc.stopPodSandbox,
      StopPodSandboxRequest.fromPartial({ podSandboxId }),
      options,
    );
  }

  async removePodSandbox(podSandboxId: string, options?: CallOptions): Promise<void> {
    await this.#conn.call(
      "RemovePodSandbox",
      rpc.removePodSandbox,
      RemovePodSandboxRequest.fromPartial({ podSandboxId }),
      options,
    );
  }

  async podSandboxStatus(
    podSandboxId: string,
    verbose: boolean,
    options?: CallOptions,
  ): Promise<PodSandboxStatusResponse> {
    const res = await this.#conn.call(
      "PodSandboxStatus",
      rpc.podSandboxStatus,
      PodSandboxStatusRequest.fromPartial({ podSandboxId, verbose }),
      options,
    );
    return validateSandboxStatus(res);
  }

  /** Unchanged items are shared with earlier answers and frozen (list-memo.ts). */
  async listPodSandbox(filter?: PodSandboxFilter, options?: CallOptions): Promise<PodSandbox[]> {
    const remember = isEmptyFilter(filter);
    const res = await this.#conn.call(
      "ListPodSandbox",
      {
        ...rpc.listPodSandbox,
        responseDeserialize: (buf: Buffer) => ({ items: this.#sandboxes.decode(buf, remember) }),
      },
      ListPodSandboxRequest.fromPartial({ filter }),
      options,
    );
    return res.items;
  }

  async *streamPodSandboxes(filter?: PodSandboxFilter, options?: CallOptions): AsyncIterable<PodSandbox[]> {
    const request = StreamPodSandboxesRequest.fromPartial({ filter });
    for await (const m of this.#conn.stream("StreamPodSandboxes", rpc.streamPodSandboxes, request, options)) {
      yield m.podSandboxes;
    }
  }

  async portForward(
    request: Partial<PortForwardRequest>,
    options?: CallOptions,
  ): Promise<PortForwardResponse> {
    const res = await this.#conn.call(
      "PortForward",
      rpc.portForward,
      PortForwardRequest.fromPartial(request),
      options,
    );
    validateUrl("PortForward", res.url);
    return res;
  }

  async updatePodSandboxResources(
    podSandboxId: string,
    overhead: LinuxContainerResources | undefined,
    resources: LinuxContainerResources | undefined,
    options?: CallOptions,
  ): Promise<void> {
    await this.#conn.call(
      "UpdatePodSandboxResources",
      rpc.updatePodSandboxResources,
      UpdatePodSandboxResourcesRequest.fromPartial({ podSandboxId, overhead, resources }),
      options,
    );
  }

  async checkpointPod(request: Partial<CheckpointPodRequest>, options?: CallOptions): Promise<void> {
    await this.#conn.call(
      "CheckpointPod",
      rpc.checkpointPod,
      CheckpointPodRequest.fromPartial(request),
      options,
    );
  }

  async restorePod(request: Partial<RestorePodRequest>, options?: CallOptions): Promise<RestorePodResponse> {
    return this.#conn.call("RestorePod", rpc.restorePod, RestorePodRequest.fromPartial(request), options);
  }

  async createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
    options?: CallOptions,
  ): Promise<string> {
    const res = await this.#conn.call(
      "CreateContainer",
      rpc.createContainer,
      CreateContainerRequest.fromPartial({ podSandboxId, config, sandboxConfig }),
      options,
    );
    return validateId("CreateContainer", res.containerId);
  }

  async startContainer(containerId: string, options?: CallOptions): Promise<void> {
    await this.#conn.call(
      "StartContainer",
      rpc.startContainer,
      StartContainerRequest.fromPartial({ containerId }),
      options,
    );
  }

  async stopContainer(containerId: string, timeoutSeconds: number, options?: CallOptions): Promise<void> {
    // The runtime may wait the whole grace period before killing: allow that on top of the usual deadline.
    await this.#conn.call(
      "StopContainer",
      rpc.stopContainer,
      StopContainerRequest.fromPartial({
        containerId,
        timeout: BigInt(Math.max(0, Math.trunc(timeoutSeconds))),
      }),
      options,
      this.#conn.requestTimeoutMs + Math.max(0, timeoutSeconds) * 1000,
    );
  }

  async removeContainer(containerId: string, options?: CallOptions): Promise<void> {
    await this.#conn.call(
      "RemoveContainer",
      rpc.removeContainer,
      RemoveContainerRequest.fromPartial({ containerId }),
      options,
    );
  }

  /** Unchanged items are shared with earlier answers and frozen (list-memo.ts). */
  async listContainers(filter?: ContainerFilter, options?: CallOptions): Promise<Container[]> {
    const remember = isEmptyFilter(filter);
    const res = await this.#conn.call(
      "ListContainers",
      {
        ...rpc.listContainers,
        responseDeserialize: (buf: Buffer) => ({ containers: this.#containers.decode(buf, remember) }),
      },
      ListContainersRequest.fromPartial({ filter }),
      options,
    );
    return res.containers;
  }

  async *streamContainers(filter?: ContainerFilter, options?: CallOptions): AsyncIterable<Container[]> {
    const request = StreamContainersRequest.fromPartial({ filter });
    for await (const m of this.#conn.stream("StreamContainers", rpc.streamContainers, request, options))
      yield m.containers;
  }

  async containerStatus(
    containerId: string,
    verbose: boolean,
    options?: CallOptions,
  ): Promise<ContainerStatusResponse> {
    const res = await this.#conn.call(
      "ContainerStatus",
      rpc.containerStatus,
      ContainerStatusRequest.fromPartial({ containerId, verbose }),
      options,
    );
    return validateContainerStatus(res);
  }

  async updateContainerResources(
    containerId: string,
    resources: ContainerResourcesUpdate,
    options?: CallOptions,
  ): Promise<void> {
    await this.#conn.call(
      "UpdateContainerResources",
      rpc.updateContainerResources,
      UpdateContainerResourcesRequest.fromPartial({
        containerId,
        linux: resources.linux,
        windows: resources.windows,
        annotations: resources.annotations ?? {},
      }),
      options,
    );
  }

  async execSync(
    containerId: string,
    cmd: readonly string[],
    timeoutSeconds: number,
    options?: CallOptions,
  ): Promise<ExecSyncResult> {
    const seconds = Math.max(0, Math.ceil(timeoutSeconds));
    // No deadline for an unbounded command; otherwise the command's time plus the usual deadline.
    const deadlineMs = seconds === 0 ? 0 : this.#conn.requestTimeoutMs + seconds * 1000;
    let res: ExecSyncResponse;
    try {
      res = await this.#conn.call(
        "ExecSync",
        rpc.execSync,
        ExecSyncRequest.fromPartial({ containerId, cmd: [...cmd], timeout: BigInt(seconds) }),
        options,
        deadlineMs,
      );
    } catch (err) {
      if (isNodeletError(err, ErrorCode.DeadlineExceeded)) {
        throw new NodeletError(
          ErrorCode.CommandTimedOut,
          `command '${cmd.join(" ")}' timed out after ${seconds}s`,
          {
            cause: err,
            details: { containerId, timeoutSeconds: seconds },
          },
        );
      }
      throw err;
    }
    if (res.exitCode !== 0) throw new CommandExitError(cmd, res.exitCode, res.stdout, res.stderr);
    return { stdout: res.stdout, stderr: res.stderr, exitCode: res.exitCode };
  }

  async exec(request: Partial<ExecRequest>, options?: CallOptions): Promise<ExecResponse> {
    const res = await this.#conn.call("Exec", rpc.exec, ExecRequest.fromPartial(request), options);
    validateUrl("Exec", res.url);
    return res;
  }

  async attach(request: Partial<AttachRequest>, options?: CallOptions) {
    const res = await this.#conn.call("Attach", rpc.attach, AttachRequest.fromPartial(request), options);
    validateUrl("Attach", res.url);
    return res;
  }

  async reopenContainerLog(containerId: string, options?: CallOptions): Promise<void> {
    await this.#conn.call(
      "ReopenContainerLog",
      rpc.reopenContainerLog,
      ReopenContainerLogRequest.fromPartial({ containerId }),
      options,
    );
  }

  async checkpointContainer(
    request: Partial<CheckpointContainerRequest>,
    options?: CallOptions,
  ): Promise<void> {
    // A checkpoint can take long: the larger of the request's own timeout and the default.
    const requested = Number(request.timeout ?? 0n) * 1000;
    await this.#conn.call(
      "CheckpointContainer",
      rpc.checkpointContainer,
      CheckpointContainerRequest.fromPartial(request),
      options,
      Math.max(requested, this.#conn.requestTimeoutMs),
    );
  }

  getContainerEvents(
    request?: Partial<GetEventsRequest>,
    options?: CallOptions,
  ): AsyncIterable<ContainerEventResponse> {
    return this.#conn.stream(
      "GetContainerEvents",
      rpc.getContainerEvents,
      GetEventsRequest.fromPartial(request ?? {}),
      options,
    );
  }

  async containerStats(containerId: string, options?: CallOptions): Promise<ContainerStats | undefined> {
    const res = await this.#conn.call(
      "ContainerStats",
      rpc.containerStats,
      ContainerStatsRequest.fromPartial({ containerId }),
      options,
    );
    return res.stats;
  }

  async listContainerStats(filter?: ContainerStatsFilter, options?: CallOptions): Promise<ContainerStats[]> {
    const res = await this.#conn.call(
      "ListContainerStats",
      rpc.listContainerStats,
      ListContainerStatsRequest.fromPartial({ filter }),
      options,
    );
    return res.stats;
  }

  async *streamContainerStats(
    filter?: ContainerStatsFilter,
    options?: CallOptions,
  ): AsyncIterable<ContainerStats[]> {
    const request = StreamContainerStatsRequest.fromPartial({ filter });
    for await (const m of this.#conn.stream(
      "StreamContainerStats",
      rpc.streamContainerStats,
      request,
      options,
    )) {
      yield m.containerStats;
    }
  }

  async podSandboxStats(podSandboxId: string, options?: CallOptions): Promise<PodSandboxStats | undefined> {
    const res = await this.#conn.call(
      "PodSandboxStats",
      rpc.podSandboxStats,
      PodSandboxStatsRequest.fromPartial({ podSandboxId }),
      options,
    );
    return res.stats;
  }

  async listPodSandboxStats(
    filter?: PodSandboxStatsFilter,
    options?: CallOptions,
  ): Promise<PodSandboxStats[]> {
    const res = await this.#conn.call(
      "ListPodSandboxStats",
      rpc.listPodSandboxStats,
      ListPodSandboxStatsRequest.fromPartial({ filter }),
      options,
    );
    return res.stats;
  }

  async *streamPodSandboxStats(
    filter?: PodSandboxStatsFilter,
    options?: CallOptions,
  ): AsyncIterable<PodSandboxStats[]> {
    const request = StreamPodSandboxStatsRequest.fromPartial({ filter });
    for await (const m of this.#conn.stream(
      "StreamPodSandboxStats",
      rpc.streamPodSandboxStats,
      request,
      options,
    )) {
      yield m.podSandboxStats;
    }
  }

  async listMetricDescriptors(options?: CallOptions): Promise<MetricDescriptor[]> {
    const res = await this.#conn.call(
      "ListMetricDescriptors",
      rpc.listMetricDescriptors,
      ListMetricDescriptorsRequest.fromPartial({}),
      options,
    );
    return res.descriptors;
  }

  async listPodSandboxMetrics(options?: CallOptions): Promise<PodSandboxMetrics[]> {
    const res = await this.#conn.call(
      "ListPodSandboxMetrics",
      rpc.listPodSandboxMetrics,
      ListPodSandboxMetricsRequest.fromPartial({}),
      options,
    );
    return res.podMetrics;
  }

  async *streamPodSandboxMetrics(options?: CallOptions): AsyncIterable<PodSandboxMetrics[]> {
    const request = StreamPodSandboxMetricsRequest.fromPartial({});
    for await (const m of this.#conn.stream(
      "StreamPodSandboxMetrics",
      rpc.streamPodSandboxMetrics,
      request,
      options,
    )) {
      yield m.podSandboxMetrics;
    }
  }

  async updateRuntimeConfig(runtimeConfig: RuntimeConfig, options?: CallOptions): Promise<void> {
    await this.#conn.call(
      "UpdateRuntimeConfig",
      rpc.updateRuntimeConfig,
      UpdateRuntimeConfigRequest.fromPartial({ runtimeConfig }),
      options,
    );
  }

  async status(verbose: boolean, options?: CallOptions): Promise<StatusResponse> {
    const res = await this.#conn.call("Status", rpc.status, StatusRequest.fromPartial({ verbose }), options);
    return validateStatus(res);
  }

  async runtimeConfig(options?: CallOptions): Promise<RuntimeConfigResponse> {
    return this.#conn.call("RuntimeConfig", rpc.runtimeConfig, RuntimeConfigRequest.fromPartial({}), options);
  }

  close(): void {
    this.#conn.close();
  }
}

/** No filter, or one whose every field is unset (an empty string or an empty object). */
function isEmptyFilter(filter: object | undefined): boolean {
  if (!filter) return true;
  return Object.values(filter).every(
    (v) =>
      v === undefined || v === "" || (typeof v === "object" && v !== null && Object.keys(v).length === 0),
  );
}
