// Opening a streaming connection: the HTTP/1.1 upgrade to SPDY/3.1 (X-Stream-Protocol-Version
// negotiation) and the WebSocket handshake (subprotocol negotiation), both with AbortSignal.

import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { StreamingError, StreamingErrorCode } from "./errors.js";
import { HEADER_PROTOCOL_VERSION } from "./protocol.js";
import { SpdySession } from "./spdy/session.js";
import { WebSocketConnection } from "./websocket/connection.js";
import { acceptValue, newClientKey } from "./websocket/handshake.js";

export interface ConnectOptions {
  /** Extra request headers, e.g. `Authorization: Bearer …` for an agent. Never logged. */
  headers?: Record<string, string> | undefined;
  signal?: AbortSignal | undefined;
  /** For https/wss URLs: trusted CA (PEM) and whether to check the server's certificate. */
  ca?: string | Buffer | undefined;
  rejectUnauthorized?: boolean | undefined;
}

export function parseStreamingUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new StreamingError(StreamingErrorCode.InvalidArgument, `url: not a URL: ${String(url)}`, {
      cause: err,
      details: { field: "url" },
    });
  }
  if (!/^(https?|wss?):$/.test(parsed.protocol)) {
    throw new StreamingError(
      StreamingErrorCode.InvalidArgument,
      `url: unsupported scheme ${parsed.protocol}`,
      {
        details: { field: "url" },
      },
    );
  }
  return parsed;
}

function abortError(signal: AbortSignal): StreamingError {
  return new StreamingError(StreamingErrorCode.Aborted, "the streaming session was aborted", {
    cause: signal.reason,
  });
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    res.on("data", (c: Buffer) => {
      if (size < 64 * 1024) parts.push(c);
      size += c.length;
    });
    res.on("end", () => resolve(Buffer.concat(parts).toString("utf8").trim()));
    res.on("error", () => resolve(Buffer.concat(parts).toString("utf8").trim()));
  });
}

interface Upgraded {
  res: IncomingMessage;
  socket: Socket;
  head: Buffer;
}

/**
 * Sends an upgrade request and resolves once the server switched protocols. Any other answer
 * rejects with its status and body (403: ProtocolNegotiationFailed, else UpgradeFailed).
 */
function requestUpgrade(
  url: string | URL,
  method: "GET" | "POST",
  headers: Record<string, string | string[]>,
  what: string,
  offered: readonly string[],
  options: ConnectOptions,
): Promise<Upgraded> {
  const target = parseStreamingUrl(url);
  if (target.protocol === "ws:") target.protocol = "http:";
  if (target.protocol === "wss:") target.protocol = "https:";
  const { signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const requestFn = target.protocol === "https:" ? httpsRequest : httpRequest;
    const req = requestFn(target, {
      method,
      headers: { ...options.headers, ...headers },
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
    });
    const onAbort = () => {
      req.destroy();
      reject(abortError(signal as AbortSignal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    req.on("upgrade", (res, socket, head) => {
      signal?.removeEventListener("abort", onAbort);
      socket.setNoDelay(true);
      resolve({ res, socket, head });
    });
    req.on("response", (res) => {
      signal?.removeEventListener("abort", onAbort);
      void readBody(res).then((body) => {
        const status = res.statusCode ?? 0;
        reject(
          new StreamingError(
            status === 403 ? StreamingErrorCode.ProtocolNegotiationFailed : StreamingErrorCode.UpgradeFailed,
            `${what} refused with HTTP ${status}${body ? `: ${body}` : ""}`,
            { details: { status, offered: [...offered] } },
          ),
        );
      });
    });
    req.on("error", (err) => {
      signal?.removeEventListener("abort", onAbort);
      reject(
        new StreamingError(
          StreamingErrorCode.UpgradeFailed,
          `cannot connect to ${target.host}: ${err.message}`,
          {
            cause: err,
          },
        ),
      );
    });
    req.end();
  });
}

function negotiationFailed(socket: Duplex, message: string, offered: readonly string[]): StreamingError {
  socket.destroy();
  return new StreamingError(StreamingErrorCode.ProtocolNegotiationFailed, message, {
    details: { offered: [...offered] },
  });
}

/** The protocol the server's answer names, which must be one we offered. */
function chosen(
  socket: Duplex,
  header: string | string[] | undefined,
  what: string,
  offered: readonly string[],
): string {
  const protocol = String(header ?? "");
  if (!offered.includes(protocol)) {
    throw negotiationFailed(
      socket,
      `the server chose ${what} ${JSON.stringify(protocol)}, not one of ${offered.join(", ")}`,
      offered,
    );
  }
  return protocol;
}

/** Upgrades to SPDY/3.1 offering `protocols` in order; resolves with the session and the chosen one. */
export async function connectSpdy(
  url: string | URL,
  protocols: readonly string[],
  options: ConnectOptions = {},
): Promise<{ session: SpdySession; protocol: string; socket: Duplex }> {
  const { res, socket, head } = await requestUpgrade(
    url,
    "POST",
    { Connection: "Upgrade", Upgrade: "SPDY/3.1", [HEADER_PROTOCOL_VERSION]: [...protocols] },
    "upgrade to SPDY/3.1",
    protocols,
    options,
  );
  const protocol = chosen(socket, res.headers[HEADER_PROTOCOL_VERSION.toLowerCase()], "protocol", protocols);
  const session = new SpdySession(socket, { isServer: false });
  if (head.length > 0) socket.unshift(head);
  return { session, protocol, socket };
}

/**
 * Opens a WebSocket offering `protocols` in order. Nothing is read from the connection until its
 * attach(): the ready frame and port prefixes can arrive in the same read as the 101.
 */
export async function connectWebSocket(
  url: string | URL,
  protocols: readonly string[],
  options: ConnectOptions = {},
): Promise<WebSocketConnection> {
  const key = newClientKey();
  const { res, socket, head } = await requestUpgrade(
    url,
    "GET",
    {
      Connection: "Upgrade",
      Upgrade: "websocket",
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": key,
      "Sec-WebSocket-Protocol": protocols.join(", "),
    },
    "WebSocket upgrade",
    protocols,
    options,
  );
  if (String(res.headers.upgrade ?? "").toLowerCase() !== "websocket") {
    throw negotiationFailed(socket, "the server did not switch to WebSocket", protocols);
  }
  if (res.headers["sec-websocket-accept"] !== acceptValue(key)) {
    throw negotiationFailed(socket, "the server's Sec-WebSocket-Accept does not match our key", protocols);
  }
  if (res.headers["sec-websocket-extensions"] !== undefined) {
    throw negotiationFailed(socket, "the server named an extension, and none was offered", protocols);
  }
  const protocol = chosen(socket, res.headers["sec-websocket-protocol"], "subprotocol", protocols);
  return new WebSocketConnection(socket, "client", protocol, head);
}
