// SPDY/3 framing (SPDY draft 3, section 2.2): an incremental frame reader that hands DATA payloads
// on as slices of the socket's chunks (no copy), and the header-block codec.
//
// Outgoing header blocks are "compressed" as zlib stored blocks: a valid zlib stream that carries
// the dictionary id, so any SPDY peer inflates it, while our side stays synchronous (frames leave
// in the order they are written; no async deflate can reorder a SYN_STREAM behind its DATA).
// Incoming blocks are real deflate from the peer and are inflated by HeaderInflater (async).

import { constants, createInflate, type Inflate } from "node:zlib";
import { StreamingError, StreamingErrorCode } from "../errors.js";
import { adler32, SPDY_DICTIONARY } from "./dictionary.js";

export const SPDY_VERSION = 3;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const FLAG_FIN = 0x01;

export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
} as const;

/** Control frames larger than this are a protocol error (ours are a few hundred bytes). */
const MAX_CONTROL_PAYLOAD = 1 << 20;

export interface FrameHandler {
  onData(streamId: number, chunk: Buffer): void;
  onDataFin(streamId: number): void;
  onControl(type: number, flags: number, payload: Buffer): void;
}

/** Reads frames from a byte stream chunk by chunk. */
export class FrameReader {
  readonly #handler: FrameHandler;
  readonly #head = Buffer.alloc(8);
  #headLen = 0;
  // Current frame once its head is read.
  #isData = false;
  #streamId = 0;
  #type = 0;
  #flags = 0;
  #remaining = -1;
  #control: Buffer | undefined;
  #controlLen = 0;

  constructor(handler: FrameHandler) {
    this.#handler = handler;
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.#remaining < 0) {
        const take = Math.min(8 - this.#headLen, chunk.length - off);
        chunk.copy(this.#head, this.#headLen, off, off + take);
        this.#headLen += take;
        off += take;
        if (this.#headLen < 8) return;
        this.#startFrame();
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - off);
      if (this.#isData) {
        if (take > 0) this.#handler.onData(this.#streamId, chunk.subarray(off, off + take));
      } else if (this.#control) {
        chunk.copy(this.#control, this.#controlLen, off, off + take);
        this.#controlLen += take;
      }
      off += take;
      this.#remaining -= take;
      if (this.#remaining === 0) this.#endFrame();
    }
  }

  #startFrame(): void {
    const head = this.#head;
    this.#headLen = 0;
    const length = head.readUIntBE(5, 3);
    this.#flags = head[4] as number;
    this.#isData = ((head[0] as number) & 0x80) === 0;
    if (this.#isData) {
      this.#streamId = head.readUInt32BE(0) & 0x7fffffff;
    } else {
      const version = head.readUInt16BE(0) & 0x7fff;
      if (version !== SPDY_VERSION) {
        throw new StreamingError(StreamingErrorCode.ProtocolError, `SPDY version ${version} is not 3`);
      }
      this.#type = head.readUInt16BE(2);
      if (length > MAX_CONTROL_PAYLOAD) {
        throw new StreamingError(StreamingErrorCode.ProtocolError, `SPDY control frame of ${length} bytes`);
      }
      this.#control = Buffer.allocUnsafe(length);
      this.#controlLen = 0;
    }
    this.#remaining = length;
    if (length === 0) this.#endFrame();
  }

  #endFrame(): void {
    this.#remaining = -1;
    if (this.#isData) {
      if (this.#flags & FLAG_FIN) this.#handler.onDataFin(this.#streamId);
      return;
    }
    const payload = this.#control as Buffer;
    this.#control = undefined;
    this.#handler.onControl(this.#type, this.#flags, payload);
  }
}

export function dataFrameHead(streamId: number, flags: number, length: number): Buffer {
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head[4] = flags;
  head.writeUIntBE(length, 5, 3);
  return head;
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(8 + payload.length);
  frame.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  frame.writeUInt16BE(type, 2);
  frame[4] = flags;
  frame.writeUIntBE(payload.length, 5, 3);
  payload.copy(frame, 8);
  return frame;
}

export type HeaderList = ReadonlyArray<readonly [string, string]>;

/** The uncompressed block: count, then length-prefixed lowercase names and values. */
export function encodeHeaderBlock(headers: HeaderList): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.allocUnsafe(4);
  count.writeUInt32BE(headers.length);
  parts.push(count);
  for (const [name, value] of headers) {
    for (const text of [name.toLowerCase(), value]) {
      const bytes = Buffer.from(text, "utf8");
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32BE(bytes.length);
      parts.push(len, bytes);
    }
  }
  return Buffer.concat(parts);
}

/** Parses an inflated block; names lowercased, a NUL-separated value kept as one string. */
export function decodeHeaderBlock(block: Buffer): Map<string, string> {
  const headers = new Map<string, string>();
  const bad = () => new StreamingError(StreamingErrorCode.ProtocolError, "malformed SPDY header block");
  if (block.length < 4) throw bad();
  const count = block.readUInt32BE(0);
  let off = 4;
  const read = (): string => {
    if (off + 4 > block.length) throw bad();
    const len = block.readUInt32BE(off);
    off += 4;
    if (off + len > block.length) throw bad();
    const text = block.toString("utf8", off, off + len);
    off += len;
    return text;
  };
  for (let i = 0; i < count; i++) {
    const name = read().toLowerCase();
    const value = read();
    headers.set(name, headers.has(name) ? `${headers.get(name)}\0${value}` : value);
  }
  return headers;
}

/** Compresses header blocks of one direction of a session as zlib stored blocks (see top). */
export class HeaderDeflater {
  #started = false;

  compress(block: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.#started) {
      this.#started = true;
      const cmf = 0x78;
      let flg = 0x20; // FDICT
      flg += 31 - ((cmf * 256 + flg) % 31);
      const head = Buffer.allocUnsafe(6);
      head[0] = cmf;
      head[1] = flg;
      head.writeUInt32BE(DICTIONARY_ID, 2);
      parts.push(head);
    }
    for (let off = 0; off < block.length || off === 0; off += 0xffff) {
      const piece = block.subarray(off, off + 0xffff);
      const stored = Buffer.allocUnsafe(5);
      stored[0] = 0x00; // BFINAL 0, BTYPE 00 (stored), padded to the byte boundary
      stored.writeUInt16LE(piece.length, 1);
      stored.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(stored, piece);
      if (block.length === 0) break;
    }
    // An empty stored block ends each header block, as zlib's Z_SYNC_FLUSH does: Go's inflater
    // hands out a stored block's bytes only once it has read the next block's header.
    parts.push(SYNC_MARKER);
    return Buffer.concat(parts);
  }
}

const DICTIONARY_ID = adler32(SPDY_DICTIONARY);
const SYNC_MARKER = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);

/** Inflates the peer's header blocks in order; one zlib context for the whole session. */
export class HeaderInflater {
  #inflate: Inflate | undefined;
  #out: Buffer[] = [];
  #failed: Error | undefined;

  inflate(block: Buffer): Promise<Buffer> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (!this.#inflate) {
      const inflate = createInflate({ dictionary: SPDY_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
      inflate.on("data", (chunk: Buffer) => this.#out.push(chunk));
      inflate.on("error", (err) => {
        this.#failed = new StreamingError(
          StreamingErrorCode.ProtocolError,
          `SPDY header block: ${err.message}`,
          {
            cause: err,
          },
        );
      });
      this.#inflate = inflate;
    }
    const inflate = this.#inflate;
    return new Promise((resolve, reject) => {
      inflate.write(block);
      // Z_SYNC_FLUSH makes zlib hand out everything this block holds before the callback runs.
      inflate.flush(constants.Z_SYNC_FLUSH, () => {
        if (this.#failed) {
          reject(this.#failed);
          return;
        }
        const out = this.#out.length === 1 ? (this.#out[0] as Buffer) : Buffer.concat(this.#out);
        this.#out = [];
        resolve(out);
      });
    });
  }

  close(): void {
    this.#inflate?.destroy();
    this.#inflate = undefined;
  }
}
