// A WebSocket connection over an upgraded socket, for either side: the client masks what it sends
// into buffers it reuses once the socket has taken them; the server sends a frame's header and the
// caller's buffers as they are (one writev, no copy). Received binary messages are handed on in
// pieces (see FrameParser). The close handshake, ping/pong and protocol errors are handled here.

import type { Duplex } from "node:stream";
import { isStreamingError } from "../errors.js";
import {
  CloseCode,
  copyMasked,
  FrameParser,
  headerLength,
  nextMaskKey,
  Opcode,
  writeHeader,
} from "./frame.js";

export type WebSocketRole = "client" | "server";

export interface WebSocketHandlers {
  /** A piece of a data message (see FrameSink.data): binary ones in pieces, text ones whole. */
  message(piece: Buffer, binary: boolean, first: boolean, last: boolean): void;
  /** Once: the peer's close code (1005 without one, 1006 when the connection just ended). */
  close(code: number, reason: string): void;
}

/** Time the peer has to answer our close frame before the socket is destroyed (ws's default). */
const CLOSE_TIMEOUT_MS = 30_000;
/** Frames up to this size are masked into reused buffers (a channel byte plus 256 KiB, and a header). */
const REUSED_FRAME = 256 * 1024 + 64;
/**
 * Reused buffers the process keeps, shared by every client connection (4 MiB of stdin ahead of
 * the socket is 17 of them): an upload's memory stays warm, and idle sessions hold none of it.
 */
const MAX_SPARE = 24;
const spare: Buffer[] = [];
/** Smaller frames are assembled in one buffer; larger ones are written as header plus parts. */
const COPY_BELOW = 4096;
/** x/net/websocket's limit on a message, applied to text messages, which are gathered whole. */
const MAX_TEXT_MESSAGE = 32 << 20;

export class WebSocketConnection {
  /** The negotiated subprotocol. */
  readonly protocol: string;
  readonly #socket: Duplex;
  readonly #client: boolean;
  readonly #parser: FrameParser;
  #head: Buffer;
  #handlers: WebSocketHandlers | undefined;
  #paused = false;
  #closeSent = false;
  #closeReceived: { code: number; reason: string } | undefined;
  #closeTimer: NodeJS.Timeout | undefined;
  #notified = false;

  /** `head`: bytes that arrived after the handshake. Nothing is read before attach(). */
  constructor(socket: Duplex, role: WebSocketRole, protocol: string, head: Buffer) {
    this.#socket = socket;
    this.#client = role === "client";
    this.protocol = protocol;
    this.#head = head;
    this.#parser = new FrameParser(
      {
        data: (piece, binary, first, last) => this.#handlers?.message(piece, binary, first, last),
        control: (opcode, payload) => this.#control(opcode, payload),
      },
      { masked: !this.#client, maxTextMessage: MAX_TEXT_MESSAGE },
    );
    // Failures end in 'close', which tells the handlers.
    socket.on("error", () => {});
  }

  /** Starts reading and hands the connection's events to `handlers`. */
  attach(handlers: WebSocketHandlers): void {
    this.#handlers = handlers;
    const socket = this.#socket;
    socket.on("end", () => {
      // The peer will send nothing more: our side ends too (upgraded sockets allow half-open).
      this.#parser.stop();
      socket.end();
    });
    socket.on("close", () => {
      clearTimeout(this.#closeTimer);
      const received = this.#closeReceived;
      this.#notify(received?.code ?? CloseCode.abnormal, received?.reason ?? "");
    });
    if (socket.destroyed) {
      this.#notify(CloseCode.abnormal, "");
      return;
    }
    const head = this.#head;
    this.#head = Buffer.alloc(0);
    if (head.length > 0) this.#receive(head);
    socket.on("data", (chunk: Buffer) => this.#receive(chunk));
    if (this.#paused) socket.pause();
    else socket.resume();
  }

  /** True until a close frame was sent or received, or the socket ended. */
  get isOpen(): boolean {
    return !this.#closeSent && this.#closeReceived === undefined && !this.#socket.destroyed;
  }

  /** Bytes the socket still holds to send. */
  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  pause(): void {
    this.#paused = true;
    this.#socket.pause();
  }

  resume(): void {
    this.#paused = false;
    if (this.#handlers) this.#socket.resume();
  }

  /** Sends one binary message whose payload is `parts` in order; `cb` once the socket took it. */
  sendBinary(parts: readonly Buffer[], cb?: () => void): void {
    this.#send(Opcode.binary, parts, cb);
  }

  sendText(text: string, cb?: () => void): void {
    this.#send(Opcode.text, [Buffer.from(text, "utf8")], cb);
  }

  /** Starts the close handshake; the socket ends once the peer answers (or after 30 s). */
  close(code: number = CloseCode.normal, reason = ""): void {
    if (this.#closeSent || this.#socket.destroyed) return;
    this.#sendClose(code, reason);
    if (this.#closeReceived) this.#socket.end();
    else this.#destroyAfterTimeout();
  }

  /** Drops the connection at once. */
  terminate(): void {
    this.#socket.destroy();
  }

  #notify(code: number, reason: string): void {
    if (this.#notified) return;
    this.#notified = true;
    this.#handlers?.close(code, reason);
  }

  #receive(chunk: Buffer): void {
    try {
      this.#parser.push(chunk);
    } catch (err) {
      const code = isStreamingError(err) ? Number(err.details.closeCode) : CloseCode.protocolError;
      this.#fail(code, err instanceof Error ? err.message : String(err));
    }
  }

  /** The peer broke the protocol: our close frame names why, the socket ends, the handlers are told. */
  #fail(code: number, message: string): void {
    this.#parser.stop();
    this.#sendClose(code, message.slice(0, 120));
    this.#socket.end();
    this.#notify(code, message);
    this.#destroyAfterTimeout();
  }

  #destroyAfterTimeout(): void {
    this.#closeTimer = setTimeout(() => this.#socket.destroy(), CLOSE_TIMEOUT_MS);
    this.#closeTimer.unref();
  }

  #control(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.ping) {
      if (!this.#closeSent) this.#send(Opcode.pong, [payload]);
      return;
    }
    if (opcode !== Opcode.close) return; // a pong
    this.#parser.stop();
    let code: number = CloseCode.noStatus;
    let reason = "";
    if (payload.length === 1) {
      this.#fail(CloseCode.protocolError, "WebSocket: a close frame's payload of 1 byte");
      return;
    }
    if (payload.length >= 2) {
      code = payload.readUInt16BE(0);
      if (!validCloseCode(code)) {
        this.#fail(CloseCode.protocolError, `WebSocket: close code ${code} is not a valid code`);
        return;
      }
      reason = payload.toString("utf8", 2);
    }
    this.#closeReceived = { code, reason };
    // Our answer echoes the code (none for none); then the TCP connection ends.
    if (!this.#closeSent) this.#sendClose(code === CloseCode.noStatus ? undefined : code, "");
    clearTimeout(this.#closeTimer);
    this.#socket.end();
    this.#notify(code, reason);
  }

  #sendClose(code: number | undefined, reason: string): void {
    if (this.#closeSent) return;
    let payload: Buffer;
    if (code === undefined) payload = Buffer.alloc(0);
    else {
      payload = Buffer.allocUnsafe(2 + Buffer.byteLength(reason));
      payload.writeUInt16BE(code, 0);
      payload.write(reason, 2, "utf8");
    }
    this.#send(Opcode.close, [payload]);
    this.#closeSent = true;
  }

  #send(opcode: number, parts: readonly Buffer[], cb?: () => void): void {
    const socket = this.#socket;
    if (this.#closeSent || socket.destroyed || socket.writableEnded) {
      if (cb) process.nextTick(cb);
      return;
    }
    let length = 0;
    for (const part of parts) length += part.length;
    const done = cb ? () => cb() : undefined;
    if (this.#client) {
      // A client masks: the frame is assembled in one buffer, reused once the socket took it.
      const size = headerLength(length, true) + length;
      const reuse = size > COPY_BELOW && size <= REUSED_FRAME;
      const buffer = reuse ? (spare.pop() ?? Buffer.allocUnsafeSlow(REUSED_FRAME)) : Buffer.allocUnsafe(size);
      const mask = nextMaskKey();
      let at = writeHeader(buffer, 0, opcode, length, mask);
      let phase = 0;
      for (const part of parts) {
        copyMasked(part, buffer, at, mask, phase);
        at += part.length;
        phase = (phase + part.length) & 3;
      }
      const frame = buffer.subarray(0, at);
      if (!reuse) {
        socket.write(frame, done);
        return;
      }
      socket.write(frame, () => {
        if (spare.length < MAX_SPARE) spare.push(buffer);
        done?.();
      });
      return;
    }
    const hl = headerLength(length, false);
    if (length + hl <= COPY_BELOW) {
      const frame = Buffer.allocUnsafe(hl + length);
      let at = writeHeader(frame, 0, opcode, length, undefined);
      for (const part of parts) at += part.copy(frame, at);
      socket.write(frame, done);
      return;
    }
    // A server sends the caller's buffers as they are: the header, then each part, in one writev.
    const header = Buffer.allocUnsafe(hl);
    writeHeader(header, 0, opcode, length, undefined);
    socket.cork();
    socket.write(header);
    for (let i = 0; i < parts.length; i++) {
      socket.write(parts[i] as Buffer, i === parts.length - 1 ? done : undefined);
    }
    socket.uncork();
  }
}

/** Codes a peer may send (RFC 6455 section 7.4): 1000-1003, 1007-1014, and 3000-4999 for applications. */
function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
