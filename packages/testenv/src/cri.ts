import { constants as h2, connect as http2Connect } from "node:http2";
import { connect as netConnect } from "node:net";
import { encodeLengthDelimited, ProtoWireReader, WireType } from "@nodelet/runtime-api";
import { TestEnvError } from "./errors.js";

/*
 * Just enough gRPC (unary calls over HTTP/2 on a unix socket) and protobuf to ask the CRI whether it
 * is ready, without depending on the CRI client. Not a general client.
 */

const RUNTIME = "/runtime.v1.RuntimeService";
const IMAGES = "/runtime.v1.ImageService";

interface Field {
  no: number;
  varint?: number;
  bytes?: Buffer;
}

/** The message's fields in order; unknown wire types and truncation throw (InvalidResponse). */
function decode(buf: Buffer, what: string): Field[] {
  const fields: Field[] = [];
  const reader = new ProtoWireReader(buf, what);
  while (!reader.done) {
    const tag = reader.varint();
    const no = Math.floor(tag / 8);
    if (tag % 8 === WireType.Varint) fields.push({ no, varint: reader.varint() });
    else if (tag % 8 === WireType.LengthDelimited) fields.push({ no, bytes: Buffer.from(reader.bytes()) });
    else reader.skip(tag);
  }
  return fields;
}

function str(fields: Field[], no: number): string {
  return fields.find((f) => f.no === no)?.bytes?.toString("utf8") ?? "";
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
  const fields = decode(
    await grpcUnary(socket, `${RUNTIME}/Version`, Buffer.alloc(0), timeoutMs),
    "VersionResponse",
  );
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
  const response = decode(
    await grpcUnary(socket, `${RUNTIME}/Status`, Buffer.alloc(0), timeoutMs),
    "StatusResponse",
  );
  const runtimeStatus = response.find((f) => f.no === 1)?.bytes;
  if (!runtimeStatus) return [];
  return decode(runtimeStatus, "RuntimeStatus")
    .filter((f) => f.no === 1 && f.bytes)
    .map((f) => {
      const c = decode(f.bytes as Buffer, "RuntimeCondition");
      return {
        type: str(c, 1),
        status: (c.find((x) => x.no === 2)?.varint ?? 0) !== 0,
        reason: str(c, 3),
        message: str(c, 4),
      };
    });
}

/** Whether the CRI image service knows `ref` (ImageStatus returns an image). */
export async function criHasImage(socket: string, ref: string, timeoutMs?: number): Promise<boolean> {
  const request = encodeLengthDelimited(1, encodeLengthDelimited(1, Buffer.from(ref, "utf8")));
  const response = decode(
    await grpcUnary(socket, `${IMAGES}/ImageStatus`, request, timeoutMs),
    "ImageStatusResponse",
  );
  return response.some((f) => f.no === 1 && f.bytes !== undefined);
}
