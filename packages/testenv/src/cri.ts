import { constants as h2, connect as http2Connect } from "node:http2";
import { connect as netConnect } from "node:net";
import { TestEnvError } from "./errors.js";

/*
 * Just enough gRPC (unary calls over HTTP/2 on a unix socket) and protobuf to ask the CRI whether it
 * is ready, without any npm dependency. Not a general client.
 */

const RUNTIME = "/runtime.v1.RuntimeService";
const IMAGES = "/runtime.v1.ImageService";

interface Field {
  no: number;
  varint?: bigint;
  bytes?: Buffer;
}

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let i = at; i < buf.length; i++) {
    const byte = buf[i] as number;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, i + 1];
    shift += 7n;
  }
  throw new TestEnvError("INVALID_STATE", "truncated protobuf varint");
}

function decode(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let at = 0;
  while (at < buf.length) {
    const [key, next] = readVarint(buf, at);
    at = next;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, n] = readVarint(buf, at);
      fields.push({ no, varint: v });
      at = n;
    } else if (wire === 2) {
      const [len, n] = readVarint(buf, at);
      fields.push({ no, bytes: buf.subarray(n, n + Number(len)) });
      at = n + Number(len);
    } else if (wire === 1) {
      at += 8;
    } else if (wire === 5) {
      at += 4;
    } else {
      throw new TestEnvError("INVALID_STATE", `unsupported protobuf wire type ${wire}`);
    }
  }
  return fields;
}

function str(fields: Field[], no: number): string {
  return fields.find((f) => f.no === no)?.bytes?.toString("utf8") ?? "";
}

function varint(value: number): Buffer {
  const out: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    out.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  out.push(rest);
  return Buffer.from(out);
}

/** A length-delimited field: strings and embedded messages alike. */
function lengthDelimited(no: number, data: Buffer): Buffer {
  return Buffer.concat([varint((no << 3) | 2), varint(data.length), data]);
}

/** One unary gRPC call; resolves with the response message bytes. */
export function grpcUnary(socket: string, path: string, request: Buffer, timeoutMs = 5_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const client = http2Connect("http://localhost", { createConnection: () => netConnect(socket) });
    const fail = (error: Error) => {
      client.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new TestEnvError("TIMEOUT", `gRPC ${path} on ${socket} timed out`)),
      timeoutMs,
    );
    client.on("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    const frame = Buffer.alloc(5 + request.length);
    frame.writeUInt8(0, 0);
    frame.writeUInt32BE(request.length, 1);
    request.copy(frame, 5);
    const req = client.request({
      [h2.HTTP2_HEADER_METHOD]: "POST",
      [h2.HTTP2_HEADER_PATH]: path,
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = "";
    req.on("response", (headers) => {
      // A "trailers-only" reply carries grpc-status in the headers.
      if (headers["grpc-status"] !== undefined) status = String(headers["grpc-status"]);
      message = String(headers["grpc-message"] ?? "");
    });
    req.on("trailers", (trailers) => {
      status = String(trailers["grpc-status"] ?? status);
      message = decodeURIComponent(String(trailers["grpc-message"] ?? message));
    });
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    req.on("end", () => {
      clearTimeout(timer);
      client.close();
      if (status !== "0") {
        reject(new TestEnvError("CONTAINERD_FAILED", `gRPC ${path} failed: status ${status} ${message}`));
        return;
      }
      const body = Buffer.concat(chunks);
      resolve(body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)) : Buffer.alloc(0));
    });
    req.end(frame);
  });
}

export interface CriVersion {
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export async function criVersion(socket: string, timeoutMs?: number): Promise<CriVersion> {
  const fields = decode(await grpcUnary(socket, `${RUNTIME}/Version`, Buffer.alloc(0), timeoutMs));
  return { runtimeName: str(fields, 2), runtimeVersion: str(fields, 3), runtimeApiVersion: str(fields, 4) };
}

export interface CriCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

/** RuntimeReady / NetworkReady conditions from the CRI Status call. */
export async function criConditions(socket: string, timeoutMs?: number): Promise<CriCondition[]> {
  const response = decode(await grpcUnary(socket, `${RUNTIME}/Status`, Buffer.alloc(0), timeoutMs));
  const runtimeStatus = response.find((f) => f.no === 1)?.bytes;
  if (!runtimeStatus) return [];
  return decode(runtimeStatus)
    .filter((f) => f.no === 1 && f.bytes)
    .map((f) => {
      const c = decode(f.bytes as Buffer);
      return {
        type: str(c, 1),
        status: (c.find((x) => x.no === 2)?.varint ?? 0n) !== 0n,
        reason: str(c, 3),
        message: str(c, 4),
      };
    });
}

/** Whether the CRI image service knows `ref` (ImageStatus returns an image). */
export async function criHasImage(socket: string, ref: string, timeoutMs?: number): Promise<boolean> {
  const request = lengthDelimited(1, lengthDelimited(1, Buffer.from(ref, "utf8")));
  const response = decode(await grpcUnary(socket, `${IMAGES}/ImageStatus`, request, timeoutMs));
  return response.some((f) => f.no === 1 && f.bytes !== undefined);
}
