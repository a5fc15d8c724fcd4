// grpc.health.v1.Health/Check by hand over node:http2 (h2c, no TLS), so that lifecycle needs no
// gRPC library: a unary call is one POST of a length-prefixed protobuf message; the answer is a
// length-prefixed HealthCheckResponse and a grpc-status trailer.

import { STATUS_CODES } from "node:http";
import * as http2 from "node:http2";
import {
  encodeLengthDelimited,
  fieldTag,
  formatGoDuration,
  ProtoWireReader,
  WireType,
} from "@nodelet/runtime-api";
import { Aborted, errorText } from "./errors.js";
import { goQuote } from "./go-format.js";
import { joinHostPort } from "./http-target.js";

export const HEALTH_CHECK_PATH = "/grpc.health.v1.Health/Check";

/** HealthCheckResponse.ServingStatus. */
const servingStatusNames: Record<number, string> = {
  0: "UNKNOWN",
  1: "SERVING",
  2: "NOT_SERVING",
  3: "SERVICE_UNKNOWN",
};

/** gRPC status codes as Go's codes.Code String() prints them. */
const codeNames = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
] as const;

const Code = {
  Unknown: 2,
  DeadlineExceeded: 4,
  ResourceExhausted: 8,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
} as const;

/**
 * grpc-go's default largest received message (the kubelet's prober dials with the defaults): a
 * larger answer fails the probe as soon as its length is known, instead of being buffered.
 */
export const MAX_GRPC_HEALTH_RESPONSE_BYTES = 4 * 1024 * 1024;

function codeName(code: number): string {
  return codeNames[code] ?? `Code(${code})`;
}

/** grpc-go's mapping of a non-200 HTTP status to a gRPC code (gRPC's http-grpc-status-mapping). */
function codeForHTTPStatus(status: number): number {
  switch (status) {
    case 400:
      return Code.Internal;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return Code.Unimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.Unavailable;
    default:
      return Code.Unknown;
  }
}

/** HealthCheckRequest{service} (field 1, string; proto3 leaves an empty string out). */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === "") return Buffer.alloc(0);
  return encodeLengthDelimited(1, Buffer.from(service, "utf8"));
}

/** The gRPC message framing: compressed flag (0), 4-byte big-endian length, message. */
export function frameMessage(message: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** HealthCheckResponse.status (field 1, enum); 0 when absent. Unknown fields are skipped. */
export function decodeHealthCheckResponse(message: Buffer): number {
  let status = 0;
  const reader = new ProtoWireReader(message, "HealthCheckResponse");
  while (!reader.done) {
    const tag = reader.varint();
    if (tag === fieldTag(1, WireType.Varint)) status = reader.int32();
    else reader.skip(tag);
  }
  return status;
}

function decodeGrpcMessage(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(",") : (value ?? "");
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export interface HealthCheckOptions {
  host: string;
  port: number;
  service: string;
  timeoutMs: number;
  userAgent: string;
  signal?: AbortSignal | undefined;
}

/** What the kubelet's grpc prober reports: healthy or not, and its message. */
export interface HealthCheckOutcome {
  healthy: boolean;
  output: string;
}

/**
 * The kubelet's grpcprobe.Probe: Health/Check{service} to host:port over h2c within `timeoutMs`.
 * SERVING is healthy ("service is healthy"); any other status, a failed call, Unimplemented or
 * a timeout is not, with the kubelet's message. Rejects only with Aborted when `signal` aborts.
 */
export function checkGRPCHealth(options: HealthCheckOptions): Promise<HealthCheckOutcome> {
  const { host, port, service, timeoutMs, userAgent, signal } = options;
  const addr = joinHostPort(host, port);
  const within = formatGoDuration(timeoutMs);
  if (signal?.aborted) return Promise.reject(new Aborted(signal));
  return new Promise<HealthCheckOutcome>((resolve, reject) => {
    let connected = false;
    let settled = false;
    let session: http2.ClientHttp2Session | undefined;
    const finish = (outcome: HealthCheckOutcome | Aborted) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      session?.destroy();
      if (outcome instanceof Aborted) reject(outcome);
      else resolve(outcome);
    };
    const unhealthy = (output: string) => finish({ healthy: false, output });
    const rpcError = (code: number, message: string) => {
      if (code === Code.Unimplemented) {
        unhealthy(
          `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${message}`,
        );
      } else if (code === Code.DeadlineExceeded) {
        unhealthy(`timeout: health rpc did not complete within ${within}`);
      } else {
        unhealthy(`error: health rpc probe failed: rpc error: code = ${codeName(code)} desc = ${message}`);
      }
    };
    const onAbort = () => finish(new Aborted(signal as AbortSignal));
    const timer = setTimeout(() => {
      if (connected) unhealthy(`timeout: health rpc did not complete within ${within}`);
      else
        unhealthy(
          `timeout: failed to connect service ${goQuote(addr)} within ${within}: context deadline exceeded`,
        );
    }, timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });

    const connectFailed = (err: unknown) =>
      unhealthy(`error: failed to connect service at ${goQuote(addr)}: ${errorText(err)}`);
    try {
      session = http2.connect(`http://${addr}`);
    } catch (err) {
      connectFailed(err);
      return;
    }
    session.on("error", (err) => {
      if (connected) rpcError(Code.Unavailable, errorText(err));
      else connectFailed(err);
    });
    session.on("close", () => {
      if (connected) rpcError(Code.Unavailable, "connection closed");
      else connectFailed(new Error("connection closed"));
    });
    session.once("connect", (s: http2.ClientHttp2Session) => {
      connected = true;
      const stream = s.request({
        ":method": "POST",
        ":path": HEALTH_CHECK_PATH,
        "content-type": "application/grpc",
        te: "trailers",
        "user-agent": userAgent,
        "grpc-timeout": `${Math.max(1, Math.ceil(timeoutMs))}m`,
      });
      let headers: http2.IncomingHttpHeaders | undefined;
      let trailers: http2.IncomingHttpHeaders | undefined;
      const chunks: Buffer[] = [];
      stream.on("response", (h) => {
        headers = h;
      });
      stream.on("trailers", (t) => {
        trailers = t;
      });
      let received = 0;
      let declared: number | undefined;
      stream.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        // The 5-byte prefix declares the message length; a server may also send more than it declares.
        if (declared === undefined && received >= 5) declared = Buffer.concat(chunks).readUInt32BE(1);
        const size = Math.max(declared ?? 0, received - 5);
        if (size > MAX_GRPC_HEALTH_RESPONSE_BYTES) {
          rpcError(
            Code.ResourceExhausted,
            `grpc: received message larger than max (${size} vs. ${MAX_GRPC_HEALTH_RESPONSE_BYTES})`,
          );
        }
      });
      stream.on("error", (err) => rpcError(Code.Unavailable, errorText(err)));
      stream.on("close", () => {
        if (!headers) {
          rpcError(Code.Unavailable, `stream closed without a response (HTTP/2 code ${stream.rstCode ?? 0})`);
          return;
        }
        const status = Number(headers[":status"]);
        if (status !== 200) {
          rpcError(
            codeForHTTPStatus(status),
            `unexpected HTTP status code received from server: ${status} (${STATUS_CODES[status] ?? ""})`,
          );
          return;
        }
        const contentType = String(headers["content-type"] ?? "");
        if (!/^application\/grpc($|[+;])/.test(contentType)) {
          rpcError(Code.Unknown, `transport: received unexpected content-type ${goQuote(contentType)}`);
          return;
        }
        // A Trailers-Only answer carries grpc-status in the headers.
        const meta = trailers ?? headers;
        const grpcStatus = meta["grpc-status"];
        if (grpcStatus === undefined) {
          rpcError(Code.Internal, "server closed the stream without sending trailers");
          return;
        }
        const code = Number(grpcStatus);
        if (code !== 0) {
          rpcError(code, decodeGrpcMessage(meta["grpc-message"]));
          return;
        }
        const body = Buffer.concat(chunks);
        if (body.length < 5) {
          rpcError(Code.Internal, "server sent no response message");
          return;
        }
        if (((body[0] as number) & 1) !== 0) {
          rpcError(Code.Internal, "grpc: compressed flag set with identity or empty encoding");
          return;
        }
        const length = body.readUInt32BE(1);
        if (body.length < 5 + length) {
          rpcError(Code.Internal, "response message truncated");
          return;
        }
        let servingStatus: number;
        try {
          servingStatus = decodeHealthCheckResponse(body.subarray(5, 5 + length));
        } catch (err) {
          rpcError(Code.Internal, `grpc: failed to unmarshal the received message: ${errorText(err)}`);
          return;
        }
        if (servingStatus !== 1) {
          const name = servingStatusNames[servingStatus] ?? String(servingStatus);
          unhealthy(`service unhealthy (responded with ${goQuote(name)})`);
          return;
        }
        finish({ healthy: true, output: "service is healthy" });
      });
      stream.end(frameMessage(encodeHealthCheckRequest(service)));
    });
  });
}
