// The agent's read-only HTTP API: /healthz, /pods, /runningpods, /metrics (the kubelet's paths).
//
// Plain HTTP is served only on a loopback address. Any other address needs TLS (a certificate and
// key) and a bearer token file; listen() refuses otherwise. When a token file is set, every endpoint
// except /healthz requires `Authorization: Bearer <token>` (the kubelet serves /healthz on its own
// unauthenticated healthz port; the agent has one port, so /healthz stays open for liveness checks
// and says nothing beyond which checks fail).

import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { ErrorCode, NodeletError, type Pod, type V1Pod } from "@nodelet/runtime-api";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { isLoopbackAddress } from "./loopback.js";

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
}

export interface AgentServer {
  /** Starts serving; resolves with the bound address once listening. */
  listen(): Promise<{ address: string; port: number }>;
  /** Stops accepting, closes open connections, resolves once closed. */
  close(): Promise<void>;
}

const MAX_HEADER_BYTES = 16 * 1024;

/** Whether plain HTTP may be served on `address`: 127.0.0.0/8, ::1 (also IPv4-mapped) or "localhost". */
function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Compares the presented token with the expected one in time independent of where they differ. */
function tokenMatches(presented: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(sha256(presented), expectedDigest);
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match ? match[1] : undefined;
}

async function readConfigFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new NodeletError(
      ErrorCode.InvalidConfig,
      `cannot read the ${what} ${path}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

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

  function send(res: ServerResponse, status: number, contentType: string, body: string, head: boolean): void {
    res.writeHead(status, {
      "Content-Type": contentType,
      "Content-Length": Buffer.byteLength(body),
      "X-Content-Type-Options": "nosniff",
    });
    res.end(head ? undefined : body);
  }

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
    if (tokenDigest !== undefined && path !== "/healthz") {
      const token = bearerToken(req.headers.authorization);
      if (token === undefined || !tokenMatches(token, tokenDigest)) {
        throw new HttpError(401, "Unauthorized", { "WWW-Authenticate": 'Bearer realm="nodelet"' });
      }
    }
    const head = req.method === "HEAD";
    if (req.method !== "GET" && !head) {
      throw new HttpError(405, `method ${req.method ?? ""} not allowed`, { Allow: "GET, HEAD" });
    }
    switch (path) {
      case "/healthz": {
        const { status, body } = healthz(url);
        send(res, status, "text/plain; charset=utf-8", body, head);
        return status;
      }
      case "/pods":
        send(res, 200, "application/json", podList(view.pods()), head);
        return 200;
      case "/runningpods": {
        const pods = await view.runningPods();
        send(res, 200, "application/json", podList(pods.map(toAPIPod)), head);
        return 200;
      }
      case "/metrics": {
        const body = await view.registry.metrics();
        send(res, 200, view.registry.contentType, body, head);
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
          send(res, status, "text/plain; charset=utf-8", `${message}\n`, req.method === "HEAD");
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
      const token = (await readConfigFile(tokenFile, "authentication token file")).toString("utf8").trim();
      if (token === "") {
        throw new NodeletError(
          ErrorCode.InvalidConfig,
          `the authentication token file ${tokenFile} is empty`,
        );
      }
      tokenDigest = sha256(token);
    }
    const httpOptions = {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
    };
    const created = tls
      ? createHttpsServer(
          {
            ...httpOptions,
            cert: await readConfigFile(tls.certFile, "TLS certificate file"),
            key: await readConfigFile(tls.keyFile, "TLS private key file"),
          },
          handle,
        )
      : createHttpServer(httpOptions, handle);
    created.on("clientError", (err: NodeJS.ErrnoException, socket) => {
      logger.debug({ err: err.message, code: err.code }, "malformed request");
      if (!socket.writable) {
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
    });
  }

  return { listen, close };
}
