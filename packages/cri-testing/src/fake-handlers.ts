import {
  CgroupDriver,
  type ContainerEventResponse,
  ContainerStatusResponse,
  ExecSyncResponse,
  PodSandboxStatusResponse,
  type RuntimeCondition,
  StatusResponse,
  VersionResponse,
} from "@nodelet/cri-api";
import { ErrorCode } from "@nodelet/runtime-api";
import type { FakeState } from "./fake-state.js";
import type { CriMethod, CriRequest, CriResponse } from "./methods.js";
import { runtimeError } from "./status.js";

// Every CRI method of the fake, request message in, response message out: one table that both the
// in-process service objects and the gRPC server call, so the two cannot answer differently.

/** What a scripted ExecSync answers; missing output is empty, a missing exit code is 0. */
export interface ExecReply {
  stdout?: string | Buffer | undefined;
  stderr?: string | Buffer | undefined;
  exitCode?: number | undefined;
}

/** Runs an ExecSync in the fake; `signal` aborts when the caller cancels. */
export type ExecHandler = (exec: {
  containerId: string;
  cmd: readonly string[];
  timeoutSeconds: number;
  signal: AbortSignal;
}) => ExecReply | Promise<ExecReply>;

export interface HandlerContext {
  signal: AbortSignal;
}

type Answer<M extends CriMethod> = CriResponse<M> | Promise<CriResponse<M>> | AsyncIterable<CriResponse<M>>;

export type Handlers = { [M in CriMethod]: (request: CriRequest<M>, ctx: HandlerContext) => Answer<M> };

export interface HandlerConfig {
  version: { runtimeName: string; runtimeVersion: string };
  conditions: Map<string, RuntimeCondition>;
  streamingUrl: string;
  imageFsMountpoint: string;
  exec(): ExecHandler;
}

const toBuffer = (v: string | Buffer | undefined) =>
  typeof v === "string" ? Buffer.from(v) : (v ?? Buffer.alloc(0));

function unimplemented(rpc: CriMethod): never {
  throw runtimeError(ErrorCode.Unimplemented, `method ${rpc} not implemented`);
}

async function* each<T, R>(items: readonly T[], wrap: (item: T) => R): AsyncIterable<R> {
  for (const item of items) yield wrap(item);
}

/** Events from now on until the caller goes away. */
async function* events(state: FakeState, signal: AbortSignal): AsyncIterable<ContainerEventResponse> {
  const queue: ContainerEventResponse[] = [];
  let wake: (() => void) | undefined;
  const listener = (e: ContainerEventResponse) => {
    queue.push(e);
    wake?.();
  };
  const onAbort = () => wake?.();
  state.listeners.add(listener);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal.aborted) {
      const next = queue.shift();
      if (next) yield next;
      else
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
    }
  } finally {
    state.listeners.delete(listener);
    signal.removeEventListener("abort", onAbort);
  }
}

let token = 0;

export function createHandlers(state: FakeState, config: HandlerConfig): Handlers {
  const url = (kind: string) => `${config.streamingUrl}/${kind}/${(++token).toString(36)}`;
  const sandboxStatus = (id: string, verbose: boolean) => {
    const s = state.sandbox(id, "an error occurred when try to find sandbox: not found");
    return PodSandboxStatusResponse.fromPartial({
      status: state.sandboxStatus(s),
      info: verbose ? { info: JSON.stringify({ pid: s.pid, config: s.config }) } : {},
    });
  };
  return {
    Version: () =>
      VersionResponse.fromPartial({ version: "0.1.0", runtimeApiVersion: "v1", ...config.version }),
    Status: () =>
      StatusResponse.fromPartial({ status: { conditions: [...config.conditions.values()] }, info: {} }),
    RuntimeConfig: () => ({ linux: { cgroupDriver: CgroupDriver.CGROUPFS } }),
    UpdateRuntimeConfig: () => ({}),

    RunPodSandbox: (r) => ({ podSandboxId: state.runSandbox(r.config ?? ({} as never), r.runtimeHandler) }),
    StopPodSandbox: (r) => {
      state.stopSandbox(r.podSandboxId);
      return {};
    },
    RemovePodSandbox: (r) => {
      state.removeSandbox(r.podSandboxId);
      return {};
    },
    PodSandboxStatus: (r) => sandboxStatus(r.podSandboxId, r.verbose),
    ListPodSandbox: (r) => ({ items: state.listSandboxes(r.filter) }),
    StreamPodSandboxes: (r) => each(state.listSandboxes(r.filter), (s) => ({ podSandboxes: [s] })),
    PortForward: (r) => {
      state.sandbox(r.podSandboxId);
      return { url: url("portforward") };
    },
    UpdatePodSandboxResources: () => unimplemented("UpdatePodSandboxResources"),
    CheckpointPod: () => unimplemented("CheckpointPod"),
    RestorePod: () => unimplemented("RestorePod"),

    CreateContainer: (r) => ({
      containerId: state.createContainer(r.podSandboxId, r.config ?? ({} as never)),
    }),
    StartContainer: (r) => {
      state.startContainer(r.containerId);
      return {};
    },
    StopContainer: (r) => {
      state.stopContainer(r.containerId, Number(r.timeout));
      return {};
    },
    RemoveContainer: (r) => {
      state.removeContainer(r.containerId);
      return {};
    },
    ListContainers: (r) => ({
      containers: state.filterContainers(r.filter).map((c) => state.toContainer(c)),
    }),
    StreamContainers: (r) =>
      each(state.filterContainers(r.filter), (c) => ({ containers: [state.toContainer(c)] })),
    ContainerStatus: (r) => {
      const c = state.container(r.containerId);
      return ContainerStatusResponse.fromPartial({
        status: state.containerStatus(c),
        info: r.verbose ? state.containerInfo(c) : {},
      });
    },
    UpdateContainerResources: (r) => {
      const c = state.container(r.containerId);
      if (r.linux) c.resources = r.linux;
      Object.assign(c.annotations, r.annotations);
      return {};
    },
    ReopenContainerLog: (r) => {
      state.requireRunning(
        r.containerId,
        `an error occurred when try to find container "${r.containerId}": not found`,
        "",
      );
      return {};
    },
    ExecSync: async (r, ctx) => {
      state.requireRunning(
        r.containerId,
        `failed to exec in container: failed to find container "${r.containerId}" in store: not found`,
        "failed to exec in container: ",
      );
      const reply = await config.exec()({
        containerId: r.containerId,
        cmd: r.cmd,
        timeoutSeconds: Number(r.timeout),
        signal: ctx.signal,
      });
      return ExecSyncResponse.fromPartial({
        stdout: toBuffer(reply.stdout),
        stderr: toBuffer(reply.stderr),
        exitCode: reply.exitCode ?? 0,
      });
    },
    Exec: (r) => {
      state.requireRunning(
        r.containerId,
        `an error occurred when try to find container "${r.containerId}": not found`,
        "",
      );
      return { url: url("exec") };
    },
    Attach: (r) => {
      state.requireRunning(
        r.containerId,
        `an error occurred when try to find container "${r.containerId}": not found`,
        "",
      );
      return { url: url("attach") };
    },
    CheckpointContainer: () => unimplemented("CheckpointContainer"),
    GetContainerEvents: (_r, ctx) => events(state, ctx.signal),

    ContainerStats: (r) => ({ stats: state.containerStats(state.container(r.containerId)) }),
    ListContainerStats: (r) => ({
      stats: state.filterContainers(r.filter).map((c) => state.containerStats(c)),
    }),
    StreamContainerStats: (r) =>
      each(state.filterContainers(r.filter), (c) => ({ containerStats: [state.containerStats(c)] })),
    PodSandboxStats: (r) => ({ stats: state.sandboxStats(state.sandbox(r.podSandboxId)) }),
    ListPodSandboxStats: (r) => ({
      stats: state
        .listSandboxes(
          r.filter && { id: r.filter.id, labelSelector: r.filter.labelSelector, state: undefined },
        )
        .map((s) => state.sandboxStats(state.sandbox(s.id))),
    }),
    StreamPodSandboxStats: (r) =>
      each(
        state.listSandboxes(
          r.filter && { id: r.filter.id, labelSelector: r.filter.labelSelector, state: undefined },
        ),
        (s) => ({ podSandboxStats: [state.sandboxStats(state.sandbox(s.id))] }),
      ),
    ListMetricDescriptors: () => ({ descriptors: [] }),
    ListPodSandboxMetrics: () => ({ podMetrics: [] }),
    StreamPodSandboxMetrics: () => each([], () => ({ podSandboxMetrics: [] })),

    ListImages: (r) => ({ images: state.images.list(r.filter?.image) }),
    StreamImages: (r) => each(state.images.list(r.filter?.image), (i) => ({ images: [i] })),
    ImageStatus: (r) => {
      const found = state.images.find(r.image?.image ?? "");
      const image = found && state.images.list({ image: found.id } as never)[0];
      return { image, info: r.verbose && image ? { info: JSON.stringify({ id: image.id }) } : {} };
    },
    PullImage: (r) => ({ imageRef: state.addImage({ image: r.image?.image ?? "" }).id }),
    RemoveImage: (r) => {
      state.images.remove(r.image?.image ?? "");
      return {};
    },
    ImageFsInfo: () => state.images.fsInfo(state.now(), config.imageFsMountpoint),
  };
}
