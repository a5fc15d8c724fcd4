import {
  Client,
  type ClientReadableStream,
  type ClientUnaryCall,
  credentials,
  type CallOptions as GrpcCallOptions,
  status as GrpcStatus,
  Metadata,
  Server,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type sendUnaryData,
} from "@grpc/grpc-js";
import { type Clock, ErrorCode, NodeletError, systemClock } from "@nodelet/runtime-api";
import { type CompiledRule, compileFaultRules, type FaultRule } from "./fault-rules.js";
import type { CriMethodDefinition } from "./methods.js";
import { callSignal, identity, listen, serviceOf } from "./server.js";

// A gRPC proxy in front of a real CRI runtime that forwards every RPC of both services byte for
// byte (messages are never decoded, so the proxy is exact for any CRI version) and injects faults
// by rule: a delay, a gRPC status instead of the answer, a server stream cut after N messages.

export interface FaultProxyOptions {
  /** Where to listen: "unix:///abs/path.sock" or an absolute path. */
  listen: string;
  /** The runtime's socket: "unix:///abs/path.sock" or an absolute path. */
  upstream: string;
  rules?: readonly FaultRule[] | undefined;
  /** Dice for `probability`, in [0, 1); default Math.random. */
  random?: (() => number) | undefined;
  /** Delays are taken on this clock; default the system clock. */
  clock?: Clock | undefined;
}

export interface FaultProxy {
  /** "unix:///…" of the proxy, for a CRI client. */
  readonly endpoint: string;
  readonly rules: readonly FaultRule[];
  /** Replaces the rules; calls already running keep the rule they got. InvalidConfig names the field. */
  setRules(rules: readonly FaultRule[]): void;
  /** Stops listening and cancels open calls. */
  close(): Promise<void>;
}

function socketPathOf(endpoint: string, what: string): string {
  const path = endpoint.startsWith("unix://") ? endpoint.slice("unix://".length) : endpoint;
  if (!path.startsWith("/")) {
    throw new NodeletError(ErrorCode.InvalidEndpoint, `${what} "${endpoint}" is not unix:///absolute/path`, {
      details: { endpoint },
    });
  }
  return path;
}

/** No size limit either way: the proxy must not be what makes a large answer fail. */
const unlimited = { "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1 };

function statusError(code: GrpcStatus, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

/** Starts the proxy; resolves once it accepts connections. */
export async function createFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const listenPath = socketPathOf(options.listen, "listen");
  const upstreamPath = socketPathOf(options.upstream, "upstream");
  const random = options.random ?? Math.random;
  const clock = options.clock ?? systemClock;
  let compiled: CompiledRule[] = compileFaultRules(options.rules ?? []);
  const upstream = new Client(`unix://${upstreamPath}`, credentials.createInsecure(), {
    ...unlimited,
    "grpc.default_authority": "localhost",
  });

  /** The rule for this call, dice rolled; undefined to pass it through untouched. */
  const pick = (m: CriMethodDefinition): CompiledRule | undefined => {
    const names = [m.name, `${m.service}/${m.name}`, m.path];
    for (const r of compiled) {
      if (!names.some((n) => r.pattern.test(n))) continue;
      if ((r.rule.probability ?? 1) >= 1 || random() < (r.rule.probability ?? 1)) return r;
      return undefined;
    }
    return undefined;
  };
  const message = (r: CompiledRule, m: CriMethodDefinition) =>
    r.rule.message ?? `fault injected into ${m.name} by the fault proxy`;
  const forwardOptions = (call: { getDeadline(): GrpcCallOptions["deadline"] }): GrpcCallOptions => {
    const deadline = call.getDeadline();
    return deadline === undefined ? {} : { deadline };
  };

  const unary =
    (m: CriMethodDefinition) => (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      const { signal } = callSignal(call);
      const rule = pick(m);
      (async () => {
        if (rule?.rule.delayMs) await clock.sleep(rule.rule.delayMs, signal);
        if (rule?.status !== undefined) {
          callback(statusError(rule.status, message(rule, m)));
          return;
        }
        const forwarded: ClientUnaryCall = upstream.makeUnaryRequest(
          m.path,
          identity,
          identity,
          call.request,
          call.metadata,
          forwardOptions(call),
          (err, res) => (err ? callback(err) : callback(null, res)),
        );
        signal.addEventListener("abort", () => forwarded.cancel(), { once: true });
      })().catch(() => {
        // Only the delay rejects, when the client cancels: there is nobody left to answer.
      });
    };

  const serverStream = (m: CriMethodDefinition) => (call: ServerWritableStream<Buffer, Buffer>) => {
    const { signal } = callSignal(call);
    const rule = pick(m);
    (async () => {
      if (rule?.rule.delayMs) await clock.sleep(rule.rule.delayMs, signal);
      const dropAfter = rule?.rule.dropAfter;
      if (rule?.status !== undefined && dropAfter === undefined) {
        call.emit("error", statusError(rule.status, message(rule, m)));
        return;
      }
      const forwarded: ClientReadableStream<Buffer> = upstream.makeServerStreamRequest(
        m.path,
        identity,
        identity,
        call.request,
        call.metadata,
        forwardOptions(call),
      );
      signal.addEventListener("abort", () => forwarded.cancel(), { once: true });
      let sent = 0;
      let dropped = false;
      const drop = () => {
        dropped = true;
        forwarded.cancel();
        const code = rule?.status ?? GrpcStatus.UNAVAILABLE;
        call.emit(
          "error",
          statusError(code, rule?.rule.message ?? `the fault proxy dropped ${m.name} after ${sent} messages`),
        );
      };
      if (dropAfter === 0) return drop();
      forwarded.on("data", (chunk: Buffer) => {
        if (dropped) return;
        call.write(chunk);
        sent++;
        if (dropAfter !== undefined && sent >= dropAfter) drop();
      });
      forwarded.on("error", (err: ServiceError) => {
        if (!dropped && !signal.aborted) call.emit("error", err);
      });
      forwarded.on("end", () => {
        if (!dropped && !signal.aborted) call.end();
      });
    })().catch(() => {
      // Only the delay rejects, when the client cancels: there is nobody left to answer.
    });
  };

  const server = new Server(unlimited);
  for (const service of ["RuntimeService", "ImageService"] as const) {
    const { definition, implementation } = serviceOf(
      service,
      (m) => (m.responseStream ? serverStream(m) : unary(m)) as never,
      true,
    );
    server.addService(definition, implementation);
  }
  const bound = await listen(server, listenPath, "nodelet-fault-proxy-");

  return {
    endpoint: `unix://${bound.socketPath}`,
    get rules() {
      return compiled.map((c) => c.rule);
    },
    setRules(rules) {
      compiled = compileFaultRules(rules);
    },
    async close() {
      server.forceShutdown();
      upstream.close();
      bound.cleanup();
    },
  };
}
