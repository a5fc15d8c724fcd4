// The agent's relay (createStreamingServer) against the real containerd, its targets straight to
// the runtime: a WebSocket client's output arrives whole, in order and on the right channel while
// the relay coalesces the runtime's SPDY frames into larger messages.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createStreamingServer, exec, type StreamingServer, WS_V5 } from "../../src/index.js";
import {
  connectRuntime,
  type Runtime,
  readAll,
  removePods,
  startPod,
  type TestPod,
  waitFor,
} from "./support.js";

let rt: Runtime;
let pod: TestPod;
let streaming: StreamingServer;
let server: Server;
let base: string;
/** How many times the relay asked the runtime for an exec URL. */
let execUrls = 0;
const runId = `relay-${process.pid}-${Date.now().toString(36)}`;

beforeAll(async () => {
  rt = await connectRuntime();
  pod = await startPod(rt, runId, `relay-${runId}`, ["sleep", "3600"]);
  streaming = createStreamingServer({
    targets: {
      exec: async (_target, cmd, s) => {
        execUrls++;
        return new URL((await rt.service.exec({ containerId: pod.containerId, cmd: [...cmd], ...s })).url);
      },
      attach: async () => {
        throw new Error("unused");
      },
      portForward: async () => {
        throw new Error("unused");
      },
    },
  });
  server = createServer((req, res) => streaming.handleRequest(req, res));
  server.on("upgrade", (req, socket, head) => streaming.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/exec/ns/pod/main`;
});
afterAll(async () => {
  streaming?.close();
  server?.close();
  await removePods(rt, runId);
});

const execPath = (script: string) =>
  `${base}?${["sh", "-c", script].map((c) => `command=${encodeURIComponent(c)}`).join("&")}&output=1&error=1`;

/** A raw upgrade request; resolves with the status line and body the relay answered. */
function rawUpgrade(path: string, method: string, headers: Record<string, string>): Promise<string> {
  const url = new URL(path);
  return new Promise((resolve, reject) => {
    const socket = createConnection(Number(url.port), url.hostname, () => {
      const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
    let answer = "";
    socket.on("data", (c: Buffer) => {
      answer += c.toString();
    });
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

describe("the relay's WebSocket handshake", () => {
  it("refuses a bad handshake before it asks the runtime, and serves a good one after", async () => {
    const ws = {
      Connection: "Upgrade",
      Upgrade: "websocket",
      "Sec-WebSocket-Protocol": WS_V5,
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    };
    const before = execUrls;
    const path = execPath("echo hi");
    const version = await rawUpgrade(path, "GET", { ...ws, "Sec-WebSocket-Version": "8" });
    expect(version).toMatch(/^HTTP\/1.1 426 Upgrade Required\r\n/);
    expect(version).toMatch(/\r\nSec-WebSocket-Version: 13\r\n/);
    expect(version).toMatch(/Sec-WebSocket-Version "8" is not supported: use 13/);
    const key = await rawUpgrade(path, "GET", { ...ws, "Sec-WebSocket-Key": "not a key" });
    expect(key).toMatch(/^HTTP\/1.1 400 Bad Request\r\n/);
    expect(key).toMatch(/Sec-WebSocket-Key must be 16 bytes in base64/);
    const post = await rawUpgrade(path, "POST", ws);
    expect(post).toMatch(/^HTTP\/1.1 405 Method Not Allowed\r\n/);
    expect(execUrls).toBe(before);
    const s = await exec(path, { transport: "websocket" });
    expect(s.protocol).toBe(WS_V5);
    const out = readAll(s.stdout as Readable);
    expect(await s.exitCode).toBe(0);
    expect((await out).toString()).toBe("hi\n");
    expect(execUrls).toBe(before + 1);
  });
});

describe("the clients over TLS (an agent serving https)", () => {
  it("exec over wss and over SPDY on https with the agent's CA; refused without it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nodelet-streaming-tls-"));
    const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
    // A self-signed certificate for 127.0.0.1 (openssl comes with the testenv).
    execFileSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ]);
    const ca = readFileSync(cert);
    const tls = createHttpsServer({ key: readFileSync(key), cert: ca }, (req, res) =>
      streaming.handleRequest(req, res),
    );
    tls.on("upgrade", (req, socket, head) => streaming.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", resolve));
    try {
      const plain = new URL(execPath("echo tls; echo err >&2"));
      const path = `https://127.0.0.1:${(tls.address() as AddressInfo).port}${plain.pathname}${plain.search}`;
      for (const transport of ["websocket", "spdy"] as const) {
        const s = await exec(path, { transport, ca });
        const [out, err] = [readAll(s.stdout as Readable), readAll(s.stderr as Readable)];
        expect(await s.exitCode).toBe(0);
        expect((await out).toString()).toBe("tls\n");
        expect((await err).toString()).toBe("err\n");
        const refused = await exec(path, { transport }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(refused).toMatchObject({ code: "UpgradeFailed" });
        expect((refused as Error).message).toMatch(/self[- ]signed certificate/);
      }
    } finally {
      tls.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the relay to a WebSocket v5 client", () => {
  it("keeps stdout and stderr apart and in order while both are written at once", async () => {
    const lines = 3000;
    const s = await exec(
      execPath(`i=0; while [ $i -lt ${lines} ]; do echo out$i; echo err$i >&2; i=$((i+1)); done; exit 5`),
      { transport: "websocket" },
    );
    expect(s.protocol).toBe(WS_V5);
    const [out, err, code] = await Promise.all([readAll(s.stdout), readAll(s.stderr), s.exitCode]);
    const expected = (prefix: string) => Array.from({ length: lines }, (_, i) => `${prefix}${i}\n`).join("");
    expect(out.toString() === expected("out")).toBe(true);
    expect(err.toString() === expected("err")).toBe(true);
    expect(code).toBe(5);
  });

  it("carries 50 MiB through stdout with the same checksum and the status after it", async () => {
    const size = 50 * 1024 * 1024;
    const s = await exec(
      execPath(`head -c ${size} /dev/urandom > /tmp/big; md5sum /tmp/big >&2; cat /tmp/big; rm /tmp/big`),
      { transport: "websocket" },
    );
    const hash = createHash("md5");
    let got = 0;
    s.stdout?.on("data", (c: Buffer) => {
      got += c.length;
      hash.update(c);
    });
    const [err, code] = await Promise.all([readAll(s.stderr), s.exitCode]);
    expect(code).toBe(0);
    expect(got).toBe(size);
    expect(hash.digest("hex")).toBe(err.toString().split(" ")[0]);
  });

  it("holds a slow reader's output back and delivers all of it once read (back-pressure through the relay)", async () => {
    const size = 50 * 1024 * 1024;
    const s = await exec(execPath(`head -c ${size} /dev/zero`), { transport: "websocket" });
    const out = s.stdout as Readable;
    // Nobody reads stdout: it fills to its high-water mark and stays bounded instead of growing.
    await waitFor("stdout to fill", async () => (out.readableLength >= 1 << 20 ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    expect(out.readableLength).toBeLessThanOrEqual(2 << 20);
    let got = 0;
    out.on("data", (c: Buffer) => {
      got += c.length;
    });
    expect(await s.exitCode).toBe(0);
    expect(got).toBe(size);
  });

  it("ends the session once stdin's close and the status are through, even when the last stdin chunk waits for the runtime", async () => {
    // A bare v5 client sending 1 MiB messages: the runtime's stdin is still draining the last one
    // when the close of stdin arrives. The relay used to stay paused on that chunk (no 'drain' for
    // an ending stream), leave the client's close frame unread and end at ws's 30 s close timeout.
    const chunks = 48;
    const ws = new WebSocket(
      `${base.replace("http:", "ws:")}?${["sh", "-c", "wc -c; echo after"].map((c) => `command=${encodeURIComponent(c)}`).join("&")}&input=1&output=1`,
      [WS_V5],
    );
    let stdout = "";
    let status = "";
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.on("message", (data: Buffer) => {
      if (data[0] === 1) stdout += data.subarray(1).toString();
      if (data[0] === 3) status += data.subarray(1).toString();
    });
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const piece = Buffer.alloc(1 + (1 << 20), 7);
    piece[0] = 0;
    for (let i = 0; i < chunks; i++) ws.send(piece);
    ws.send(Buffer.from([255, 0]));
    // Well under ws's 30 s close timeout: the relay read the client's close frame and closed.
    const ended = await Promise.race([
      closed,
      new Promise((resolve) => setTimeout(() => resolve("still open after 10 s"), 10_000).unref()),
    ]);
    expect(ended).toBe(1000);
    await waitFor("the relay to end the session", async () => (streaming.active === 0 ? true : undefined));
    expect(stdout).toBe(`${chunks << 20}\nafter\n`);
    expect(JSON.parse(status)).toMatchObject({ status: "Success" });
  });
});
