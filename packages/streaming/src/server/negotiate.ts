// Protocol negotiation for the agent's endpoints: the first protocol in the client's list that the
// agent speaks wins (as the kubelet's httpstream.Handshake and golang.org/x/net/websocket do).

import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { HEADER_ACCEPTED_VERSIONS, HEADER_PROTOCOL_VERSION } from "../protocol.js";
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

export function negotiate(
  req: IncomingMessage,
  spdyProtocols: readonly string[],
  wsProtocols: readonly string[],
): Negotiated {
  const upgrade = String(req.headers.upgrade ?? "").toLowerCase();
  if (upgrade === "websocket") {
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
