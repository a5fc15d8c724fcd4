import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { exec } from "../src/exec.js";
import { Channel, WS_V5 } from "../src/protocol.js";

// The WebSocket client masks every stdin message into a copy (ws does, as a client must). A large
// write sent all at once held every masked copy until the socket took it: 64 MiB of stdin was
// 64 MiB more memory (and, with the channel-byte copies, 128 MiB of fresh allocations).
describe("exec over WebSocket: stdin", () => {
  let wss: WebSocketServer | undefined;
  afterEach(() => wss?.close());

  it("sends a large write no more than a window ahead of the socket, in order and complete", async () => {
    const received: Buffer[] = [];
    let server: WebSocket | undefined;
    const listener = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: () => WS_V5 });
    wss = listener;
    const connected = new Promise<WebSocket>((resolve) => {
      listener.on("connection", (ws) => {
        ws.pause(); // a runtime that reads nothing yet
        ws.on("message", (data: Buffer) => {
          if (data[0] === Channel.stdin) received.push(data.subarray(1));
          else if (data[0] === Channel.close && data[1] === Channel.stdin) {
            ws.send(Buffer.concat([Buffer.from([Channel.error]), Buffer.from('{"status":"Success"}')]));
            ws.close(1000);
          }
        });
        server = ws;
        resolve(ws);
      });
    });
    await new Promise((r) => listener.once("listening", r));
    const { port } = listener.address() as AddressInfo;
    const session = await exec(`http://127.0.0.1:${port}/exec`, { stdin: true, transport: "websocket" });
    await connected;

    const size = 64 << 20;
    const data = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i += 4096) data.fill(i / 4096, i, i + 4096);
    const before = process.memoryUsage().arrayBuffers;
    let written = false;
    session.stdin?.write(data, () => {
      written = true;
    });
    // Measured as write() returns: what was sent at once is still held in masked copies. What the
    // kernel took (its socket buffers, several MiB on loopback) counts too until it is collected.
    const held = process.memoryUsage().arrayBuffers - before;
    expect(held).toBeLessThan(32 << 20);
    expect(written).toBe(false);

    server?.resume();
    session.stdin?.end();
    expect(await session.exitCode).toBe(0);
    expect(written).toBe(true);
    expect(Buffer.concat(received).equals(data)).toBe(true);
    // 64 MiB through real sockets: under a second alone, over 5 s next to every other suite.
  }, 60_000);
});
