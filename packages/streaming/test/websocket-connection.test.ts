import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connectWebSocket } from "../src/connect.js";
import { isStreamingError } from "../src/errors.js";
import { acceptWebSocketUpgrade, negotiate } from "../src/server/negotiate.js";
import type { WebSocketConnection } from "../src/websocket/connection.js";
import { acceptValue } from "../src/websocket/handshake.js";

const PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

interface Received {
  binary: Buffer[];
  text: string[];
  closed: Promise<{ code: number; reason: string }>;
}

/** Attaches handlers that gather what a connection receives. */
function receive(conn: WebSocketConnection): Received {
  const received = { binary: [] as Buffer[], text: [] as string[] } as Received;
  let current: Buffer[] = [];
  received.closed = new Promise((resolve) =>
    conn.attach({
      message(piece, binary, first, last) {
        if (!binary) {
          received.text.push(piece.toString());
          return;
        }
        if (first) current = [];
        current.push(Buffer.from(piece));
        if (last) received.binary.push(Buffer.concat(current));
      },
      close: (code, reason) => resolve({ code, reason }),
    }),
  );
  return received;
}

let servers: Server[] = [];
/** Upgraded sockets are no longer the HTTP server's: each test's are destroyed after it. */
let upgraded: Duplex[] = [];
afterEach(async () => {
  for (const socket of upgraded) socket.destroy();
  for (const s of servers) await new Promise((r) => s.close(r));
  servers = [];
  upgraded = [];
});

/** An HTTP server whose upgrades go to `onUpgrade`; resolves with its base URL. */
async function listen(
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.push(socket);
    onUpgrade(req, socket, head);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/exec`;
}

/** A server that completes the handshake with negotiate() and hands out each connection. */
async function ourServer(): Promise<{ url: string; next: Promise<WebSocketConnection> }> {
  let deliver!: (conn: WebSocketConnection) => void;
  const next = new Promise<WebSocketConnection>((r) => {
    deliver = r;
  });
  const url = await listen((req, socket, head) => {
    const { protocol } = negotiate(req, [], PROTOCOLS);
    deliver(acceptWebSocketUpgrade(req, socket, head, protocol));
  });
  return { url, next };
}

/** A server that answers every upgrade with `respond` (a hand-made, possibly wrong, answer). */
function rawServer(respond: (req: IncomingMessage, socket: Duplex) => void): Promise<string> {
  return listen((req, socket) => respond(req, socket));
}

function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  return promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (err: unknown) => {
      if (!isStreamingError(err)) throw err;
      return { code: err.code, message: err.message };
    },
  );
}

describe("WebSocket connections of our own, both sides", () => {
  it("carries binary and text messages both ways and closes with the handshake", async () => {
    const { url, next } = await ourServer();
    const client = await connectWebSocket(url, PROTOCOLS);
    expect(client.protocol).toBe("v5.channel.k8s.io");
    const server = await next;
    const atServer = receive(server);
    const atClient = receive(client);
    const big = Buffer.alloc(300_000, 0xab); // above the reused buffers' size, and many socket reads
    client.sendBinary([Buffer.from([0]), Buffer.from("stdin")]);
    client.sendBinary([Buffer.from([0]), big]);
    client.sendText("1aGk=");
    server.sendBinary([Buffer.from([1]), Buffer.from("out")]);
    server.sendBinary([Buffer.from([1]), big]);
    await new Promise<void>((r) => server.sendText("done", r));
    client.close();
    expect(await atServer.closed).toEqual({ code: 1000, reason: "" });
    expect(await atClient.closed).toEqual({ code: 1000, reason: "" });
    expect(atServer.binary.map((b) => b.length)).toEqual([6, 300_001]);
    expect(atServer.binary[0]?.toString("latin1")).toBe("\0stdin");
    expect(atServer.binary[1]?.subarray(1).equals(big)).toBe(true);
    expect(atServer.text).toEqual(["1aGk="]);
    expect(atClient.binary.map((b) => b.length)).toEqual([4, 300_001]);
    expect(atClient.binary[1]?.subarray(1).equals(big)).toBe(true);
    expect(atClient.text).toEqual(["done"]);
    expect(client.isOpen).toBe(false);
  });

  it("serves a ws client: fragments, ping and close", async () => {
    const { url, next } = await ourServer();
    const ws = new WebSocket(url.replace("http:", "ws:"), ["v4.channel.k8s.io"]);
    await new Promise((r, j) => {
      ws.once("open", r);
      ws.once("error", j);
    });
    expect(ws.protocol).toBe("v4.channel.k8s.io");
    const server = await next;
    const atServer = receive(server);
    ws.send(Buffer.from("\0ab"), { fin: false });
    ws.send(Buffer.from("cd"), { fin: true });
    const pong = new Promise((r) => ws.once("pong", (data: Buffer) => r(data.toString())));
    ws.ping("are you there");
    expect(await pong).toBe("are you there");
    const fromServer = new Promise<Buffer>((r) => ws.once("message", (d: Buffer) => r(d)));
    server.sendBinary([Buffer.from([2]), Buffer.from("err")]);
    expect((await fromServer).toString("latin1")).toBe("\x02err");
    const wsClosed = new Promise((r) => ws.once("close", (code: number) => r(code)));
    ws.close(1000, "bye");
    expect(await atServer.closed).toEqual({ code: 1000, reason: "bye" });
    expect(await wsClosed).toBe(1000);
    expect(atServer.binary.map((b) => b.toString("latin1"))).toEqual(["\0abcd"]);
  });

  it("closes with 1002 on a frame that breaks the protocol, and tells its handler", async () => {
    const { url, next } = await ourServer();
    const ws = new WebSocket(url.replace("http:", "ws:"), ["v4.channel.k8s.io"]);
    await new Promise((r) => ws.once("open", r));
    const server = await next;
    const atServer = receive(server);
    const wsClosed = new Promise((r) => ws.once("close", (code: number) => r(code)));
    // An unmasked frame from a client, written past ws onto its socket.
    (ws as unknown as { _socket: Socket })._socket.write(Buffer.from([0x82, 0x01, 0x00]));
    const closed = await atServer.closed;
    expect(closed.code).toBe(1002);
    expect(closed.reason).toMatch(/a client's frame must be masked/);
    expect(await wsClosed).toBe(1002);
  });

  it("reports 1006 when the peer's socket just goes away", async () => {
    const { url, next } = await ourServer();
    const client = await connectWebSocket(url, PROTOCOLS);
    const server = await next;
    const atClient = receive(client);
    server.terminate();
    expect((await atClient.closed).code).toBe(1006);
  });

  it("refuses a server's wrong answers to the handshake with typed errors", async () => {
    const answer = (extra: (req: IncomingMessage) => string) => (req: IncomingMessage, socket: Duplex) =>
      socket.end(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${extra(req)}\r\n`,
      );
    const accept = (req: IncomingMessage) =>
      `Sec-WebSocket-Accept: ${acceptValue(String(req.headers["sec-websocket-key"]))}\r\n`;
    const cases: [(req: IncomingMessage, socket: Duplex) => void, string, RegExp][] = [
      [
        answer(() => "Sec-WebSocket-Accept: d3Jvbmc=\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n"),
        "ProtocolNegotiationFailed",
        /Sec-WebSocket-Accept does not match our key/,
      ],
      [
        answer((req) => `${accept(req)}Sec-WebSocket-Protocol: chat\r\n`),
        "ProtocolNegotiationFailed",
        /chose subprotocol "chat", not one of v5.channel.k8s.io, v4.channel.k8s.io/,
      ],
      [answer(accept), "ProtocolNegotiationFailed", /chose subprotocol "", not one of/],
      [
        answer(
          (req) =>
            `${accept(req)}Sec-WebSocket-Protocol: v4.channel.k8s.io\r\nSec-WebSocket-Extensions: x\r\n`,
        ),
        "ProtocolNegotiationFailed",
        /named an extension, and none was offered/,
      ],
      [
        (_req, socket) => socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nno way"),
        "ProtocolNegotiationFailed",
        /WebSocket upgrade refused with HTTP 403: no way/,
      ],
      [
        (_req, socket) => socket.end("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"),
        "UpgradeFailed",
        /WebSocket upgrade refused with HTTP 500/,
      ],
    ];
    for (const [respond, code, message] of cases) {
      const url = await rawServer(respond);
      const err = await failure(connectWebSocket(url, PROTOCOLS));
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
    }
  });

  it("closes with 1002 when a server masks its frames", async () => {
    const url = await rawServer((req, socket) => {
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${`Sec-WebSocket-Accept: ${acceptValue(String(req.headers["sec-websocket-key"]))}\r\n`}Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n`,
      );
      socket.write(Buffer.from([0x82, 0x81, 1, 2, 3, 4, 0x55]));
      socket.on("data", () => {});
    });
    const client = await connectWebSocket(url, PROTOCOLS);
    const closed = await receive(client).closed;
    expect(closed.code).toBe(1002);
    expect(closed.reason).toMatch(/a server's frame must not be masked/);
  });
});
