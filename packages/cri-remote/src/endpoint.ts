import { stat } from "node:fs/promises";
import { ErrorCode, NodeletError } from "@nodelet/runtime-api";

export interface ParsedEndpoint {
  /** The endpoint as the user gave it, for messages. */
  endpoint: string;
  /** The target string @grpc/grpc-js dials. */
  target: string;
  /** The socket path for unix endpoints. */
  socketPath?: string;
}

/**
 * Accepts `unix:///absolute/path` and `tcp://host:port`, as the kubelet's
 * --container-runtime-endpoint does.
 */
export function parseEndpoint(endpoint: string): ParsedEndpoint {
  const schemeEnd = endpoint.indexOf("://");
  const scheme = schemeEnd === -1 ? "" : endpoint.slice(0, schemeEnd);
  const rest = schemeEnd === -1 ? endpoint : endpoint.slice(schemeEnd + 3);
  if (scheme === "unix") {
    if (!rest.startsWith("/")) {
      throw new NodeletError(
        ErrorCode.InvalidEndpoint,
        `endpoint "${endpoint}" must name an absolute socket path, e.g. unix:///run/containerd/containerd.sock`,
      );
    }
    return { endpoint, target: `unix://${rest}`, socketPath: rest };
  }
  if (scheme === "tcp") {
    if (!/^[^/:]+:\d{1,5}$/.test(rest) && !/^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(rest)) {
      throw new NodeletError(
        ErrorCode.InvalidEndpoint,
        `endpoint "${endpoint}" must be tcp://host:port, e.g. tcp://127.0.0.1:10010`,
      );
    }
    return { endpoint, target: rest };
  }
  throw new NodeletError(
    ErrorCode.InvalidEndpoint,
    `endpoint "${endpoint}" has ${scheme ? `unsupported scheme "${scheme}"` : "no scheme"}: ` +
      "use unix:///path/to/runtime.sock or tcp://host:port",
  );
}

/** Fails early, with a message a person can act on, when a unix endpoint cannot be a runtime. */
export async function checkSocket(parsed: ParsedEndpoint): Promise<void> {
  if (parsed.socketPath === undefined) return;
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(parsed.socketPath);
  } catch (err) {
    throw new NodeletError(
      ErrorCode.RuntimeUnavailable,
      `no container runtime socket at ${parsed.socketPath}: start the runtime (containerd, CRI-O) ` +
        "or point the endpoint at its socket",
      { cause: err, details: { endpoint: parsed.endpoint } },
    );
  }
  if (!info.isSocket()) {
    throw new NodeletError(
      ErrorCode.InvalidEndpoint,
      `${parsed.socketPath} exists but is not a unix socket: point the endpoint at the runtime's CRI socket`,
      { details: { endpoint: parsed.endpoint } },
    );
  }
}
