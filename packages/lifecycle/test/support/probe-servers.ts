import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";

export interface SeenGRPCCall {
  path: string;
  headers: http2.IncomingHttpHeaders;
  service: string;
}

export interface HealthServer {
  port: number;
  calls: SeenGRPCCall[];
  close(): Promise<void>;
}

/** HealthCheckRequest{service}, decoded here independently of the code under test. */
function decodeService(message: Buffer): string {
  if (message.length === 0) return "";
  if (message[0] !== 0x0a) throw new Error(`unexpected tag ${message[0]}`);
  const length = message[1] as number; // short names only in these tests
  return message.subarray(2, 2 + length).toString("utf8");
}

function grpcFrame(message: number[]): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, Buffer.from(message)]);
}

/**
 * An h2c server implementing grpc.health.v1.Health/Check: service "" and "web" are SERVING,
 * "db" NOT_SERVING, "odd" answers status 7 (not a known enum value), "slow" never answers,
 * "unimplemented" answers Unimplemented, "huge" and "liar" stream an endless answer (declaring
 * 5 MiB, or 2 bytes), "garbled" answers a message cut inside its varint, "extra" answers
 * NOT_SERVING after a field the probe does not know; any other service is NotFound "unknown service", as
 * grpc-go's health server does. Other paths are Unimplemented.
 */
export async function startHealthServer(): Promise<HealthServer> {
  const calls: SeenGRPCCall[] = [];
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", () => {});
    stream.on("end", () => {
      const path = String(headers[":path"]);
      const body = Buffer.concat(chunks);
      const service = body.length >= 5 ? decodeService(body.subarray(5, 5 + body.readUInt32BE(1))) : "";
      calls.push({ path, headers, service });
      const trailersOnly = (code: number, message: string) =>
        stream.respond(
          {
            ":status": 200,
            "content-type": "application/grpc",
            "grpc-status": code,
            "grpc-message": message,
          },
          { endStream: true },
        );
      if (path !== "/grpc.health.v1.Health/Check" || service === "unimplemented") {
        trailersOnly(12, encodeURIComponent(`unknown service grpc.health.v1.Health`));
        return;
      }
      if (service === "slow") return;
      if (service === "huge" || service === "liar") {
        // "huge" declares a 5 MiB answer, "liar" declares 2 bytes; both then send without end.
        stream.respond({ ":status": 200, "content-type": "application/grpc" });
        const header = Buffer.alloc(5);
        header.writeUInt32BE(service === "huge" ? 5 * 1024 * 1024 : 2, 1);
        const chunk = Buffer.alloc(64 * 1024);
        const pump = (): void => {
          while (!stream.destroyed && !stream.closed) {
            if (!stream.write(chunk)) {
              stream.once("drain", pump);
              return;
            }
          }
        };
        stream.write(header);
        pump();
        return;
      }
      const answers: Record<string, number[]> = {
        garbled: [0x08, 0x81],
        extra: [0x12, 0x02, 0x68, 0x69, 0x08, 0x02],
      };
      const status = ({ "": 1, web: 1, db: 2, odd: 7 } as Record<string, number>)[service];
      if (status === undefined && answers[service] === undefined) {
        trailersOnly(5, "unknown service");
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": 0, "grpc-message": "" }));
      stream.end(grpcFrame(answers[service] ?? [0x08, status as number]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  return {
    port: (server.address() as AddressInfo).port,
    calls,
    close() {
      for (const s of sessions) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export interface TCPServer {
  port: number;
  accepted: number;
  close(): Promise<void>;
}

/** Accepts connections on 127.0.0.1 and counts them. */
export async function startTCPServer(): Promise<TCPServer> {
  const sockets = new Set<Socket>();
  const state = { accepted: 0 };
  const server: Server = createServer((socket) => {
    state.accepted++;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return state.accepted;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
