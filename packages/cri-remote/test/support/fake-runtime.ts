// A CRI server in this process for the cases a real runtime cannot be made to produce on demand
// (wrong versions, oversize or invalid answers, hangs). Integration tests use real containerd.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import * as cri from "@nodelet/cri-api";
import { ImageServiceService, RuntimeServiceService } from "@nodelet/cri-api";

export type UnaryHandler = (request: unknown) => unknown | Promise<unknown>;

export interface FakeServer {
  endpoint: string;
  socketPath: string;
  stop(): Promise<void>;
}

export const v1Version = {
  version: "0.1.0",
  runtimeName: "fake",
  runtimeVersion: "1.0.0",
  runtimeApiVersion: "v1",
};

/** Handlers by ts-proto method name (camelCase); a missing one answers UNIMPLEMENTED. */
export async function startFakeServer(options: {
  runtime?: Record<string, UnaryHandler>;
  image?: Record<string, UnaryHandler>;
  withRuntimeService?: boolean;
}): Promise<FakeServer> {
  const dir = mkdtempSync(join(tmpdir(), "nodelet-fake-"));
  const socketPath = join(dir, "cri.sock");
  const server = new Server();
  const add = (def: ServiceDefinition, handlers: Record<string, UnaryHandler>) => {
    const impl: UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(handlers)) {
      impl[name] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        Promise.resolve()
          .then(() => handler(call.request))
          .then(
            (res) => {
              if (res !== HANG) callback(null, res);
            },
            (err: unknown) => callback(err as Error),
          );
      };
    }
    // Handlers answer with partial messages; complete them as the generated encoders expect.
    const completed: Record<string, ServiceDefinition[string]> = {};
    for (const [name, method] of Object.entries(def)) {
      const rpcName = method.path.slice(method.path.lastIndexOf("/") + 1);
      const codec = (cri as unknown as Record<string, { fromPartial(v: unknown): unknown }>)[
        `${rpcName}Response`
      ];
      completed[name] = {
        ...method,
        responseSerialize: (value: unknown) =>
          method.responseSerialize(codec ? codec.fromPartial(value) : value),
      };
    }
    server.addService(completed, impl);
  };
  if (options.withRuntimeService !== false)
    add(RuntimeServiceService as ServiceDefinition, options.runtime ?? {});
  if (options.image) add(ImageServiceService as ServiceDefinition, options.image);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  return {
    endpoint: `unix://${socketPath}`,
    socketPath,
    stop: async () => server.forceShutdown(),
  };
}

/** Returned by a handler to never answer. */
export const HANG = Symbol("hang");

export function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(details), { code, details });
}
