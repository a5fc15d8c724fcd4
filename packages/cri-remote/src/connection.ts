import { type ChannelOptions, Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { type CallOptions, ErrorCode, NodeletError } from "@nodelet/runtime-api";
import type { ParsedEndpoint } from "./endpoint.js";
import { fromGrpcError } from "./grpc-errors.js";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "./options.js";

/** What a ts-proto grpc-js method definition offers that a call needs. */
export interface MethodDefinition<Req, Res> {
  path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(value: Buffer): Res;
}

export interface CallSettings {
  rpc: string;
  /** Deadline in ms; 0 means none. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** 16 MiB each way, as the kubelet, so ListContainers on a full node fits. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface ConnectionOptions {
  maxMessageBytes?: number | undefined;
  /** The default deadline of a call, in ms (the kubelet's runtimeRequestTimeout). */
  requestTimeoutMs?: number | undefined;
}

/** One grpc-js channel to a runtime, with the deadline, cancellation and error mapping every call shares. */
export class Connection {
  readonly endpoint: string;
  readonly requestTimeoutMs: number;
  readonly #client: Client;

  constructor(parsed: ParsedEndpoint, options: ConnectionOptions = {}) {
    this.endpoint = parsed.endpoint;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const channelOptions: ChannelOptions = {
      "grpc.max_receive_message_length": max,
      "grpc.max_send_message_length": max,
      // The kubelet's dial backoff: start at 100 ms, cap at 3 s.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 3000,
    };
    if (parsed.socketPath !== undefined) channelOptions["grpc.default_authority"] = "localhost";
    this.#client = new Client(parsed.target, credentials.createInsecure(), channelOptions);
  }

  /** A unary CRI call: the caller's timeoutMs, else the method's default, else requestTimeoutMs. */
  call<Req, Res>(
    rpc: string,
    method: MethodDefinition<Req, Res>,
    request: Req,
    options: CallOptions | undefined,
    defaultTimeoutMs = this.requestTimeoutMs,
  ): Promise<Res> {
    return this.unary(method, request, {
      rpc,
      timeoutMs: options?.timeoutMs ?? defaultTimeoutMs,
      signal: options?.signal,
    });
  }

  /** A server-streaming CRI call; streams run as long as the caller reads unless timeoutMs is given. */
  stream<Req, Res>(
    rpc: string,
    method: MethodDefinition<Req, Res>,
    request: Req,
    options: CallOptions | undefined,
  ): AsyncGenerator<Res, void, undefined> {
    return this.serverStream(method, request, {
      rpc,
      timeoutMs: options?.timeoutMs ?? 0,
      signal: options?.signal,
    });
  }

  unary<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, settings: CallSettings): Promise<Res> {
    const ctx = { rpc: settings.rpc, endpoint: this.endpoint, timeoutMs: settings.timeoutMs };
    const { signal } = settings;
    if (signal?.aborted) return Promise.reject(cancelled(settings.rpc, signal));
    return new Promise<Res>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const settle = (err: ServiceError | null, value?: Res) => {
        if (onAbort) signal?.removeEventListener("abort", onAbort);
        if (err) reject(fromGrpcError(err, ctx));
        else resolve(value as Res);
      };
      try {
        const call = this.#client.makeUnaryRequest(
          method.path,
          method.requestSerialize,
          method.responseDeserialize,
          request,
          new Metadata(),
          { deadline: deadlineOf(settings.timeoutMs) },
          settle,
        );
        if (signal) {
          onAbort = () => call.cancel();
          signal.addEventListener("abort", onAbort, { once: true });
        }
      } catch (err) {
        reject(fromGrpcError(err, ctx));
      }
    });
  }

  /** A server-streaming call as an async iterable; the call starts on first iteration and ends on break. */
  async *serverStream<Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    settings: CallSettings,
  ): AsyncGenerator<Res, void, undefined> {
    const ctx = { rpc: settings.rpc, endpoint: this.endpoint, timeoutMs: settings.timeoutMs };
    const { signal } = settings;
    if (signal?.aborted) throw cancelled(settings.rpc, signal);
    let call: ReturnType<Client["makeServerStreamRequest"]>;
    try {
      call = this.#client.makeServerStreamRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new Metadata(),
        { deadline: deadlineOf(settings.timeoutMs) },
      );
    } catch (err) {
      throw fromGrpcError(err, ctx);
    }
    const onAbort = () => call.cancel();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for await (const message of call) yield message as Res;
    } catch (err) {
      throw fromGrpcError(err, ctx);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      call.cancel();
    }
  }

  close(): void {
    this.#client.close();
  }
}

function deadlineOf(timeoutMs: number): number {
  return timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
}

function cancelled(rpc: string, signal: AbortSignal): NodeletError {
  return new NodeletError(ErrorCode.Cancelled, `${rpc} was cancelled before it was sent`, {
    cause: signal.reason,
    details: { rpc },
  });
}
