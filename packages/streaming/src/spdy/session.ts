// A SPDY/3 session over an upgraded socket, client or server side, as the Kubernetes streaming
// protocols use it (moby/spdystream on the other end): streams opened by the client, replied by
// the server, DATA with half-close, RST_STREAM, PING, GOAWAY. No flow control: the runtime's
// server sends no WINDOW_UPDATE and ignores ours, so windows are neither kept nor sent, and
// back-pressure comes from TCP.
//
// Ordering: the peer's header blocks are inflated asynchronously. Every event that arrives while an
// inflate is pending (DATA, FIN, RST, the socket's end) waits in one queue and is handled in
// arrival order, so a stream's data never overtakes its SYN_REPLY and the session never closes
// while frames before its end are still queued.

import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { StreamingError, StreamingErrorCode } from "../errors.js";
import {
  controlFrame,
  dataFrameHead,
  decodeHeaderBlock,
  encodeHeaderBlock,
  FLAG_FIN,
  FrameReader,
  FrameType,
  HeaderDeflater,
  HeaderInflater,
  type HeaderList,
  RstStatus,
} from "./codec.js";
import { SpdyStream, type StreamSink } from "./stream.js";

/** DATA frames carry at most this much (the peer allocates a frame's length at once). */
const MAX_DATA_FRAME = 256 * 1024;

type Event =
  | { kind: "data"; id: number; chunk: Buffer }
  | { kind: "fin"; id: number }
  | { kind: "control"; type: number; flags: number; payload: Buffer }
  | { kind: "end"; err?: Error };

export interface SpdySessionOptions {
  /** The server side replies to the streams the client opens; the client opens them. */
  isServer: boolean;
}

/**
 * Events: `stream` (server: a stream the peer opened, already replied), `close` (once, with the
 * error that ended it if any), `goaway`.
 */
export class SpdySession extends EventEmitter implements StreamSink {
  readonly #socket: Duplex;
  readonly #isServer: boolean;
  readonly #streams = new Map<number, SpdyStream>();
  readonly #deflater = new HeaderDeflater();
  readonly #inflater = new HeaderInflater();
  readonly #reader: FrameReader;
  readonly #queue: Event[] = [];
  #busy = false;
  #nextId: number;
  #nextPing: number;
  readonly #pings = new Map<number, () => void>();
  readonly #pausedBy = new Set<number>();
  #drainWaiters: (() => void)[] = [];
  #closed = false;
  #goawaySent = false;
  #corked = false;
  /** The peer said GOAWAY: it closes soon, so nothing more is written (see #write). */
  #goawayReceived = false;
  /** Set once the session has ended, with its cause when it was not an orderly close. */
  closeError: Error | undefined;

  constructor(socket: Duplex, options: SpdySessionOptions) {
    super();
    this.#socket = socket;
    this.#isServer = options.isServer;
    this.#nextId = options.isServer ? 2 : 1;
    this.#nextPing = options.isServer ? 2 : 1;
    this.#reader = new FrameReader({
      onData: (id, chunk) => this.#event({ kind: "data", id, chunk }),
      onDataFin: (id) => this.#event({ kind: "fin", id }),
      onControl: (type, flags, payload) => this.#event({ kind: "control", type, flags, payload }),
    });
    socket.on("data", (chunk: Buffer) => {
      try {
        this.#reader.push(chunk);
      } catch (err) {
        this.destroy(err as Error);
      }
    });
    socket.on("drain", () => {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const w of waiters) w();
    });
    socket.on("end", () => this.#event({ kind: "end" }));
    socket.on("close", () => this.#event({ kind: "end" }));
    socket.on("error", (err: Error) =>
      this.#event({
        kind: "end",
        err: new StreamingError(StreamingErrorCode.ConnectionLost, `connection lost: ${err.message}`, {
          cause: err,
        }),
      }),
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Opens a stream (SYN_STREAM); `await stream.whenReplied()` for the peer's SYN_REPLY. */
  openStream(headers: HeaderList, options: { fin?: boolean } = {}): SpdyStream {
    if (this.#closed || this.#goawaySent) {
      throw new StreamingError(StreamingErrorCode.ConnectionLost, "the SPDY session is closed");
    }
    const id = this.#nextId;
    this.#nextId += 2;
    const stream = new SpdyStream(this, id, new Map(), false);
    this.#streams.set(id, stream);
    const block = this.#deflater.compress(encodeHeaderBlock(headers));
    const payload = Buffer.allocUnsafe(10 + block.length);
    payload.writeUInt32BE(id, 0);
    payload.writeUInt32BE(0, 4); // associated stream
    payload[8] = 0; // priority
    payload[9] = 0; // slot
    block.copy(payload, 10);
    this.#write(controlFrame(FrameType.SYN_STREAM, options.fin ? FLAG_FIN : 0, payload));
    if (options.fin) stream.end();
    return stream;
  }

  /** Round trip of a PING; rejects if the session ends first. */
  ping(): Promise<number> {
    const id = this.#nextPing;
    this.#nextPing += 2;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new StreamingError(StreamingErrorCode.ConnectionLost, "the SPDY session is closed"));
        return;
      }
      this.#pings.set(id, () => resolve(performance.now() - started));
      this.once("close", () =>
        reject(new StreamingError(StreamingErrorCode.ConnectionLost, "the SPDY session closed")),
      );
      const payload = Buffer.allocUnsafe(4);
      payload.writeUInt32BE(id);
      this.#write(controlFrame(FrameType.PING, 0, payload));
    });
  }

  /** Orderly close: GOAWAY, then the socket is ended once everything written has left. */
  close(): void {
    if (this.#closed) return;
    this.#sendGoaway(0);
    this.#socket.end();
  }

  /** Ends at once: every stream ends (marked aborted), the socket is destroyed. */
  destroy(err?: Error): void {
    this.#finish(err);
    this.#socket.destroy();
  }

  // --- StreamSink ----------------------------------------------------------------------------

  writeData(streamId: number, chunk: Buffer, fin: boolean, done: (err?: Error | null) => void): void {
    if (this.#closed || this.#goawayReceived) {
      done();
      return;
    }
    const socket = this.#socket;
    let ok = true;
    this.#batch();
    if (chunk.length === 0) {
      ok = socket.write(dataFrameHead(streamId, fin ? FLAG_FIN : 0, 0));
    } else {
      for (let off = 0; off < chunk.length; off += MAX_DATA_FRAME) {
        const piece =
          off === 0 && chunk.length <= MAX_DATA_FRAME ? chunk : chunk.subarray(off, off + MAX_DATA_FRAME);
        const last = off + MAX_DATA_FRAME >= chunk.length;
        socket.write(dataFrameHead(streamId, fin && last ? FLAG_FIN : 0, piece.length));
        ok = socket.write(piece);
      }
    }
    if (ok || this.#closed) done();
    else this.#drainWaiters.push(() => done());
  }

  reset(streamId: number, status: number): void {
    if (this.#closed) return;
    const payload = Buffer.allocUnsafe(8);
    payload.writeUInt32BE(streamId, 0);
    payload.writeUInt32BE(status, 4);
    this.#write(controlFrame(FrameType.RST_STREAM, 0, payload));
  }

  readPaused(streamId: number): void {
    this.#pausedBy.add(streamId);
    this.#socket.pause();
  }

  readResumed(streamId: number): void {
    if (this.#pausedBy.delete(streamId) && this.#pausedBy.size === 0 && !this.#closed) this.#socket.resume();
  }

  forget(streamId: number): void {
    this.#streams.delete(streamId);
    this.readResumed(streamId);
  }

  // --- incoming ------------------------------------------------------------------------------

  #event(event: Event): void {
    if (this.#busy || this.#queue.length > 0) {
      this.#queue.push(event);
      return;
    }
    this.#handle(event);
  }

  #drain(): void {
    while (!this.#busy && this.#queue.length > 0) this.#handle(this.#queue.shift() as Event);
  }

  #handle(event: Event): void {
    switch (event.kind) {
      case "data":
        this.#streams.get(event.id)?._onData(event.chunk);
        return;
      case "fin":
        this.#streams.get(event.id)?._onFin();
        return;
      case "end":
        this.#finish(event.err);
        return;
      case "control":
        this.#control(event.type, event.flags, event.payload);
    }
  }

  #control(type: number, flags: number, payload: Buffer): void {
    switch (type) {
      case FrameType.SYN_STREAM:
      case FrameType.SYN_REPLY:
      case FrameType.HEADERS: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const block = payload.subarray(type === FrameType.SYN_STREAM ? 10 : 4);
        this.#busy = true;
        this.#inflater.inflate(block).then(
          (raw) => {
            this.#busy = false;
            try {
              this.#headers(type, flags, id, decodeHeaderBlock(raw));
            } catch (err) {
              this.destroy(err as Error);
              return;
            }
            this.#drain();
          },
          (err: Error) => {
            this.#busy = false;
            this.destroy(err);
          },
        );
        return;
      }
      case FrameType.RST_STREAM: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        this.#streams.get(id)?._onReset(payload.readUInt32BE(4));
        return;
      }
      case FrameType.PING: {
        const id = payload.readUInt32BE(0);
        const mine = id % 2 === (this.#isServer ? 0 : 1);
        if (mine) {
          this.#pings.get(id)?.();
          this.#pings.delete(id);
        } else {
          this.#write(controlFrame(FrameType.PING, 0, payload));
        }
        return;
      }
      case FrameType.GOAWAY:
        this.#goawayReceived = true;
        this.emit("goaway");
        return;
      default:
        // SETTINGS and WINDOW_UPDATE: no flow control here (see top); unknown types are ignored (spec 2.2.1).
        return;
    }
  }

  #headers(type: number, flags: number, id: number, headers: Map<string, string>): void {
    if (type === FrameType.SYN_STREAM) {
      if (!this.#isServer || this.#goawaySent || this.#closed) {
        this.reset(id, RstStatus.REFUSED_STREAM);
        return;
      }
      if (this.#streams.has(id)) {
        this.reset(id, RstStatus.PROTOCOL_ERROR);
        return;
      }
      const stream = new SpdyStream(this, id, headers, true);
      this.#streams.set(id, stream);
      const block = this.#deflater.compress(encodeHeaderBlock([]));
      const reply = Buffer.allocUnsafe(4 + block.length);
      reply.writeUInt32BE(id, 0);
      block.copy(reply, 4);
      this.#write(controlFrame(FrameType.SYN_REPLY, 0, reply));
      if (flags & FLAG_FIN) stream._onFin();
      this.emit("stream", stream);
      return;
    }
    const stream = this.#streams.get(id);
    if (!stream) return;
    if (type === FrameType.SYN_REPLY) stream._onReply(headers);
    if (flags & FLAG_FIN) stream._onFin();
  }

  // --- outgoing and end ----------------------------------------------------------------------

  /**
   * Frames written in one tick leave in one writev: the socket stays corked until the next tick
   * (a relay writes a frame per received chunk, several per read).
   */
  #batch(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      this.#socket.uncork();
    });
  }

  #write(frame: Buffer): void {
    // After the peer's GOAWAY it closes its socket: a frame arriving there would be answered with
    // a TCP reset that discards what we have not read yet (containerd sends the status, RSTs,
    // GOAWAY and closes at once).
    if (this.#closed || this.#goawayReceived) return;
    this.#batch();
    this.#socket.write(frame);
  }

  #sendGoaway(status: number): void {
    if (this.#goawaySent) return;
    this.#goawaySent = true;
    const payload = Buffer.allocUnsafe(8);
    payload.writeUInt32BE(0, 0);
    payload.writeUInt32BE(status, 4);
    this.#write(controlFrame(FrameType.GOAWAY, 0, payload));
  }

  #finish(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeError = err;
    for (const stream of [...this.#streams.values()]) stream._onSessionEnd(err);
    this.#streams.clear();
    this.#inflater.close();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
    this.#queue.length = 0;
    this.emit("close", err);
  }
}
