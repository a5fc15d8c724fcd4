import { ImageServiceService, RuntimeServiceService } from "@nodelet/cri-api";

// The CRI methods by their RPC name ("RunPodSandbox"), derived from the generated service
// definitions so that a method added to the proto shows up here (and in every typed table) by itself.

type RuntimeDefs = typeof RuntimeServiceService;
type ImageDefs = typeof ImageServiceService;
type Defs = RuntimeDefs & ImageDefs;
type NameOf<P> = P extends `/runtime.v1.${string}/${infer N}` ? N : never;
type KeyOf<M> = { [K in keyof Defs]: NameOf<Defs[K]["path"]> extends M ? K : never }[keyof Defs];

/** A CRI RPC name of either service, e.g. "RunPodSandbox" or "PullImage". */
export type CriMethod = { [K in keyof Defs]: NameOf<Defs[K]["path"]> }[keyof Defs];

/** The decoded request message of a CRI method. */
export type CriRequest<M extends CriMethod> = ReturnType<Defs[KeyOf<M>]["requestDeserialize"]>;

/** The response message of a CRI method (one message of a stream for server-streaming methods). */
export type CriResponse<M extends CriMethod> = ReturnType<Defs[KeyOf<M>]["responseDeserialize"]>;

/** A method's grpc-js definition, as the server and the proxy need it. */
export interface CriMethodDefinition {
  name: CriMethod;
  service: "RuntimeService" | "ImageService";
  path: string;
  responseStream: boolean;
  requestSerialize(value: unknown): Buffer;
  requestDeserialize(value: Buffer): unknown;
  responseSerialize(value: unknown): Buffer;
  responseDeserialize(value: Buffer): unknown;
}

function definitions(
  service: CriMethodDefinition["service"],
  defs: Record<string, Omit<CriMethodDefinition, "name" | "service">>,
): CriMethodDefinition[] {
  return Object.values(defs).map((d) => ({
    ...d,
    service,
    name: d.path.slice(d.path.lastIndexOf("/") + 1) as CriMethod,
  }));
}

/** Every CRI method of both services. */
export const criMethods: readonly CriMethodDefinition[] = [
  ...definitions("RuntimeService", RuntimeServiceService as never),
  ...definitions("ImageService", ImageServiceService as never),
];

/** The gRPC path of a method, e.g. "/runtime.v1.RuntimeService/Version". */
export function criMethodByPath(path: string): CriMethodDefinition | undefined {
  return criMethods.find((m) => m.path === path);
}
