// Opening a streaming connection: the HTTP/1.1 upgrade to SPDY/3.1 (X-Stream-Protocol-Version
// negotiation) and the WebSocket handshake (subprotocol negotiation), both with AbortSignal.

import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Duplex } from "node:stream";
import WebSocket from "ws";
import { StreamingError, StreamingErrorCode } from "./errors.js";
import { HEADER_PROTOCOL_VERSION } from "./protocol.js";
import { SpdySession } from "./spdy/session.js";

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

/** Upgrades to SPDY/3.1 offering `protocols` in order; resolves with the session and the chosen one. */
export function connectSpdy(
  url: string | URL,
  protocols: readonly string[],
  options: ConnectOptions = {},
): Promise<{ session: SpdySession; protocol: string; socket: Duplex }> {
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
      method: "POST",
      headers: {
        ...options.headers,
        Connection: "Upgrade",
        Upgrade: "SPDY/3.1",
        [HEADER_PROTOCOL_VERSION]: [...protocols],
      },
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
      const protocol = String(res.headers[HEADER_PROTOCOL_VERSION.toLowerCase()] ?? "");
      if (!protocols.includes(protocol)) {
        socket.destroy();
        reject(
          new StreamingError(
            StreamingErrorCode.ProtocolNegotiationFailed,
            `the server chose protocol ${JSON.stringify(protocol)}, not one of ${protocols.join(", ")}`,
            { details: { offered: [...protocols] } },
          ),
        );
        return;
      }
      socket.setNoDelay(true);
      const session = new SpdySession(socket, { isServer: false });
      if (head.length > 0) socket.unshift(head);
      resolve({ session, protocol, socket });
    });
    req.on("response", (res) => {
      signal?.removeEventListener("abort", onAbort);
      void readBody(res).then((body) => {
        const status = res.statusCode ?? 0;
        reject(
          new StreamingError(
            status === 403 ? StreamingErrorCode.ProtocolNegotiationFailed : StreamingErrorCode.UpgradeFailed,
            `upgrade to SPDY/3.1 refused with HTTP ${status}${body ? `: ${body}` : ""}`,
            { details: { status, offered: [...protocols] } },
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

export interface WebSocketHandlers {
  message(data: Buffer, binary: boolean): void;
  close(code: number, reason: string): void;
}

export interface WebSocketConnection {
  ws: WebSocket;
  protocol: string;
  /**
   * Hands the connection's events to `handlers`, replaying what arrived before (the ready frame
   * and the port prefixes can come in the same read as the 101, before the caller is back).
   */
  attach(handlers: WebSocketHandlers): void;
}

/** Opens a WebSocket offering `protocols` in order. */
export function connectWebSocket(
  url: string | URL,
  protocols: readonly string[],
  options: ConnectOptions = {},
): Promise<WebSocketConnection> {
  const target = parseStreamingUrl(url);
  if (target.protocol === "http:") target.protocol = "ws:";
  if (target.protocol === "https:") target.protocol = "wss:";
  const { signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const ws = new WebSocket(target, [...protocols], {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      headers: options.headers ?? {},
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
    });
    const early: { data: Buffer; binary: boolean }[] = [];
    let closed: { code: number; reason: string } | undefined;
    let handlers: WebSocketHandlers | undefined;
    ws.on("message", (data: Buffer, binary: boolean) => {
      if (handlers) handlers.message(data, binary);
      else early.push({ data, binary });
    });
    ws.on("close", (code: number, reason: Buffer) => {
      if (handlers) handlers.close(code, reason.toString());
      else closed = { code, reason: reason.toString() };
    });
    const attach = (h: WebSocketHandlers) => {
      handlers = h;
      for (const m of early.splice(0)) h.message(m.data, m.binary);
      if (closed) h.close(closed.code, closed.reason);
    };
    const onAbort = () => {
      ws.terminate();
      reject(abortError(signal as AbortSignal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    ws.once("unexpected-response", (_req, res) => {
      signal?.removeEventListener("abort", onAbort);
      void readBody(res).then((body) => {
        const status = res.statusCode ?? 0;
        ws.terminate();
        reject(
          new StreamingError(
            status === 403 ? StreamingErrorCode.ProtocolNegotiationFailed : StreamingErrorCode.UpgradeFailed,
            `WebSocket upgrade refused with HTTP ${status}${body ? `: ${body}` : ""}`,
            { details: { status, offered: [...protocols] } },
          ),
        );
      });
    });
    ws.once("open", () => {
      signal?.removeEventListener("abort", onAbort);
      ws.on("error", () => {
        // After open, failures surface as 'close' (1006): the session decides from that.
      });
      resolve({ ws, protocol: ws.protocol, attach });
    });
    ws.once("error", (err) => {
      signal?.removeEventListener("abort", onAbort);
      reject(
        new StreamingError(StreamingErrorCode.UpgradeFailed, `WebSocket to ${target.host}: ${err.message}`, {
          cause: err,
        }),
      );
    });
  });
}
