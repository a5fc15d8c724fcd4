import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { FakeCore } from "./fake-core.js";
import { toRuntimeStatus } from "./fake-core.js";
import { type CriMethodDefinition, criMethods } from "./methods.js";
import { grpcStatusOf, type RuntimeStatusError } from "./status.js";

// The fake served as a real gRPC CRI server (both runtime.v1 services), so that any CRI client —
// cri-remote, crictl, another language's — can talk to it over a unix socket.

export interface ServeOptions {
  /** Where to listen; default a new socket in a fresh temporary directory (removed on close). */
  socketPath?: string | undefined;
}

export interface FakeRuntimeServer {
  /** "unix:///abs/path/cri.sock", for a CRI client. */
  readonly endpoint: string;
  readonly socketPath: string;
  /** Stops serving: open calls are cancelled. */
  close(): Promise<void>;
}

/** A gRPC status carrying the runtime's own message, as a CRI runtime answers. */
export function toServiceError(err: RuntimeStatusError) {
  return Object.assign(new Error(err.runtimeMessage), {
    code: grpcStatusOf(err.code),
    details: err.runtimeMessage,
    metadata: new Metadata(),
  });
}

/** An AbortSignal that fires when the client cancels the call or goes away. */
export function callSignal(call: { on(event: "cancelled", listener: () => void): unknown }): {
  signal: AbortSignal;
  abort(): void;
} {
  const controller = new AbortController();
  const abort = () => controller.abort();
  call.on("cancelled", abort);
  return { signal: controller.signal, abort };
}

export const identity = (b: Buffer) => b;

/**
 * Builds a grpc-js service definition and implementation of every method of `service`; `raw`
 * passes messages as undecoded Buffers (for forwarding).
 */
export function serviceOf(
  service: CriMethodDefinition["service"],
  handler: (method: CriMethodDefinition) => (call: never, callback?: never) => void,
  raw = false,
): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const definition: Record<string, ServiceDefinition[string]> = {};
  const implementation: UntypedServiceImplementation = {};
  for (const m of criMethods.filter((x) => x.service === service)) {
    definition[m.name] = {
      path: m.path,
      requestStream: false,
      responseStream: m.responseStream,
      requestSerialize: raw ? identity : m.requestSerialize,
      requestDeserialize: raw ? identity : m.requestDeserialize,
      responseSerialize: raw ? identity : m.responseSerialize,
      responseDeserialize: raw ? identity : m.responseDeserialize,
    };
    implementation[m.name] = handler(m) as never;
  }
  return { definition, implementation };
}

/** Binds a grpc-js server to a unix socket; resolves once it accepts connections. */
export async function listen(
  server: Server,
  socketPath: string | undefined,
  prefix: string,
): Promise<{ socketPath: string; cleanup(): void }> {
  const ownDir = socketPath === undefined ? mkdtempSync(join(tmpdir(), prefix)) : undefined;
  const path = socketPath ?? join(ownDir as string, "cri.sock");
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${path}`, ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  return {
    socketPath: path,
    cleanup: () => {
      if (ownDir !== undefined && dirname(path) === ownDir) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}

function unary(core: FakeCore, m: CriMethodDefinition) {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const { signal } = callSignal(call);
    core.invoke(m.name, call.request as never, signal).then(
      (res) => callback(null, res),
      (err: unknown) => {
        if (!signal.aborted) callback(toServiceError(toRuntimeStatus(err)));
      },
    );
  };
}

function serverStream(core: FakeCore, m: CriMethodDefinition) {
  return (call: ServerWritableStream<unknown, unknown>) => {
    const { signal } = callSignal(call);
    (async () => {
      const messages = (await core.invoke(m.name, call.request as never, signal)) as AsyncIterable<unknown>;
      for await (const message of messages) {
        if (signal.aborted) break;
        call.write(message);
      }
    })().then(
      () => {
        if (!signal.aborted) call.end();
      },
      (err: unknown) => {
        if (!signal.aborted) call.emit("error", toServiceError(toRuntimeStatus(err)));
      },
    );
  };
}

export async function serveCore(core: FakeCore, options: ServeOptions = {}): Promise<FakeRuntimeServer> {
  const server = new Server();
  for (const service of ["RuntimeService", "ImageService"] as const) {
    const { definition, implementation } = serviceOf(
      service,
      (m) => (m.responseStream ? serverStream(core, m) : unary(core, m)) as never,
    );
    server.addService(definition, implementation);
  }
  const bound = await listen(server, options.socketPath, "nodelet-fake-cri-");
  return {
    endpoint: `unix://${bound.socketPath}`,
    socketPath: bound.socketPath,
    close: async () => {
      server.forceShutdown();
      bound.cleanup();
    },
  };
}
