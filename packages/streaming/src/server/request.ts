// The kubelet's streaming endpoints, parsed: /exec/{namespace}/{pod}/{container},
// /attach/{namespace}/{pod}/{container} (an optional trailing /{uid} segment is accepted, as the
// kubelet routes it), /portForward/{namespace}/{pod}. Query parameters use the kubelet's names
// (command, input/output/error/tty; stdin/stdout/stderr accepted too; port for WebSocket
// port-forward). A flag is on only for "1" or "true".

export class StreamingHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "StreamingHttpError";
  }
}

export interface ContainerTarget {
  namespace: string;
  pod: string;
  container: string;
}

export type StreamingRequest =
  | {
      kind: "exec";
      target: ContainerTarget;
      command: string[];
      stdin: boolean;
      stdout: boolean;
      stderr: boolean;
      tty: boolean;
    }
  | {
      kind: "attach";
      target: ContainerTarget;
      stdin: boolean;
      stdout: boolean;
      stderr: boolean;
      tty: boolean;
    }
  | { kind: "portForward"; target: { namespace: string; pod: string }; ports: number[] };

const PREFIXES = ["/exec/", "/attach/", "/portForward/"] as const;

/** Whether `pathname` is one of the streaming endpoints (the agent routes those here). */
export function isStreamingPath(pathname: string): boolean {
  return PREFIXES.some((p) => pathname.startsWith(p));
}

function flag(params: URLSearchParams, names: readonly string[]): boolean {
  for (const name of names) {
    const value = params.get(name);
    if (value !== null) return value === "1" || value === "true";
  }
  return false;
}

function segments(pathname: string): string[] {
  return pathname
    .split("/")
    .filter((s) => s !== "")
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw new StreamingHttpError(400, `malformed path segment ${JSON.stringify(s)}`);
      }
    });
}

/** Parses and checks a request URL; throws StreamingHttpError 400/404 naming the problem. */
export function parseStreamingRequest(url: URL): StreamingRequest {
  const [kind, namespace, pod, container, ...rest] = segments(url.pathname);
  const params = url.searchParams;
  if (kind === "portForward") {
    if (namespace === undefined || pod === undefined || rest.length > 0) {
      throw new StreamingHttpError(404, "404 page not found: expected /portForward/{namespace}/{podName}");
    }
    const ports = params.getAll("port").map((raw) => {
      const port = Number(raw);
      if (!/^\d+$/.test(raw) || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new StreamingHttpError(400, `port: ${JSON.stringify(raw)} is not a port number (1-65535)`);
      }
      return port;
    });
    return { kind, target: { namespace, pod }, ports };
  }
  if (kind !== "exec" && kind !== "attach") throw new StreamingHttpError(404, "404 page not found");
  if (namespace === undefined || pod === undefined || container === undefined || rest.length > 1) {
    throw new StreamingHttpError(
      404,
      `404 page not found: expected /${kind}/{namespace}/{podName}/{containerName}`,
    );
  }
  const tty = flag(params, ["tty"]);
  const stdin = flag(params, ["input", "stdin"]);
  const stdout = flag(params, ["output", "stdout"]);
  // A terminal has one output stream: stderr is dropped with tty, as the kubelet does.
  const stderr = !tty && flag(params, ["error", "stderr"]);
  if (!stdin && !stdout && !stderr) {
    throw new StreamingHttpError(400, "you must specify at least 1 of stdin, stdout, stderr");
  }
  const target = { namespace, pod, container };
  if (kind === "attach") return { kind, target, stdin, stdout, stderr, tty };
  const command = params.getAll("command");
  if (command.length === 0 || command[0] === "") {
    throw new StreamingHttpError(400, "command: no command given (command=... query parameters)");
  }
  return { kind, target, command, stdin, stdout, stderr, tty };
}
