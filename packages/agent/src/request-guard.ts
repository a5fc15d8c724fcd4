// The check every request to the agent's API passes before any handler sees it, plain requests
// and upgrades (WebSocket, SPDY) alike: the Host header must name this node (a loopback literal
// or `localhost` on plain HTTP, which only ever listens on loopback), a browser's WebSocket
// upgrade must come from the same origin, and the bearer token must match when one is set.
// Without the Host check a web page could read /pods (literal env values) through DNS
// rebinding: its own name resolving to 127.0.0.1 makes the browser treat the agent as
// same-origin, but the Host header still carries the page's name.
import { createHash, timingSafeEqual } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from "node:http";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import { isLoopbackAddress } from "./loopback.js";

export interface RequestGuardOptions {
  /** Served over TLS: the Host may also be one of `nodeHosts`. */
  tls: boolean;
  /** The node's names and addresses accepted as Host with TLS (the node name, hostname, node IPs). */
  nodeHosts?: readonly string[];
  /** SHA-256 of the bearer token clients must send; undefined: no token. */
  tokenDigest?: Buffer | undefined;
  /** Paths served without the token (the kubelet's /healthz stays open for liveness checks). */
  openPaths?: readonly string[];
}

export type GuardVerdict =
  | { ok: true }
  | { ok: false; status: 400 | 401 | 403 | 421; reason: string; headers?: Record<string, string> };

export type RequestGuard = (req: IncomingMessage) => GuardVerdict;

export function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** The host part of a Host header (`[::1]:8080` -> `::1`), lowercased; undefined when malformed. */
export function hostOf(header: string): string | undefined {
  const value = header.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(value);
  if (bracketed) return isIP(bracketed[1] as string) === 6 ? (bracketed[1] as string) : undefined;
  const plain = /^([a-z0-9._-]+)(?::(\d{1,5}))?$/.exec(value);
  return plain ? (plain[1] as string) : undefined;
}

/** A loopback IP literal (127.0.0.0/8, ::1) or `localhost`: what plain HTTP accepts as Host. */
export function isLoopbackHost(host: string): boolean {
  return (host === "localhost" || isIP(host) !== 0) && isLoopbackAddress(host);
}

/**
 * A browser's WebSocket cannot send an Authorization header: the dashboard's terminal offers the
 * token as the subprotocol `base64url.bearer.authorization.k8s.io.<base64url token>`, which the
 * Kubernetes API server accepts the same way. Only read on upgrades; never selected as the protocol.
 */
export const BEARER_SUBPROTOCOL_PREFIX = "base64url.bearer.authorization.k8s.io.";

function subprotocolToken(header: string | undefined): string | undefined {
  for (const offered of (header ?? "").split(",")) {
    const value = offered.trim();
    if (!value.startsWith(BEARER_SUBPROTOCOL_PREFIX)) continue;
    const encoded = value.slice(BEARER_SUBPROTOCOL_PREFIX.length);
    return /^[A-Za-z0-9_-]+$/.test(encoded) ? Buffer.from(encoded, "base64url").toString("utf8") : undefined;
  }
  return undefined;
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match ? match[1] : undefined;
}

/** Compares in time independent of where the tokens differ. */
function tokenMatches(presented: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(sha256(presented), expectedDigest);
}

function pathOf(url: string | undefined): string {
  const path = (url ?? "").split("?")[0] ?? "";
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

export function createRequestGuard(options: RequestGuardOptions): RequestGuard {
  const nodeHosts = new Set(
    (options.nodeHosts ?? []).map((h) => h.toLowerCase().replace(/^\[(.*)\]$/, "$1")),
  );
  const openPaths = new Set(options.openPaths ?? ["/healthz"]);
  const hostAllowed = (host: string) => isLoopbackHost(host) || (options.tls && nodeHosts.has(host));

  return (req) => {
    const header = req.headers.host;
    if (header === undefined || header.trim() === "") {
      return { ok: false, status: 400, reason: "missing Host header" };
    }
    const host = hostOf(header);
    if (host === undefined || !hostAllowed(host)) {
      return { ok: false, status: 421, reason: `Host ${JSON.stringify(header)} is not this node` };
    }
    // Browsers do not apply CORS to WebSocket handshakes, so a page on another origin could open
    // one; they always send Origin, which must then be this very origin. Non-browser clients send
    // no Origin.
    const origin = req.headers.origin;
    if (req.headers.upgrade !== undefined && origin !== undefined) {
      const expected = `${options.tls ? "https" : "http"}://${header.trim().toLowerCase()}`;
      if (origin.trim().toLowerCase() !== expected) {
        return { ok: false, status: 403, reason: `Origin ${JSON.stringify(origin)} is not this server` };
      }
    }
    if (options.tokenDigest !== undefined && !openPaths.has(pathOf(req.url))) {
      const token =
        bearerToken(req.headers.authorization) ??
        (req.headers.upgrade !== undefined
          ? subprotocolToken(req.headers["sec-websocket-protocol"])
          : undefined);
      if (token === undefined || !tokenMatches(token, options.tokenDigest)) {
        return {
          ok: false,
          status: 401,
          reason: "Unauthorized",
          headers: { "WWW-Authenticate": 'Bearer realm="nodelet"' },
        };
      }
    }
    return { ok: true };
  };
}

function rejectResponse(res: ServerResponse, verdict: Extract<GuardVerdict, { ok: false }>): void {
  // No body and no data: the reason is for the agent's log, not for whoever misdirected the request.
  res.writeHead(verdict.status, { ...verdict.headers, "Content-Length": 0, Connection: "close" });
  res.end();
}

function rejectUpgrade(socket: Duplex, verdict: Extract<GuardVerdict, { ok: false }>): void {
  const headers = Object.entries(verdict.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${verdict.status} ${STATUS_CODES[verdict.status]}\r\n${headers}Connection: close\r\nContent-Length: 0\r\n\r\n`,
  );
}

/**
 * Runs `guard` before every 'request' and 'upgrade' listener of `server`, whoever adds them and
 * whenever: a refused request or upgrade never reaches them. `onReject` hears why.
 */
export function installRequestGuard(
  server: Server,
  guard: RequestGuard,
  onReject: (req: IncomingMessage, reason: string, status: number) => void = () => undefined,
): void {
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  (server as { emit: typeof emit }).emit = (event, ...args) => {
    if (event === "request" || event === "upgrade") {
      const req = args[0] as IncomingMessage;
      const verdict = guard(req);
      if (!verdict.ok) {
        onReject(req, verdict.reason, verdict.status);
        if (event === "request") rejectResponse(args[1] as ServerResponse, verdict);
        else rejectUpgrade(args[1] as Duplex, verdict);
        return true;
      }
    }
    return emit(event, ...args);
  };
}

/** Bounds on the server's connections: their number, and (TLS) how long a handshake may take. */
export const SERVER_LIMITS = {
  /** Connections served at once; more are closed on accept (the kubelet's Go server has no cap; a loopback agent needs few). */
  maxConnections: 256,
  /** A TLS handshake must finish within this (Node's default is 120 s). */
  handshakeTimeoutMs: 10_000,
} as const;
