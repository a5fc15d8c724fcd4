// Protocol negotiation for the agent's endpoints: the first protocol in the client's list that the
// agent speaks wins (as the kubelet's httpstream.Handshake and golang.org/x/net/websocket do).

import { type IncomingMessage, STATUS_CODES } from "node:http";
import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { HEADER_ACCEPTED_VERSIONS, HEADER_PROTOCOL_VERSION } from "../protocol.js";
import { WebSocketConnection } from "../websocket/connection.js";
import { acceptValue, isValidClientKey } from "../websocket/handshake.js";
import { StreamingHttpError } from "./request.js";

export type Negotiated =
  | { transport: "spdy"; protocol: string }
  | { transport: "websocket"; protocol: string };

function headerList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const all = Array.isArray(value) ? value : [value];
  return all
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** The handshake's own checks (RFC 6455 section 4.2.1), before any runtime URL is asked for. */
function checkWebSocketHandshake(req: IncomingMessage): void {
  if (req.method !== "GET") {
    throw new StreamingHttpError(405, `a WebSocket upgrade must use GET, not ${req.method ?? ""}`, {
      Allow: "GET",
    });
  }
  const version = String(req.headers["sec-websocket-version"] ?? "");
  if (version !== "13") {
    throw new StreamingHttpError(
      426,
      `Sec-WebSocket-Version ${JSON.stringify(version)} is not supported: use 13`,
      { "Sec-WebSocket-Version": "13" },
    );
  }
  const key = String(req.headers["sec-websocket-key"] ?? "");
  if (!isValidClientKey(key)) {
    throw new StreamingHttpError(400, "Sec-WebSocket-Key must be 16 bytes in base64");
  }
}

export function negotiate(
  req: IncomingMessage,
  spdyProtocols: readonly string[],
  wsProtocols: readonly string[],
): Negotiated {
  const upgrade = String(req.headers.upgrade ?? "").toLowerCase();
  if (upgrade === "websocket") {
    checkWebSocketHandshake(req);
    const offered = headerList(req.headers["sec-websocket-protocol"]);
    const chosen = offered.find((p) => wsProtocols.includes(p));
    if (chosen === undefined) {
      throw new StreamingHttpError(
        403,
        `unable to negotiate a WebSocket subprotocol: client offers [${offered.join(", ")}], the agent accepts [${wsProtocols.join(", ")}]`,
      );
    }
    return { transport: "websocket", protocol: chosen };
  }
  if (upgrade.startsWith("spdy/3")) {
    const offered = headerList(req.headers[HEADER_PROTOCOL_VERSION.toLowerCase()]);
    if (offered.length === 0) {
      throw new StreamingHttpError(400, `unable to upgrade: ${HEADER_PROTOCOL_VERSION} is required`);
    }
    const chosen = offered.find((p) => spdyProtocols.includes(p));
    if (chosen === undefined) {
      throw new StreamingHttpError(
        403,
        `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(", ")}], server accepts [${spdyProtocols.join(", ")}]`,
        { [HEADER_ACCEPTED_VERSIONS]: spdyProtocols.join(", ") },
      );
    }
    return { transport: "spdy", protocol: chosen };
  }
  throw new StreamingHttpError(400, "Upgrade request required (WebSocket or SPDY/3.1)");
}

/** A plain HTTP answer on a socket that asked to upgrade (nothing was upgraded). */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (socket.destroyed) return;
  const body = `${message}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`,
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "X-Content-Type-Options: nosniff",
    "Connection: close",
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
}

/** Completes a SPDY upgrade: the 101 names the chosen protocol. */
export function acceptSpdyUpgrade(socket: Duplex, protocol: string): void {
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n" +
      `${HEADER_PROTOCOL_VERSION}: ${protocol}\r\n\r\n`,
  );
}

/** Completes a WebSocket upgrade checked by negotiate(): the 101 names the chosen subprotocol. */
export function acceptWebSocketUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  protocol: string,
): WebSocketConnection {
  const key = String(req.headers["sec-websocket-key"]);
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${acceptValue(key)}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
  );
  if (socket instanceof Socket) {
    socket.setTimeout(0);
    socket.setNoDelay(true);
  }
  return new WebSocketConnection(socket, "server", protocol, head);
}
