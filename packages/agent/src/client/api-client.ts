// The client side of `nodelet <verb>`: talking to a running agent's HTTP API (the kubelet's port,
// 10250 by default), with the bearer token the agent was given (--authentication-token-file).
//
// Exit codes every verb shares: 0 done, 1 the agent could not be reached or answered with an error
// (unknown pod, refused token, ...), 2 bad usage (an unknown flag, a missing argument, a bad value).

import { ErrorCode, errorChainMessage, NodeletError, readRegularFile } from "@nodelet/runtime-api";

/** The agent's address when --server is not given (the kubelet's port on loopback). */
export const DEFAULT_SERVER = "http://127.0.0.1:10250";

/** A token file larger than this is refused (a token is a few hundred bytes). */
export const MAX_TOKEN_FILE_BYTES = 64 * 1024;

/** Most of an error answer's body kept in the error message. */
const MAX_ERROR_BODY_BYTES = 4096;

export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad usage of a verb (exit code 2): a bad flag value, a missing or extra argument, a bad --server. */
export class ClientUsageError extends NodeletError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ErrorCode.InvalidArgument, message, { details });
    this.name = "ClientUsageError";
  }
}

/** The agent could not be reached (refused, reset, DNS, TLS) (exit code 1). */
export class AgentUnreachableError extends NodeletError {
  readonly server: string;
  constructor(server: string, cause: unknown) {
    super(ErrorCode.Unknown, `cannot reach the agent at ${server}: ${errorChainMessage(cause)}`, {
      cause,
      details: { server },
    });
    this.name = "AgentUnreachableError";
    this.server = server;
  }
}

/** The agent answered with an HTTP error (exit code 1); the message is the agent's own text. */
export class AgentApiError extends NodeletError {
  readonly status: number;
  readonly path: string;
  constructor(status: number, path: string, body: string) {
    const text = body.trim();
    super(codeForStatus(status), text === "" ? `the agent answered ${status} for ${path}` : text, {
      details: { status, path },
    });
    this.name = "AgentApiError";
    this.status = status;
    this.path = path;
  }
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
    case 422:
      return ErrorCode.InvalidArgument;
    case 401:
      return ErrorCode.Unauthenticated;
    case 403:
      return ErrorCode.PermissionDenied;
    case 404:
      return ErrorCode.NotFound;
    default:
      return status >= 500 ? ErrorCode.Internal : ErrorCode.Unknown;
  }
}

/** The exit code for an error a verb threw: 2 for bad usage, 1 for anything else. */
export function exitCodeFor(err: unknown): ExitCode {
  return err instanceof ClientUsageError ? ExitCode.Usage : ExitCode.Failure;
}

/** The flags every client verb takes. */
export interface ClientFlags {
  server?: string | undefined;
  tokenFile?: string | undefined;
}

export interface AgentClientOptions {
  /** The agent's base URL, http:// or https://. */
  server: string;
  /** The bearer token, sent as `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Injectable for tests; default globalThis.fetch. */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal | undefined;
}

export interface AgentClient {
  readonly server: URL;
  /**
   * GET `path` (segments already encoded, see apiPath); resolves with the response once its headers
   * arrived and the status is 2xx, so the body can be streamed. Throws AgentApiError or
   * AgentUnreachableError otherwise.
   */
  get(path: string, options?: RequestOptions): Promise<Response>;
  /** GET and parse a JSON answer. */
  getJson<T>(path: string, options?: RequestOptions): Promise<T>;
  /** GET a text answer, whole. */
  getText(path: string, options?: RequestOptions): Promise<string>;
}

/** An API path from segments, each percent-encoded: apiPath("containerLogs", ns, pod, c). */
export function apiPath(...segments: string[]): string {
  return `/${segments.map((s) => encodeURIComponent(s)).join("/")}`;
}

/** Checks --server: an absolute http(s) URL without credentials, query or fragment. */
export function parseServer(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new ClientUsageError(`--server ${JSON.stringify(server)} is not a URL (e.g. ${DEFAULT_SERVER})`, {
      flag: "--server",
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ClientUsageError(`--server ${JSON.stringify(server)} must be an http:// or https:// URL`, {
      flag: "--server",
    });
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw new ClientUsageError(
      `--server ${JSON.stringify(server)} must not carry credentials, a query or a fragment (use --token-file)`,
      { flag: "--server" },
    );
  }
  return url;
}

/**
 * Reads the CLI's --token-file safely (a regular file, at most MAX_TOKEN_FILE_BYTES); the token
 * trimmed. Not the server's readTokenFile (secret-files.ts), which decides what a token may be.
 */
export async function readClientToken(path: string): Promise<string> {
  let text: string;
  try {
    ({ text } = await readRegularFile(path, {
      maxBytes: MAX_TOKEN_FILE_BYTES,
      code: ErrorCode.InvalidArgument,
    }));
  } catch (err) {
    throw new ClientUsageError(`--token-file ${errorChainMessage(err)}`, { flag: "--token-file", path });
  }
  const token = text.trim();
  if (token === "" || /\s/.test(token)) {
    throw new ClientUsageError(
      `--token-file ${path}: ${token === "" ? "is empty" : "holds more than one word"}`,
      { flag: "--token-file", path },
    );
  }
  return token;
}

/** The client for the verb's --server and --token-file. */
export async function clientFromFlags(flags: ClientFlags, fetchImpl?: typeof fetch): Promise<AgentClient> {
  const server = flags.server ?? DEFAULT_SERVER;
  parseServer(server);
  const token = flags.tokenFile === undefined ? undefined : await readClientToken(flags.tokenFile);
  return createAgentClient({ server, token, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
}

async function errorBody(response: Response): Promise<string> {
  try {
    const text = await response.text();
    return text.length > MAX_ERROR_BODY_BYTES ? `${text.slice(0, MAX_ERROR_BODY_BYTES)}...` : text;
  } catch {
    // The body is only the error's wording; the status alone still says what failed.
    return "";
  }
}

export function createAgentClient(options: AgentClientOptions): AgentClient {
  const base = parseServer(options.server);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;

  async function get(path: string, request: RequestOptions = {}): Promise<Response> {
    const url = new URL(base);
    url.pathname = `${base.pathname.replace(/\/+$/, "")}${path}`;
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers,
        ...(request.signal ? { signal: request.signal } : {}),
      });
    } catch (err) {
      if (request.signal?.aborted) throw err;
      throw new AgentUnreachableError(base.origin, err);
    }
    if (!response.ok) throw new AgentApiError(response.status, path, await errorBody(response));
    return response;
  }

  return {
    server: base,
    get,
    async getJson<T>(path: string, request?: RequestOptions): Promise<T> {
      const response = await get(path, request);
      const text = await response.text();
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        throw new NodeletError(ErrorCode.InvalidResponse, `the agent's answer to ${path} is not JSON`, {
          cause: err,
          details: { path },
        });
      }
    },
    async getText(path: string, request?: RequestOptions): Promise<string> {
      return (await get(path, request)).text();
    },
  };
}
