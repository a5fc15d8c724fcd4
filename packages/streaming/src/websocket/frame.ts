// WebSocket frames (RFC 6455 section 5): opcodes, headers, masking and an incremental parser that
// hands a binary message's payload on as it arrives, a slice of the socket's chunk at a time,
// unmasked in place, without reassembling the message first. The channel protocols stream their
// payloads (stdin, stdout), so nothing needs a whole message but text (base64) and control frames.

import { randomFillSync } from "node:crypto";
import { StreamingError, StreamingErrorCode } from "../errors.js";

export const Opcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** Close codes (RFC 6455 section 7.4.1) this implementation sends. */
export const CloseCode = {
  normal: 1000,
  protocolError: 1002,
  noStatus: 1005,
  abnormal: 1006,
  tooBig: 1009,
} as const;

/** A header's size: 2 bytes, 2 or 8 of extended length, 4 of masking key. */
export function headerLength(payloadLength: number, masked: boolean): number {
  return (payloadLength < 126 ? 2 : payloadLength < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/** Writes a frame header at `offset` of `target`; returns its length. */
export function writeHeader(
  target: Buffer,
  offset: number,
  opcode: number,
  payloadLength: number,
  mask: Uint8Array | undefined,
): number {
  target[offset] = 0x80 | opcode; // FIN: every frame sent here is a whole message
  const maskBit = mask ? 0x80 : 0;
  let at = offset + 2;
  if (payloadLength < 126) {
    target[offset + 1] = maskBit | payloadLength;
  } else if (payloadLength < 0x10000) {
    target[offset + 1] = maskBit | 126;
    target.writeUInt16BE(payloadLength, at);
    at += 2;
  } else {
    target[offset + 1] = maskBit | 127;
    target.writeUInt32BE(Math.floor(payloadLength / 0x1_0000_0000), at);
    target.writeUInt32BE(payloadLength >>> 0, at + 4);
    at += 8;
  }
  if (mask) {
    target.set(mask, at);
    at += 4;
  }
  return at - offset;
}

const maskWord = new Uint8Array(4);
const maskWordView = new Uint32Array(maskWord.buffer);

/**
 * XORs `data` in place with the masking key, from position `phase` of the key (0-3): bytes up to
 * a 4-byte boundary of the memory, then 32-bit words, then the tail. Masking and unmasking are the
 * same operation.
 */
export function xorMask(data: Uint8Array, mask: Uint8Array, phase: number): void {
  const length = data.length;
  let i = Math.min(length, (4 - (data.byteOffset & 3)) & 3);
  for (let k = 0; k < i; k++) data[k] = (data[k] as number) ^ (mask[(phase + k) & 3] as number);
  const words = (length - i) >>> 2;
  if (words > 0) {
    for (let k = 0; k < 4; k++) maskWord[k] = mask[(phase + i + k) & 3] as number;
    const key = maskWordView[0] as number;
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w] = (view[w] as number) ^ key;
    i += words * 4;
  }
  for (; i < length; i++) data[i] = (data[i] as number) ^ (mask[(phase + i) & 3] as number);
}

interface NativeMasking {
  mask(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void;
  unmask(buffer: Buffer, mask: Buffer): void;
}

let native: NativeMasking | undefined;
/** Named through a variable: the bundler leaves the optional dependency to be found at run time. */
const BUFFERUTIL = "bufferutil";

/**
 * Settles true once bufferutil's native masking is in use. It is an optional dependency: without
 * it, or when its binary does not load (its own fallback is a byte loop), xorMask does the work.
 */
export const nativeMasking: Promise<boolean> = import(BUFFERUTIL).then(
  (loaded: NativeMasking & { default?: NativeMasking }) => {
    const lib = loaded.default ?? loaded;
    if (!String(lib.mask).includes("[native code]")) return false;
    native = lib;
    return true;
  },
  () => false,
);

/** Below this, a native call costs more than the loop. */
const NATIVE_FROM = 64;
const rotatedKey = Buffer.alloc(4);

function keyFrom(mask: Buffer, phase: number): Buffer {
  if (phase === 0) return mask;
  for (let k = 0; k < 4; k++) rotatedKey[k] = mask[(phase + k) & 3] as number;
  return rotatedKey;
}

/** Copies `source` to `offset` of `output`, masked from position `phase` of the key: one pass. */
export function copyMasked(
  source: Buffer,
  output: Buffer,
  offset: number,
  mask: Buffer,
  phase: number,
): void {
  if (native && source.length >= NATIVE_FROM) {
    native.mask(source, keyFrom(mask, phase), output, offset, source.length);
    return;
  }
  source.copy(output, offset);
  xorMask(output.subarray(offset, offset + source.length), mask, phase);
}

/** Unmasks `data` in place, from position `phase` of the key. */
export function unmask(data: Buffer, mask: Buffer, phase: number): void {
  if (native && data.length >= NATIVE_FROM) native.unmask(data, keyFrom(mask, phase));
  else xorMask(data, mask, phase);
}

const keyPool = Buffer.allocUnsafe(4096);
let keyAt = keyPool.length;

/** A fresh masking key (a client's frames must carry an unpredictable one). */
export function nextMaskKey(): Buffer {
  if (keyAt === keyPool.length) {
    randomFillSync(keyPool);
    keyAt = 0;
  }
  keyAt += 4;
  return keyPool.subarray(keyAt - 4, keyAt);
}

/** What the parser hands on. */
export interface FrameSink {
  /**
   * A piece of a data message's payload, in order. Binary messages come in pieces as they arrive
   * (`first` on the first, `last` on the final one, which may be empty); a text message comes whole.
   * A piece is a view of the socket's chunk, unmasked in place (no copy).
   */
  data(piece: Buffer, binary: boolean, first: boolean, last: boolean): void;
  /** A whole control frame (close, ping, pong). */
  control(opcode: number, payload: Buffer): void;
}

export interface FrameParserOptions {
  /** Frames must be masked (a server's parser) or must not be (a client's). */
  masked: boolean;
  /** A text message is gathered whole: longer ones close the connection (1009). */
  maxTextMessage: number;
}

function protocolError(message: string, closeCode: number = CloseCode.protocolError): StreamingError {
  return new StreamingError(StreamingErrorCode.ProtocolError, `WebSocket: ${message}`, {
    details: { closeCode },
  });
}

/** Parses the frames of one direction of a connection; push() throws ProtocolError (details.closeCode). */
export class FrameParser {
  readonly #masked: boolean;
  readonly #maxText: number;
  readonly #sink: FrameSink;
  readonly #header = Buffer.alloc(14);
  #have = 0;
  #need = 2;
  #inPayload = false;
  #opcode = 0;
  #fin = false;
  #remaining = 0;
  readonly #mask = Buffer.alloc(4);
  #phase = 0;
  /** The data message in progress: 0 none, else its opcode (text or binary). */
  #message = 0;
  #firstPending = false;
  #text: Buffer[] = [];
  #textSize = 0;
  #control: Buffer[] = [];
  #stopped = false;

  constructor(sink: FrameSink, options: FrameParserOptions) {
    this.#sink = sink;
    this.#masked = options.masked;
    this.#maxText = options.maxTextMessage;
  }

  /** Ignores whatever comes next (the connection is closing). */
  stop(): void {
    this.#stopped = true;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && !this.#stopped) {
      if (!this.#inPayload) {
        const take = Math.min(this.#need - this.#have, chunk.length - pos);
        chunk.copy(this.#header, this.#have, pos, pos + take);
        this.#have += take;
        pos += take;
        if (this.#have < this.#need) return;
        if (this.#need === 2) {
          const len7 = (this.#header[1] as number) & 0x7f;
          this.#need =
            2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((this.#header[1] as number) & 0x80 ? 4 : 0);
          if (this.#need > 2) continue;
        }
        this.#startFrame();
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - pos);
      const piece = chunk.subarray(pos, pos + take);
      pos += take;
      this.#remaining -= take;
      if (this.#masked) {
        unmask(piece, this.#mask, this.#phase);
        this.#phase = (this.#phase + take) & 3;
      }
      this.#payload(piece);
    }
  }

  #startFrame(): void {
    const h = this.#header;
    const b0 = h[0] as number;
    const b1 = h[1] as number;
    this.#have = 0;
    this.#need = 2;
    if (b0 & 0x70) throw protocolError("reserved bits are set, and no extension was negotiated");
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.#masked) {
      throw protocolError(
        this.#masked ? "a client's frame must be masked" : "a server's frame must not be masked",
      );
    }
    let length = b1 & 0x7f;
    let at = 2;
    if (length === 126) {
      length = h.readUInt16BE(2);
      at = 4;
    } else if (length === 127) {
      const high = h.readUInt32BE(2);
      // Beyond 2^53 - 1 a length is not a safe number; nothing here sends such frames.
      if (high > 0x1f_ffff) throw protocolError("a frame's length is too large", CloseCode.tooBig);
      length = high * 0x1_0000_0000 + h.readUInt32BE(6);
      at = 10;
    }
    if (masked) {
      for (let k = 0; k < 4; k++) this.#mask[k] = h[at + k] as number;
    }
    if (opcode >= 0x8) {
      if (opcode !== Opcode.close && opcode !== Opcode.ping && opcode !== Opcode.pong) {
        throw protocolError(`unknown opcode ${opcode}`);
      }
      if (!fin) throw protocolError("a control frame must not be fragmented");
      if (length > 125) throw protocolError("a control frame's payload is longer than 125 bytes");
    } else if (opcode === Opcode.continuation) {
      if (this.#message === 0) throw protocolError("a continuation frame without a message to continue");
    } else if (opcode === Opcode.text || opcode === Opcode.binary) {
      if (this.#message !== 0) throw protocolError("a new message began before the previous one ended");
      this.#message = opcode;
      this.#firstPending = true;
    } else {
      throw protocolError(`unknown opcode ${opcode}`);
    }
    this.#opcode = opcode;
    this.#fin = fin;
    this.#remaining = length;
    this.#phase = 0;
    this.#inPayload = true;
    if (length === 0) this.#payload(Buffer.alloc(0));
  }

  #payload(piece: Buffer): void {
    const frameDone = this.#remaining === 0;
    if (frameDone) this.#inPayload = false;
    if (this.#opcode >= 0x8) {
      if (piece.length > 0) this.#control.push(piece);
      if (!frameDone) return;
      const payload =
        this.#control.length === 1 ? (this.#control[0] as Buffer) : Buffer.concat(this.#control);
      this.#control = [];
      this.#sink.control(this.#opcode, payload);
      return;
    }
    const last = frameDone && this.#fin;
    if (this.#message === Opcode.text) {
      this.#textSize += piece.length;
      if (this.#textSize > this.#maxText) {
        throw protocolError(`a text message is longer than ${this.#maxText} bytes`, CloseCode.tooBig);
      }
      if (piece.length > 0) this.#text.push(piece);
      if (!last) return;
      const whole = this.#text.length === 1 ? (this.#text[0] as Buffer) : Buffer.concat(this.#text);
      this.#text = [];
      this.#textSize = 0;
      this.#message = 0;
      this.#sink.data(whole, false, true, true);
      return;
    }
    if (last) this.#message = 0;
    if (piece.length === 0 && !last) return;
    const first = this.#firstPending;
    this.#firstPending = false;
    this.#sink.data(piece, true, first, last);
  }
}
