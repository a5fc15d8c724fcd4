import { RuntimeCondition } from "@nodelet/cri-api";
import { type Clock, ErrorCode, isNodeletError, NodeletError, systemClock } from "@nodelet/runtime-api";
import { createHandlers, type ExecHandler, type Handlers } from "./fake-handlers.js";
import { FakeState } from "./fake-state.js";
import { FaultTable } from "./faults.js";
import type { CriMethod, CriRequest } from "./methods.js";
import { RuntimeStatusError, runtimeError, statusCodes } from "./status.js";

export interface FakeRuntimeOptions {
  /** Timestamps, log times and fault delays; default the system clock. */
  clock?: Clock | undefined;
  /** New sandbox and container ids (64 hex digits in containerd); default random. */
  newId?: (() => string) | undefined;
  /** Version's runtime_name; default "fake-cri". */
  runtimeName?: string | undefined;
  /** Version's runtime_version; default "0.1.0". */
  runtimeVersion?: string | undefined;
  /** Size of pulled images, in bytes; default 4 MiB. */
  defaultImageSize?: number | undefined;
  /** Base of the Exec/Attach/PortForward URLs; default "http://127.0.0.1:10010". */
  streamingUrl?: string | undefined;
  /** ImageFsInfo's mountpoint; default "/var/lib/fake-cri/images". */
  imageFsMountpoint?: string | undefined;
}

/** One call the fake received, with its request message. */
export interface RecordedCall {
  method: CriMethod;
  request: unknown;
  /** Clock time of the call, in ms. */
  atMs: number;
}

const defaultExec: ExecHandler = () => ({ exitCode: 0 });

/** Turns anything a handler threw into the status a runtime would answer. */
export function toRuntimeStatus(err: unknown): RuntimeStatusError {
  if (err instanceof RuntimeStatusError) return err;
  if (isNodeletError(err) && statusCodes.includes(err.code)) return runtimeError(err.code, err.message);
  return runtimeError(ErrorCode.Unknown, err instanceof Error ? err.message : String(err));
}

function raceAbort<T>(value: T | Promise<T>, signal: AbortSignal): Promise<T> {
  if (!(value instanceof Promise)) return Promise.resolve(value);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    value.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The fake's state, faults and call log; both the in-process services and the gRPC server go through invoke(). */
export class FakeCore {
  readonly clock: Clock;
  readonly state: FakeState;
  readonly faults = new FaultTable();
  readonly calls: RecordedCall[] = [];
  readonly conditions = new Map<string, RuntimeCondition>();
  exec: ExecHandler = defaultExec;
  readonly #handlers: Handlers;

  constructor(options: FakeRuntimeOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.state = new FakeState({
      clock: this.clock,
      newId: options.newId,
      defaultImageSize: options.defaultImageSize ?? 4 * 1024 * 1024,
    });
    for (const type of ["RuntimeReady", "NetworkReady"]) {
      this.conditions.set(type, RuntimeCondition.fromPartial({ type, status: true }));
    }
    this.#handlers = createHandlers(this.state, {
      version: {
        runtimeName: options.runtimeName ?? "fake-cri",
        runtimeVersion: options.runtimeVersion ?? "0.1.0",
      },
      conditions: this.conditions,
      streamingUrl: options.streamingUrl ?? "http://127.0.0.1:10010",
      imageFsMountpoint: options.imageFsMountpoint ?? "/var/lib/fake-cri/images",
      exec: () => this.exec,
    });
  }

  /**
   * Runs one call: records it, applies the first matching fault (delay, then error), then answers.
   * Rejects with a RuntimeStatusError, or with the signal's reason when it aborts first.
   */
  async invoke<M extends CriMethod>(
    method: M,
    request: CriRequest<M>,
    signal: AbortSignal,
  ): Promise<unknown> {
    this.calls.push({ method, request, atMs: this.clock.now() });
    const fault = this.faults.take(method, request);
    if (fault?.delayMs !== undefined && fault.delayMs > 0) await this.clock.sleep(fault.delayMs, signal);
    if (signal.aborted) throw signal.reason;
    if (fault?.code !== undefined) {
      throw runtimeError(fault.code, fault.message ?? `fault injected into ${method}`);
    }
    const handler = this.#handlers[method] as (r: unknown, ctx: { signal: AbortSignal }) => unknown;
    try {
      return await raceAbort(handler(request, { signal }), signal);
    } catch (err) {
      if (signal.aborted && err === signal.reason) throw err;
      throw toRuntimeStatus(err);
    }
  }

  /** Test control misuse (an unknown id, a container that is not running). */
  static controlError(message: string): NodeletError {
    return new NodeletError(ErrorCode.InvalidArgument, message);
  }
}
