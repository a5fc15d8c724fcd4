import { VersionResponse } from "@nodelet/cri-api";
import { describe, expect, it } from "vitest";
import {
  encodeLengthDelimited,
  encodeVarint,
  fieldTag,
  isNodeletError,
  ProtoWireReader,
  WireType,
} from "../src/index.js";

describe("ProtoWireReader", () => {
  it("reads what ts-proto writes, field by field", () => {
    const bytes = VersionResponse.encode({
      version: "0.1.0",
      runtimeName: "containerd",
      runtimeVersion: "v1.7.24",
      runtimeApiVersion: "v1",
    }).finish();
    const reader = new ProtoWireReader(bytes, "VersionResponse");
    const fields: [number, string][] = [];
    while (!reader.done) {
      const tag = reader.varint();
      expect(tag % 8).toBe(WireType.LengthDelimited);
      fields.push([tag >>> 3, Buffer.from(reader.bytes()).toString("utf8")]);
    }
    expect(fields).toEqual([
      [1, "0.1.0"],
      [2, "containerd"],
      [3, "v1.7.24"],
      [4, "v1"],
    ]);
  });

  it("reads varints up to 2^53 exactly, and int32 from their low 32 bits", () => {
    for (const n of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      expect(new ProtoWireReader(encodeVarint(n), "x").varint()).toBe(n);
    }
    // -1 as protobuf writes a negative int32: sign-extended to 64 bits, ten bytes.
    const minusOne = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const reader = new ProtoWireReader(minusOne, "x");
    expect(reader.int32()).toBe(-1);
    expect(reader.done).toBe(true);
    expect(new ProtoWireReader(encodeVarint(2), "x").int32()).toBe(2);
  });

  it("skips every wire type it knows, within the bounds it was given", () => {
    const message = Buffer.concat([
      encodeVarint(fieldTag(1, WireType.Varint)),
      encodeVarint(2 ** 40),
      encodeVarint(fieldTag(2, WireType.Fixed64)),
      Buffer.alloc(8, 0xaa),
      encodeLengthDelimited(3, Buffer.from("abc")),
      encodeVarint(fieldTag(4, WireType.Fixed32)),
      Buffer.alloc(4, 0xbb),
      encodeLengthDelimited(5, Buffer.from("after")),
    ]);
    const framed = Buffer.concat([Buffer.from("head"), message, Buffer.from("tail")]);
    const reader = new ProtoWireReader(framed, "x", 4, 4 + message.length);
    const seen: number[] = [];
    let last = "";
    while (!reader.done) {
      const tag = reader.varint();
      seen.push(tag >>> 3);
      if (tag >>> 3 === 5) last = Buffer.from(reader.bytes()).toString();
      else reader.skip(tag);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(last).toBe("after");
    expect(reader.pos).toBe(4 + message.length);
  });

  it.each([
    ["ends inside a varint", Buffer.from([0x08, 0x80])],
    ["has a field that runs past its end", Buffer.from([0x12, 0x05, 0x61])],
    ["has a field that runs past its end", Buffer.from([0x09, 0x01, 0x02])],
    ["has wire type 3", Buffer.from([0x0b])],
    ["has a varint longer than 10 bytes", Buffer.from([0x08, ...Array(11).fill(0x80), 0x01])],
  ])("rejects a message that %s, naming it", (problem, bytes) => {
    const reader = new ProtoWireReader(bytes, "StatusResponse");
    let error: unknown;
    try {
      while (!reader.done) reader.skip(reader.varint());
    } catch (e) {
      error = e;
    }
    expect(isNodeletError(error, "InvalidResponse")).toBe(true);
    expect((error as Error).message).toContain("StatusResponse is not valid protobuf");
    expect((error as Error).message).toContain(problem);
  });
});

describe("encodeVarint / encodeLengthDelimited", () => {
  it("writes what ts-proto reads", () => {
    const bytes = Buffer.concat([
      encodeLengthDelimited(2, Buffer.from("containerd")),
      encodeLengthDelimited(4, Buffer.from("v1")),
    ]);
    expect(VersionResponse.decode(bytes)).toMatchObject({
      runtimeName: "containerd",
      runtimeApiVersion: "v1",
    });
    expect([...encodeVarint(300)]).toEqual([0xac, 0x02]);
  });

  it("refuses what a varint cannot carry exactly", () => {
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN]) {
      expect(() => encodeVarint(bad)).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
    }
  });
});
