import { ErrorCode, NodeletError } from "./errors.js";

// Protobuf's wire format, for the few places that read or write a message by hand instead of
// through ts-proto: a probe's gRPC health check (no generated code for one small message), the
// test environment's readiness check (no dependency on the CRI client), and the CRI client's
// list memo (which must look at an item's bytes before deciding to decode it).

/** Protobuf's wire types (the low 3 bits of a field's tag). */
export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  Fixed32: 5,
} as const;

/** A field's tag: its number and wire type. */
export function fieldTag(field: number, wireType: number): number {
  return field * 8 + wireType;
}

/**
 * Reads one message's fields within [pos, end) of a buffer, bounds-checked: a message that runs
 * past its end, or holds a wire type protobuf no longer uses (groups), throws a NodeletError with
 * code InvalidResponse naming `what`. Values are read in place; `bytes()` returns a view.
 */
export class ProtoWireReader {
  readonly buf: Uint8Array;
  readonly end: number;
  readonly what: string;
  pos: number;

  /** `what` names the message in errors ("a list response", "HealthCheckResponse"). */
  constructor(buf: Uint8Array, what: string, pos = 0, end = buf.length) {
    this.buf = buf;
    this.what = what;
    this.pos = pos;
    this.end = end;
  }

  /** Whether every field up to `end` has been read. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a number: exact up to 2^53, which covers tags, lengths, sizes and timestamps. */
  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw this.#malformed("ends inside a varint");
      const byte = this.buf[this.pos++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw this.#malformed("has a varint longer than 10 bytes");
  }

  /** An int32 or enum field: the varint's low 32 bits, signed (negative values take 10 bytes). */
  int32(): number {
    let low = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw this.#malformed("ends inside a varint");
      const byte = this.buf[this.pos++] as number;
      if (shift < 32) low |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return low | 0;
    }
    throw this.#malformed("has a varint longer than 10 bytes");
  }

  /** A length-delimited value (string, bytes, embedded message) as a view of the buffer. */
  bytes(): Uint8Array {
    const length = this.varint();
    const start = this.pos;
    this.advance(length);
    return this.buf.subarray(start, this.pos);
  }

  /** Moves past `n` bytes of the message. */
  advance(n: number): void {
    if (this.pos + n > this.end) throw this.#malformed("has a field that runs past its end");
    this.pos += n;
  }

  /** Skips the value of the field whose tag was just read (an unknown field, say). */
  skip(tag: number): void {
    switch (tag & 7) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.LengthDelimited:
        this.advance(this.varint());
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      default:
        throw this.#malformed(`has wire type ${tag & 7}, which this reader does not handle`);
    }
  }

  #malformed(problem: string): NodeletError {
    return new NodeletError(ErrorCode.InvalidResponse, `${this.what} is not valid protobuf: it ${problem}`, {
      details: { offset: this.pos },
    });
  }
}

/** A non-negative integer (up to 2^53) as a varint. */
export function encodeVarint(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new NodeletError(
      ErrorCode.InvalidArgument,
      `a varint must be a non-negative safe integer, not ${value}`,
    );
  }
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A length-delimited field (string, bytes or embedded message) with its tag. */
export function encodeLengthDelimited(field: number, data: Uint8Array): Buffer {
  return Buffer.concat([
    encodeVarint(fieldTag(field, WireType.LengthDelimited)),
    encodeVarint(data.length),
    data,
  ]);
}
