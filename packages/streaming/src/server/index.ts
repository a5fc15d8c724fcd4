// The agent's streaming endpoints (/exec, /attach, /portForward with the kubelet's paths and
// parameters). The agent authenticates the request and says how a pod or container maps to the
// runtime's streaming URL; this module checks the request, answers plain HTTP errors before any
// upgrade, negotiates the client's protocol and relays to the runtime.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { ErrorCode, isNodeletError } from "@nodelet/runtime-api";
import { SPDY_PORTFORWARD, SPDY_REMOTECOMMAND_V4, WS_V4, WS_V4_BASE64, WS_V5 } from "../protocol.js";
import type { SessionLimits } from "./limits.js";
import { negotiate, rejectUpgrade } from "./negotiate.js";
import { relayPortForward } from "./port-forward.js";
import { relayRemoteCommand } from "./remote-command.js";
import {
  type ContainerTarget,
  parseStreamingRequest,
  StreamingHttpError,
  type StreamingRequest,
} from "./request.js";

type Streams = { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean };

/** How the agent finds the runtime's streaming URL; NodeletError NotFound becomes 404, InvalidArgument 400. */
export interface StreamingTargets {
  exec(target: ContainerTarget, command: readonly string[], streams: Streams): Promise<URL>;
  attach(target: ContainerTarget, streams: Streams): Promise<URL>;
  portForward(target: { namespace: string; pod: string }, ports: readonly number[]): Promise<URL>;
}

export interface StreamingServerOptions extends SessionLimits {
  targets: StreamingTargets;
  /** Told about failures of the relay itself (never with a runtime URL). */
  onError?: ((err: unknown, what: string) => void) | undefined;
}

export interface StreamingServer {
  /** Upgrade requests to a streaming path (the HTTP server's 'upgrade' event, after authentication). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** A plain request to a streaming path: 400/404 naming the problem (an upgrade is required). */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** Ends every session in progress. */
  close(): void;
  /** Sessions in progress (for tests and metrics). */
  readonly active: number;
}

export { isStreamingPath } from "./request.js";

const EXEC_WS = [WS_V5, WS_V4, WS_V4_BASE64];
const PF_WS = [WS_V4, WS_V4_BASE64];

function httpErrorFrom(err: unknown): StreamingHttpError {
  if (err instanceof StreamingHttpError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isNodeletError(err, ErrorCode.NotFound)) return new StreamingHttpError(404, message);
  if (isNodeletError(err, ErrorCode.InvalidArgument) || isNodeletError(err, ErrorCode.FailedPrecondition)) {
    return new StreamingHttpError(400, message);
  }
  return new StreamingHttpError(500, message);
}

function parse(req: IncomingMessage): StreamingRequest {
  let url: URL;
  try {
    url = new URL(req.url ?? "", "http://agent.invalid");
  } catch {
    throw new StreamingHttpError(400, "malformed request URL");
  }
  if (req.method !== "GET" && req.method !== "POST") {
    throw new StreamingHttpError(405, `method ${req.method ?? ""} not allowed`, { Allow: "GET, POST" });
  }
  return parseStreamingRequest(url);
}

export function createStreamingServer(options: StreamingServerOptions): StreamingServer {
  const { targets } = options;
  const onError = options.onError ?? (() => {});
  const teardowns = new Set<() => void>();
  const track = (teardown: () => void) => {
    teardowns.add(teardown);
    return () => teardowns.delete(teardown);
  };

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const request = parse(req);
    const isPf = request.kind === "portForward";
    const negotiated = negotiate(
      req,
      [isPf ? SPDY_PORTFORWARD : SPDY_REMOTECOMMAND_V4],
      isPf ? PF_WS : EXEC_WS,
    );
    if (isPf && negotiated.transport === "websocket" && request.ports.length === 0) {
      throw new StreamingHttpError(
        400,
        "port: WebSocket port-forward needs at least one port=... query parameter",
      );
    }
    const ctx = { req, socket, head, negotiated, limits: options, track, onError };
    // Socket errors after this point end the session through its own close handling.
    socket.on("error", () => {});
    if (request.kind === "portForward") {
      const url = await targets.portForward(request.target, request.ports);
      await relayPortForward(ctx, url, request.ports);
      return;
    }
    const streams = {
      stdin: request.stdin,
      stdout: request.stdout,
      stderr: request.stderr,
      tty: request.tty,
    };
    if (request.kind === "exec") {
      const url = await targets.exec(request.target, request.command, streams);
      await relayRemoteCommand(ctx, url, streams, request.command);
    } else {
      const url = await targets.attach(request.target, streams);
      await relayRemoteCommand(ctx, url, streams, undefined);
    }
  }

  return {
    handleUpgrade(req, socket, head) {
      upgrade(req, socket, head).catch((err: unknown) => {
        const httpErr = httpErrorFrom(err);
        if (httpErr.status >= 500) onError(err, "streaming request");
        rejectUpgrade(socket, httpErr.status, httpErr.message, httpErr.headers);
      });
    },
    handleRequest(req, res) {
      let status = 400;
      let message = "Upgrade request required (WebSocket or SPDY/3.1)";
      let headers: Record<string, string> = {};
      try {
        parse(req);
      } catch (err) {
        const httpErr = httpErrorFrom(err);
        status = httpErr.status;
        message = httpErr.message;
        headers = httpErr.headers;
      }
      const body = `${message}\n`;
      res.writeHead(status, {
        ...headers,
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Length": Buffer.byteLength(body),
        "X-Content-Type-Options": "nosniff",
      });
      res.end(body);
    },
    close() {
      for (const teardown of [...teardowns]) teardown();
    },
    get active() {
      return teardowns.size;
    },
  };
}
