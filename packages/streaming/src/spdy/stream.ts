// One SPDY stream as a Node Duplex: writes become DATA frames (back-pressure from the socket),
// end() sends FIN (half-close), received DATA is pushed (back-pressure pauses the socket).

import { Duplex } from "node:stream";

/** What a stream needs from its session. */
export interface StreamSink {
  writeData(streamId: number, chunk: Buffer, fin: boolean, done: (err?: Error | null) => void): void;
  reset(streamId: number, status: number): void;
  readPaused(streamId: number): void;
  readResumed(streamId: number): void;
  forget(streamId: number): void;
}

export class SpdyStream extends Duplex {
  readonly id: number;
  /** The SYN_STREAM's headers (streams the peer opened) or the SYN_REPLY's (ours, once replied). */
  headers: Map<string, string>;
  /** RST_STREAM status received from the peer, if any. */
  resetStatus: number | undefined;
  /** The session ended before the peer sent FIN or RST on this stream. */
  aborted = false;
  /** The peer will send nothing more (FIN, RST or the session's end); 'remoteEnd' is emitted once. */
  remoteEnded = false;
  readonly #sink: StreamSink;
  #remoteClosed = false;
  #localClosed = false;
  #replied: boolean;
  readonly #replyWaiters: ((err?: Error) => void)[] = [];

  constructor(sink: StreamSink, id: number, headers: Map<string, string>, replied: boolean) {
    super({ allowHalfOpen: true, readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
    this.#sink = sink;
    this.id = id;
    this.headers = headers;
    this.#replied = replied;
  }

  /** Resolves once the peer has accepted the stream (SYN_REPLY); immediate for the peer's streams. */
  whenReplied(): Promise<void> {
    if (this.#replied) return Promise.resolve();
    return new Promise((resolve, reject) =>
      this.#replyWaiters.push((err) => (err ? reject(err) : resolve())),
    );
  }

  /** Aborts the stream in both directions with RST_STREAM (CANCEL unless told). */
  reset(status = 5): void {
    if (this.#remoteClosed && this.#localClosed) return;
    this.#sink.reset(this.id, status);
    this.#closeBoth();
  }

  // --- called by the session ---------------------------------------------------------------

  _onReply(headers: Map<string, string>): void {
    this.headers = headers;
    this.#replied = true;
    for (const w of this.#replyWaiters.splice(0)) w();
  }

  _onData(chunk: Buffer): void {
    if (this.#remoteClosed || this.destroyed) return;
    if (!this.push(chunk)) this.#sink.readPaused(this.id);
  }

  _onFin(): void {
    if (this.#remoteClosed) return;
    this.#remoteClosed = true;
    this.push(null);
    this.#markRemoteEnded();
    this.#maybeForget();
  }

  _onReset(status: number): void {
    this.resetStatus = status;
    this.#closeBoth();
  }

  _onSessionEnd(err?: Error): void {
    if (!this.#remoteClosed) this.aborted = true;
    for (const w of this.#replyWaiters.splice(0)) w(err ?? new Error("the SPDY session ended"));
    this.#closeBoth();
  }

  #closeBoth(): void {
    this.#localClosed = true;
    if (!this.#remoteClosed) {
      this.#remoteClosed = true;
      this.push(null);
    }
    this.#markRemoteEnded();
    for (const w of this.#replyWaiters.splice(0)) w(new Error(`SPDY stream ${this.id} was reset`));
    this.#sink.forget(this.id);
  }

  #markRemoteEnded(): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    this.emit("remoteEnd");
  }

  #maybeForget(): void {
    if (this.#remoteClosed && this.#localClosed) this.#sink.forget(this.id);
  }

  // --- Duplex ------------------------------------------------------------------------------

  override _read(): void {
    this.#sink.readResumed(this.id);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    // After RST or the session's end the peer is gone: the bytes are dropped like a write to a
    // closed pipe would be, without an 'error' nobody may be listening for.
    if (this.#localClosed) {
      callback();
      return;
    }
    this.#sink.writeData(this.id, chunk, false, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.#localClosed) {
      callback();
      return;
    }
    this.#localClosed = true;
    this.#sink.writeData(this.id, Buffer.alloc(0), true, callback);
    this.#maybeForget();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!(this.#remoteClosed && this.#localClosed)) {
      // RST only while the peer may still send: once it has finished, a late frame could reach a
      // socket it already closed, whose TCP reset would discard data we have not read yet (the
      // runtime closes right after the exit status).
      if (!this.#remoteClosed) this.#sink.reset(this.id, 5);
      this.#localClosed = true;
      this.#remoteClosed = true;
      this.#sink.forget(this.id);
    }
    this.#markRemoteEnded();
    this.#sink.readResumed(this.id);
    callback(err);
  }
}
