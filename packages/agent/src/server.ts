// The agent's read-only HTTP API: /healthz, /pods, /runningpods, /metrics (the kubelet's paths).
//
// Plain HTTP is served only on a loopback address. Any other address needs TLS (a certificate and
// key) and a bearer token file; listen() refuses otherwise. When a token file is set, every endpoint
// except /healthz requires `Authorization: Bearer <token>` (the kubelet serves /healthz on its own
// unauthenticated healthz port; the agent has one port, so /healthz stays open for liveness checks
// and says nothing beyond which checks fail).

import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { ErrorCode, NodeletError, type Pod, type V1Pod } from "@nodelet/runtime-api";
import { isStreamingPath, type StreamingServer } from "@nodelet/streaming";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ConsoleRoutes } from "./console-routes.js";
import type { ContainerLogsRoute } from "./container-logs-route.js";
import { DASHBOARD_OPEN_PATHS } from "./dashboard/assets.js";
import { sendBody, TEXT_PLAIN } from "./http-response.js";
import { isLoopbackAddress } from "./loopback.js";
import { createRequestGuard, installRequestGuard, SERVER_LIMITS, sha256 } from "./request-guard.js";
import { readTlsFile, readTokenFile } from "./secret-files.js";

/** What the server shows; the agent implements it. */
export interface AgentView {
  /** The pods the agent runs, each with its current status. */
  pods(): V1Pod[];
  /** The pods as the runtime sees them. */
  runningPods(): Promise<Pod[]>;
  healthChecks(): { name: string; ok: boolean; message: string }[];
  registry: Registry;
}

export interface AgentServerOptions {
  address: string;
  /** 0 picks a free port; listen() says which. */
  port: number;
  tls?: { certFile: string; keyFile: string } | undefined;
  /** A file holding the bearer token clients must send. */
  tokenFile?: string | undefined;
  view: AgentView;
  logger: Logger;
  /** Time allowed to receive a request's headers (slowloris); default 10 s. */
  headersTimeoutMs?: number | undefined;
  /** Time allowed to receive a whole request; default 30 s. */
  requestTimeoutMs?: number | undefined;
  /** /exec, /attach and /portForward (streaming-targets.ts); upgrades to other paths get 404. */
  streaming?: StreamingServer | undefined;
  /** GET /containerLogs/{namespace}/{pod}/{container} (container-logs-route.ts). */
  containerLogs?: ContainerLogsRoute | undefined;
  /** The node console: /events, /watch, /node and the dashboard (console-routes.ts). */
  console?: ConsoleRoutes | undefined;
  /** Connections served at once (SERVER_LIMITS.maxConnections); more are closed on accept. */
  maxConnections?: number | undefined;
  /** Time a TLS handshake may take (SERVER_LIMITS.handshakeTimeoutMs). */
  tlsHandshakeTimeoutMs?: number | undefined;
  /** With TLS: the node's names and addresses accepted in the Host header (besides loopback). */
  nodeHosts?: readonly string[] | undefined;
}

export interface AgentServer {
  /** Starts serving; resolves with the bound address once listening. */
  listen(): Promise<{ address: string; port: number }>;
  /** Stops accepting, closes open connections, resolves once closed. */
  close(): Promise<void>;
}

const MAX_HEADER_BYTES = 16 * 1024;

/** A runtime pod as a minimal v1 Pod, like the kubelet's /runningpods (kubecontainer.Pod.ToAPIPod). */
function toAPIPod(pod: Pod): V1Pod {
  return {
    metadata: { name: pod.name, namespace: pod.namespace, uid: pod.id },
    spec: { containers: pod.containers.map((c) => ({ name: c.name, image: c.image })) },
    status: {},
  };
}

function podList(items: V1Pod[]): string {
  return JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: {}, items });
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function createAgentServer(options: AgentServerOptions): AgentServer {
  const { view, logger } = options;
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const requestTimeout = Math.max(options.requestTimeoutMs ?? 30_000, headersTimeout);
  let server: Server | undefined;
  let tokenDigest: Buffer | undefined;

  function healthz(url: URL): { status: number; body: string } {
    const checks = view.healthChecks();
    const verbose = url.searchParams.has("verbose");
    const failed = checks.filter((c) => !c.ok);
    if (failed.length === 0 && !verbose) return { status: 200, body: "ok" };
    const lines = checks
      .filter((c) => verbose || !c.ok)
      .map((c) => (c.ok ? `[+]${c.name} ok` : `[-]${c.name} failed: ${c.message}`));
    lines.push(failed.length === 0 ? "healthz check passed" : "healthz check failed");
    return { status: failed.length === 0 ? 200 : 500, body: `${lines.join("\n")}\n` };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<number> {
    let url: URL;
    try {
      url = new URL(req.url ?? "", "http://agent.invalid");
    } catch {
      throw new HttpError(400, `malformed request URL ${JSON.stringify(req.url)}`);
    }
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
    // Host, Origin and the bearer token were checked by the request guard (request-guard.ts).
    // Streaming endpoints answer plain requests here (400/404 naming the problem; GET and POST).
    if (options.streaming && isStreamingPath(path)) {
      options.streaming.handleRequest(req, res);
      return res.statusCode;
    }
    const head = req.method === "HEAD";
    if (req.method !== "GET" && !head) {
      throw new HttpError(405, `method ${req.method ?? ""} not allowed`, { Allow: "GET, HEAD" });
    }
    const logsStatus = await options.containerLogs?.handle(req, res, path, url);
    if (logsStatus !== undefined) return logsStatus;
    const consoleStatus = await options.console?.handle(req, res, path, url);
    if (consoleStatus !== undefined) return consoleStatus;
    switch (path) {
      case "/healthz": {
        const { status, body } = healthz(url);
        sendBody(res, status, TEXT_PLAIN, body, head);
        return status;
      }
      case "/pods":
        sendBody(res, 200, "application/json", podList(view.pods()), head);
        return 200;
      case "/runningpods": {
        const pods = await view.runningPods();
        sendBody(res, 200, "application/json", podList(pods.map(toAPIPod)), head);
        return 200;
      }
      case "/metrics": {
        const body = await view.registry.metrics();
        sendBody(res, 200, view.registry.contentType, body, head);
        return 200;
      }
      default:
        throw new HttpError(404, "404 page not found");
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    route(req, res)
      .catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        const message = err instanceof Error ? err.message : String(err);
        if (status === 500) logger.error({ err, method: req.method, url: req.url }, "request failed");
        if (!res.headersSent) {
          if (err instanceof HttpError) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
          sendBody(res, status, TEXT_PLAIN, `${message}\n`, req.method === "HEAD");
        } else {
          res.destroy();
        }
        return status;
      })
      .then((status) => {
        logger.debug(
          { method: req.method, url: req.url, status, ms: Math.round(performance.now() - started) },
          "http request",
        );
      });
  }

  async function listen(): Promise<{ address: string; port: number }> {
    if (server) throw new NodeletError(ErrorCode.FailedPrecondition, "the agent server is already listening");
    const { address, port, tls, tokenFile } = options;
    if (!isLoopbackAddress(address)) {
      if (!tls) {
        throw new NodeletError(
          ErrorCode.InvalidConfig,
          `refusing to serve plain HTTP on ${address}: set --tls-cert-file, --tls-private-key-file and ` +
            "--authentication-token-file, or use a loopback address",
        );
      }
      if (tokenFile === undefined) {
        throw new NodeletError(
          ErrorCode.InvalidConfig,
          `refusing to serve ${address} without authentication: set --authentication-token-file, ` +
            "or use a loopback address",
        );
      }
    }
    if (tokenFile !== undefined) {
      const { token, warning } = await readTokenFile(tokenFile);
      if (warning) logger.warn({ path: warning.path, mode: warning.mode }, warning.message);
      tokenDigest = sha256(token);
    }
    const httpOptions = {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
    };
    const cert = tls ? await readTlsFile(tls.certFile, "certificate") : undefined;
    const key = tls ? await readTlsFile(tls.keyFile, "private key") : undefined;
    if (key?.warning) logger.warn({ path: key.warning.path, mode: key.warning.mode }, key.warning.message);
    const created =
      cert && key
        ? createHttpsServer(
            {
              ...httpOptions,
              cert: cert.pem,
              key: key.pem,
              handshakeTimeout: options.tlsHandshakeTimeoutMs ?? SERVER_LIMITS.handshakeTimeoutMs,
            },
            handle,
          )
        : createHttpServer(httpOptions, handle);
    created.maxConnections = options.maxConnections ?? SERVER_LIMITS.maxConnections;
    installRequestGuard(
      created,
      createRequestGuard({
        tls: tls !== undefined,
        nodeHosts: options.nodeHosts ?? [],
        tokenDigest,
        // The dashboard's page and files: it asks for the token itself (console-routes.ts).
        openPaths: ["/healthz", ...DASHBOARD_OPEN_PATHS],
      }),
      (req, reason, status) =>
        logger.debug({ method: req.method, url: req.url, status, reason }, "request refused"),
    );
    created.on("clientError", (err: NodeJS.ErrnoException, socket) => {
      logger.debug({ err: err.message, code: err.code }, "malformed request");
      // A TLS error (a handshake that timed out or failed) has no HTTP to answer with: end the socket.
      if (!socket.writable || err.code?.startsWith("ERR_TLS_") || err.code?.startsWith("ERR_SSL_")) {
        socket.destroy();
        return;
      }
      const status =
        err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
      const reason =
        status === 431
          ? "Request Header Fields Too Large"
          : status === 408
            ? "Request Timeout"
            : "Bad Request";
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    // WebSocket and SPDY upgrades (after the request guard): only the streaming endpoints take them.
    created.on("upgrade", (req: IncomingMessage, socket: Duplex, upgradeHead: Buffer) => {
      let path = "";
      try {
        path = new URL(req.url ?? "", "http://agent.invalid").pathname;
      } catch {
        // A malformed URL is no streaming path: 404 below.
      }
      if (options.streaming && isStreamingPath(path))
        options.streaming.handleUpgrade(req, socket, upgradeHead);
      else socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    });
    server = created;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        server = undefined;
        reject(
          new NodeletError(ErrorCode.InvalidConfig, `cannot listen on ${address}:${port}: ${err.message}`, {
            cause: err,
          }),
        );
      };
      created.once("error", onError);
      created.listen({ host: address, port }, () => {
        created.off("error", onError);
        created.on("error", (err) => logger.error({ err }, "agent server error"));
        resolve();
      });
    });
    const bound = created.address() as AddressInfo;
    logger.info(
      { address: bound.address, port: bound.port, tls: tls !== undefined, auth: tokenDigest !== undefined },
      "serving the agent API",
    );
    return { address: bound.address, port: bound.port };
  }

  function close(): Promise<void> {
    const current = server;
    server = undefined;
    if (!current) return Promise.resolve();
    return new Promise((resolve, reject) => {
      current.close((err) => (err ? reject(err) : resolve()));
      current.closeAllConnections();
      // Upgraded sockets are no longer the server's connections: the streaming sessions end here.
      options.streaming?.close();
    });
  }

  return { listen, close };
}
