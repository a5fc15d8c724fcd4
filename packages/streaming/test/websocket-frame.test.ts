import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isStreamingError } from "../src/errors.js";
import {
  copyMasked,
  FrameParser,
  nativeMasking,
  Opcode,
  unmask,
  writeHeader,
  xorMask,
} from "../src/websocket/frame.js";

function naive(data: Buffer, mask: Buffer, phase: number): Buffer {
  return Buffer.from(data.map((b, i) => b ^ (mask[(phase + i) & 3] as number)));
}

/** A frame as a peer writes it (fin and rsv as given, masked when `mask` is). */
function frame(
  opcode: number,
  payload: Buffer,
  options: { fin?: boolean; mask?: Buffer; rsv?: number } = {},
): Buffer {
  const head = Buffer.alloc(14);
  const length = writeHeader(head, 0, opcode, payload.length, options.mask);
  if (options.fin === false) head[0] = (head[0] as number) & 0x7f;
  head[0] = (head[0] as number) | (options.rsv ?? 0);
  const body = options.mask ? naive(payload, options.mask, 0) : payload;
  return Buffer.concat([head.subarray(0, length), body]);
}

interface Seen {
  data: { piece: string; binary: boolean; first: boolean; last: boolean }[];
  control: { opcode: number; payload: string }[];
}

function parser(masked: boolean, maxTextMessage = 1 << 20): { parser: FrameParser; seen: Seen } {
  const seen: Seen = { data: [], control: [] };
  const p = new FrameParser(
    {
      // A piece is a view of the chunk: copied here as a consumer that keeps it would.
      data: (piece, binary, first, last) => seen.data.push({ piece: piece.toString(), binary, first, last }),
      control: (opcode, payload) => seen.control.push({ opcode, payload: payload.toString() }),
    },
    { masked, maxTextMessage },
  );
  return { parser: p, seen };
}

function protocolErrorOf(fn: () => void): { closeCode: unknown; message: string } {
  try {
    fn();
  } catch (err) {
    if (isStreamingError(err, "ProtocolError"))
      return { closeCode: err.details.closeCode, message: err.message };
    throw err;
  }
  throw new Error("no protocol error");
}

describe("masking", () => {
  it("masks like the byte-by-byte definition at every alignment, phase and length", async () => {
    const mask = randomBytes(4);
    const backing = randomBytes(300);
    for (const offset of [0, 1, 2, 3, 5]) {
      for (const length of [0, 1, 3, 4, 7, 63, 64, 65, 257]) {
        for (const phase of [0, 1, 2, 3]) {
          const source = Buffer.from(backing.subarray(offset, offset + length));
          const expected = naive(source, mask, phase);
          const inPlace = Buffer.from(backing).subarray(offset, offset + length);
          xorMask(inPlace, mask, phase);
          expect(inPlace.equals(expected)).toBe(true);
          const viaUnmask = Buffer.from(backing).subarray(offset, offset + length);
          unmask(viaUnmask, mask, phase);
          expect(viaUnmask.equals(expected)).toBe(true);
          const output = Buffer.alloc(length + 9);
          copyMasked(source, output, 9, mask, phase);
          expect(output.subarray(9).equals(expected)).toBe(true);
        }
      }
    }
    // In this workspace bufferutil's binary loads, so the lengths from 64 up went through it.
    expect(await nativeMasking).toBe(true);
  });
});

describe("FrameParser", () => {
  const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

  it("hands a fragmented binary message on in pieces, in order, whatever the chunking", () => {
    const wire = Buffer.concat([
      frame(Opcode.binary, Buffer.from("hello "), { fin: false, mask }),
      frame(Opcode.ping, Buffer.from("p"), { mask }),
      frame(Opcode.continuation, Buffer.alloc(0), { fin: false, mask }),
      frame(Opcode.continuation, Buffer.from("world"), { mask }),
      frame(Opcode.text, Buffer.from("3e30="), { mask }),
    ]);
    for (const step of [1, 2, 3, 7, wire.length]) {
      const { parser: p, seen } = parser(true);
      for (let at = 0; at < wire.length; at += step) p.push(Buffer.from(wire.subarray(at, at + step)));
      const binary = seen.data.filter((d) => d.binary);
      expect(binary.map((d) => d.piece).join("")).toBe("hello world");
      expect(binary[0]?.first).toBe(true);
      expect(binary.slice(1).every((d) => !d.first)).toBe(true);
      expect(binary.at(-1)?.last).toBe(true);
      expect(binary.slice(0, -1).every((d) => !d.last)).toBe(true);
      // A text message comes whole, after the binary one; the ping between the fragments too.
      expect(seen.data.at(-1)).toEqual({ piece: "3e30=", binary: false, first: true, last: true });
      expect(seen.control).toEqual([{ opcode: Opcode.ping, payload: "p" }]);
    }
  });

  it("reads 16-bit and 64-bit lengths, and an empty message as one empty last piece", () => {
    const { parser: p, seen } = parser(false);
    const medium = Buffer.alloc(300, "m");
    const large = Buffer.alloc(70_000, "l");
    p.push(frame(Opcode.binary, medium));
    p.push(frame(Opcode.binary, large));
    p.push(frame(Opcode.binary, Buffer.alloc(0)));
    expect(seen.data.map((d) => d.piece.length)).toEqual([300, 70_000, 0]);
    expect(seen.data.every((d) => d.first && d.last)).toBe(true);
  });

  it("refuses what breaks the protocol, with the close code to send", () => {
    const cases: [string, boolean, Buffer, number, RegExp][] = [
      ["unmasked to a server", true, frame(Opcode.binary, Buffer.from("x")), 1002, /must be masked/],
      [
        "masked to a client",
        false,
        frame(Opcode.binary, Buffer.from("x"), { mask }),
        1002,
        /must not be masked/,
      ],
      [
        "reserved bits",
        true,
        frame(Opcode.binary, Buffer.from("x"), { mask, rsv: 0x40 }),
        1002,
        /reserved bits/,
      ],
      ["unknown data opcode", true, frame(0x3, Buffer.from("x"), { mask }), 1002, /unknown opcode 3/],
      ["unknown control opcode", true, frame(0xb, Buffer.from("x"), { mask }), 1002, /unknown opcode 11/],
      [
        "fragmented control",
        true,
        frame(Opcode.ping, Buffer.from("x"), { mask, fin: false }),
        1002,
        /control frame must not be fragmented/,
      ],
      ["long control", true, frame(Opcode.ping, Buffer.alloc(126), { mask }), 1002, /longer than 125 bytes/],
      [
        "continuation without a message",
        true,
        frame(Opcode.continuation, Buffer.from("x"), { mask }),
        1002,
        /continuation frame without a message/,
      ],
      [
        "a message inside a message",
        true,
        Buffer.concat([
          frame(Opcode.binary, Buffer.from("x"), { mask, fin: false }),
          frame(Opcode.binary, Buffer.from("y"), { mask }),
        ]),
        1002,
        /new message began before the previous one ended/,
      ],
      [
        "an impossible length",
        false,
        Buffer.from([0x82, 127, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]),
        1009,
        /length is too large/,
      ],
    ];
    for (const [, masked, wire, code, message] of cases) {
      const { parser: p } = parser(masked);
      const err = protocolErrorOf(() => p.push(wire));
      expect(err.closeCode).toBe(code);
      expect(err.message).toMatch(message);
    }
  });

  it("refuses a text message longer than its limit, counted across fragments", () => {
    const { parser: p, seen } = parser(true, 10);
    p.push(frame(Opcode.text, Buffer.from("123456"), { mask, fin: false }));
    const err = protocolErrorOf(() => p.push(frame(Opcode.continuation, Buffer.from("7890ab"), { mask })));
    expect(err.closeCode).toBe(1009);
    expect(err.message).toMatch(/text message is longer than 10 bytes/);
    expect(seen.data).toEqual([]);
  });

  it("answers random bytes with a ProtocolError or nothing, never another failure", () => {
    let refused = 0;
    for (let round = 0; round < 2000; round++) {
      const { parser: p } = parser(round % 2 === 0, 4096);
      const wire = randomBytes(1 + (round % 300));
      try {
        for (let at = 0; at < wire.length; at += 1 + (round % 17))
          p.push(wire.subarray(at, at + 1 + (round % 17)));
      } catch (err) {
        expect(isStreamingError(err, "ProtocolError")).toBe(true);
        refused++;
      }
    }
    // Most random headers have a reserved bit, a wrong mask bit or an unknown opcode.
    expect(refused).toBeGreaterThan(1000);
  });

  it("reads nothing more once stopped", () => {
    const { parser: p, seen } = parser(false);
    p.stop();
    p.push(frame(Opcode.binary, Buffer.from("late")));
    expect(seen.data).toEqual([]);
  });
});
