// Writes the channel protocols' messages (a channel byte, then the payload; or the channel digit
// and base64 for v4.base64) from a relay, coalescing: the chunks one channel gets in one tick
// leave as one message. A relay receives the runtime's output as SPDY DATA frames of a few KiB to
// 32 KiB, several per socket read; a message per frame cost a frame header, a copy to prepend the
// channel byte and a socket write each, on the agent and again on the client (bench/streaming:
// ~4000 messages of ~14 KiB for 50 MiB, about 4 frames a read).
//
// Order is kept across channels: a chunk for another channel first sends what is pending, so
// messages leave in the order their chunks arrived and a message never mixes two channels.

import { type MessageSink, sendOnChannel } from "../protocol.js";

/** What the writer needs from a WebSocket connection. */
export interface ChannelSink extends MessageSink {
  readonly bufferedAmount: number;
}

export interface ChannelWriterOptions {
  /** v4.base64.channel.k8s.io: text messages, the channel as an ASCII digit, the payload in base64. */
  base64: boolean;
  /** A message carries at most this many payload bytes (default 256 KiB); more leaves at once. */
  maxMessage?: number | undefined;
  /** Defers the flush of a tick's chunks (default process.nextTick; tests pass their own). */
  defer?: ((flush: () => void) => void) | undefined;
}

const DEFAULT_MAX_MESSAGE = 256 * 1024;

export class ChannelWriter {
  readonly #sink: ChannelSink;
  readonly #base64: boolean;
  readonly #max: number;
  readonly #defer: (flush: () => void) => void;
  #channel = -1;
  #parts: Buffer[] = [];
  #size = 0;
  #callbacks: (() => void)[] = [];
  #scheduled = false;
  #closed = false;
  readonly #flush = () => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(sink: ChannelSink, options: ChannelWriterOptions) {
    this.#sink = sink;
    this.#base64 = options.base64;
    this.#max = options.maxMessage ?? DEFAULT_MAX_MESSAGE;
    this.#defer = options.defer ?? process.nextTick;
  }

  /** Bytes accepted and not yet handed to the socket plus what the socket still holds. */
  get bufferedAmount(): number {
    return this.#size + this.#sink.bufferedAmount;
  }

  /**
   * Queues `chunk` on `channel`; `cb` runs once the message carrying it has been written. An
   * empty chunk is a message of its own (the "streams ready" signal), sent with what precedes it.
   */
  write(channel: number, chunk: Buffer, cb?: () => void): void {
    if (this.#closed) return;
    if (this.#size > 0 && channel !== this.#channel) this.flush();
    if (chunk.length === 0) {
      this.flush();
      this.#send(channel, [], cb ? [cb] : []);
      return;
    }
    this.#channel = channel;
    this.#parts.push(chunk);
    this.#size += chunk.length;
    if (cb) this.#callbacks.push(cb);
    if (this.#size >= this.#max) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      this.#defer(this.#flush);
    }
  }

  /** Sends what is pending now (before a status or a close, which must come after it). */
  flush(): void {
    if (this.#size === 0) return;
    const parts = this.#parts;
    const size = this.#size;
    const callbacks = this.#callbacks;
    this.#parts = [];
    this.#size = 0;
    this.#callbacks = [];
    // A tick's chunks above the limit leave in pieces of at most #max bytes.
    if (size <= this.#max) {
      this.#send(this.#channel, parts, callbacks);
      return;
    }
    const whole = Buffer.concat(parts, size);
    for (let off = 0; off < size; off += this.#max) {
      const last = off + this.#max >= size;
      const piece = whole.subarray(off, off + this.#max);
      this.#send(this.#channel, [piece], last ? callbacks : []);
    }
  }

  /** Drops what is pending; later writes are ignored (the connection is gone). */
  close(): void {
    this.#closed = true;
    this.#parts = [];
    this.#size = 0;
    this.#callbacks = [];
  }

  #send(channel: number, parts: Buffer[], callbacks: (() => void)[]): void {
    const done =
      callbacks.length === 0
        ? undefined
        : callbacks.length === 1
          ? (callbacks[0] as () => void)
          : () => {
              for (const cb of callbacks) cb();
            };
    // The payloads leave as they are (the connection writes them after the frame's header).
    sendOnChannel(this.#sink, this.#base64, channel, parts, done);
  }
}
