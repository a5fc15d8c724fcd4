import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, type V1Pod } from "@nodelet/runtime-api";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createRequestGuard,
  hostOf,
  installRequestGuard,
  isLoopbackHost,
  sha256,
} from "../src/request-guard.js";
import { readTlsFile, readTokenFile } from "../src/secret-files.js";
import { type AgentServer, type AgentServerOptions, createAgentServer } from "../src/server.js";
import { raw } from "./http-raw.js";

const silent = pino({ level: "silent" });
const secretPod: V1Pod = {
  metadata: { name: "db", namespace: "default", uid: "u1" },
  spec: { containers: [{ name: "db", image: "postgres", env: [{ name: "PASSWORD", value: "hunter2" }] }] },
};

const servers: AgentServer[] = [];
const plainServers: Server[] = [];

async function start(options: Partial<AgentServerOptions> = {}): Promise<number> {
  const server = createAgentServer({
    address: "127.0.0.1",
    port: 0,
    view: {
      pods: () => [secretPod],
      runningPods: async () => [],
      healthChecks: () => [{ name: "ping", ok: true, message: "" }],
      registry: new Registry(),
    },
    logger: silent,
    ...options,
  });
  servers.push(server);
  return (await server.listen()).port;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const s of plainServers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

const request = (path: string, host: string | undefined, extra = "") =>
  `GET ${path} HTTP/1.1\r\n${host === undefined ? "" : `Host: ${host}\r\n`}${extra}Connection: close\r\n\r\n`;

describe("Host header on plain loopback HTTP (DNS rebinding)", () => {
  it.each(["/", "/pods", "/healthz", "/runningpods", "/metrics", "/nope"])(
    "%s with a foreign Host is 421 with no data",
    async (path) => {
      const port = await start();
      const res = await raw(port, request(path, `rebind.attacker.example:${port}`));
      expect(res).toMatch(/^HTTP\/1\.1 421 /);
      expect(res).not.toContain("hunter2");
      expect(res).toMatch(/\r\nContent-Length: 0\r\n/i);
      expect(res.endsWith("\r\n\r\n")).toBe(true);
    },
  );

  it.each([
    "127.0.0.1",
    "127.0.0.1:PORT",
    "127.5.6.7:PORT",
    "localhost",
    "LOCALHOST:PORT",
    "[::1]:PORT",
    "[::1]",
  ])("Host %s is served", async (host) => {
    const port = await start();
    const res = await raw(port, request("/pods", host.replace("PORT", String(port))));
    expect(res).toMatch(/^HTTP\/1\.1 200 /);
    expect(res).toContain("hunter2");
  });

  it.each([
    "localhost.attacker.example",
    "127.0.0.1.nip.io",
    "10.0.0.1",
    "0.0.0.0",
    "[::2]",
    "127.0.0.1:99999999",
    "a b",
  ])("Host %s is refused", async (host) => {
    const port = await start();
    const res = await raw(port, request("/pods", host));
    expect(res).toMatch(/^HTTP\/1\.1 (421|400) /);
    expect(res).not.toContain("hunter2");
  });

  it("a request without Host is refused", async () => {
    const port = await start();
    const res = await raw(port, "GET /pods HTTP/1.0\r\n\r\n");
    expect(res).toMatch(/^HTTP\/1\.1 400 /);
    expect(res).not.toContain("hunter2");
  });

  it("an upgrade with a foreign Host is refused too", async () => {
    const port = await start();
    const upgrade =
      "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    const res = await raw(port, request("/pods", "attacker.example", `Connection: Upgrade\r\n${upgrade}`));
    expect(res).toMatch(/^HTTP\/1\.1 421 /);
    expect(res).not.toContain("hunter2");
  });
});

describe("installRequestGuard covers 'upgrade' listeners added at any time", () => {
  async function upgradeServer(): Promise<{ port: number; upgrades: IncomingMessage[] }> {
    const upgrades: IncomingMessage[] = [];
    const server = createServer((_req, res) => res.end("served"));
    plainServers.push(server);
    installRequestGuard(server, createRequestGuard({ tls: false }));
    // Added after the guard, as the streaming endpoints are.
    server.on("upgrade", (req, socket) => {
      upgrades.push(req);
      socket.end("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const address = server.address();
    return { port: typeof address === "object" && address ? address.port : 0, upgrades };
  }
  const upgradeHeaders = "Connection: Upgrade\r\nUpgrade: websocket\r\n";

  it("refuses a foreign Host before the upgrade listener runs", async () => {
    const { port, upgrades } = await upgradeServer();
    const res = await raw(port, request("/exec/x", "attacker.example", upgradeHeaders));
    expect(res).toMatch(/^HTTP\/1\.1 421 /);
    expect(upgrades).toEqual([]);
  });

  it("refuses a browser's cross-origin WebSocket and accepts a same-origin one", async () => {
    const { port, upgrades } = await upgradeServer();
    const host = `127.0.0.1:${port}`;
    const cross = await raw(
      port,
      request("/exec/x", host, `${upgradeHeaders}Origin: http://attacker.example\r\n`),
    );
    expect(cross).toMatch(/^HTTP\/1\.1 403 /);
    const nullOrigin = await raw(port, request("/exec/x", host, `${upgradeHeaders}Origin: null\r\n`));
    expect(nullOrigin).toMatch(/^HTTP\/1\.1 403 /);
    expect(upgrades).toEqual([]);
    const same = await raw(port, request("/exec/x", host, `${upgradeHeaders}Origin: http://${host}\r\n`));
    expect(same).toMatch(/^HTTP\/1\.1 101 /);
    const noOrigin = await raw(port, request("/exec/x", host, upgradeHeaders));
    expect(noOrigin).toMatch(/^HTTP\/1\.1 101 /);
    expect(upgrades).toHaveLength(2);
  });
});

describe("createRequestGuard", () => {
  const req = (headers: Record<string, string>, url = "/pods") =>
    ({ headers, url }) as unknown as IncomingMessage;

  it("with TLS accepts the node's names and addresses, nothing else", () => {
    const guard = createRequestGuard({
      tls: true,
      nodeHosts: ["node1", "node1.example", "10.1.2.3", "fd00::5"],
    });
    for (const host of ["node1:10250", "NODE1.example", "10.1.2.3:10250", "[fd00::5]:10250", "127.0.0.1"]) {
      expect(guard(req({ host })), host).toEqual({ ok: true });
    }
    for (const host of ["node2", "10.1.2.4", "attacker.example"]) {
      expect(guard(req({ host })), host).toMatchObject({ ok: false, status: 421 });
    }
    expect(createRequestGuard({ tls: false, nodeHosts: ["node1"] })(req({ host: "node1" }))).toMatchObject({
      ok: false,
      status: 421,
    });
  });

  it("checks the bearer token on every path but /healthz", () => {
    const guard = createRequestGuard({ tls: false, tokenDigest: sha256("0123456789abcdef") });
    expect(guard(req({ host: "localhost" }))).toMatchObject({ ok: false, status: 401 });
    expect(guard(req({ host: "localhost" }, "/healthz?verbose"))).toEqual({ ok: true });
    expect(guard(req({ host: "localhost", authorization: "Bearer 0123456789abcdef" }))).toEqual({ ok: true });
    expect(guard(req({ host: "attacker", authorization: "Bearer 0123456789abcdef" }))).toMatchObject({
      status: 421,
    });
  });

  it("parses Host headers strictly", () => {
    expect(hostOf("[::1]:80")).toBe("::1");
    expect(hostOf("LocalHost")).toBe("localhost");
    expect(hostOf("[evil.com]")).toBeUndefined();
    expect(hostOf("a:b")).toBeUndefined();
    expect(isLoopbackHost("127.0.0.1")).toBe(true);
    expect(isLoopbackHost("::ffff:127.0.0.1")).toBe(true);
    expect(isLoopbackHost("127.0.0.1.evil")).toBe(false);
  });
});

describe("connection limits", () => {
  it("closes connections beyond maxConnections", async () => {
    const port = await start({ maxConnections: 2 });
    const held = [];
    for (let i = 0; i < 2; i++) {
      const s = connect(port, "127.0.0.1");
      held.push(s);
      s.on("error", () => {});
      await new Promise((r) => s.once("connect", r));
      s.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      await new Promise((r) => s.once("data", r));
    }
    // The third is accepted by the kernel and closed by the server at once, unanswered.
    const third = await raw(port, request("/pods", "127.0.0.1"));
    expect(third).toBe("");
    for (const s of held) s.destroy();
  }, 60_000);

  describe("with TLS", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "nodelet-guard-tls-"));
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=localhost",
          "-keyout",
          join(dir, "key.pem"),
          "-out",
          join(dir, "cert.pem"),
        ],
        { stdio: "ignore" },
      );
      chmodSync(join(dir, "key.pem"), 0o600);
      writeFileSync(join(dir, "token"), "0123456789abcdef0123", { mode: 0o600 });
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("closes a connection whose TLS handshake does not finish in time", async () => {
      const port = await start({
        address: "127.0.0.1",
        tls: { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") },
        tlsHandshakeTimeoutMs: 300,
      });
      // Sends nothing: the server gives up on the handshake and closes (the test waits up to 30 s).
      expect(await raw(port, "")).toBe("");
    }, 60_000);

    it("secret files: size cap, FIFO refused, token length, permission warning", async () => {
      execFileSync("mkfifo", [join(dir, "fifo")]);
      await expect(readTokenFile(join(dir, "fifo"))).rejects.toMatchObject({
        code: ErrorCode.InvalidConfig,
        message: expect.stringContaining("named pipe"),
      });
      await expect(readTlsFile(join(dir, "fifo"), "certificate")).rejects.toMatchObject({
        code: ErrorCode.InvalidConfig,
      });
      writeFileSync(join(dir, "big"), "a".repeat(300 * 1024));
      await expect(readTokenFile(join(dir, "big"))).rejects.toMatchObject({ code: ErrorCode.InvalidConfig });
      writeFileSync(join(dir, "short"), "abc\n", { mode: 0o600 });
      await expect(readTokenFile(join(dir, "short"))).rejects.toThrow(/at least 16/);
      writeFileSync(join(dir, "spaces"), "0123456789 abcdef0123", { mode: 0o600 });
      await expect(readTokenFile(join(dir, "spaces"))).rejects.toThrow(/printable/);
      expect((await readTokenFile(join(dir, "token"))).warning).toBeUndefined();
      writeFileSync(join(dir, "open-token"), "0123456789abcdef0123");
      chmodSync(join(dir, "open-token"), 0o644);
      expect((await readTokenFile(join(dir, "open-token"))).warning?.message).toMatch(
        /readable by everyone.*0644/,
      );
      writeFileSync(join(dir, "not-pem"), "hello");
      await expect(readTlsFile(join(dir, "not-pem"), "certificate")).rejects.toThrow(/not PEM/);
      expect(readFileSync(join(dir, "cert.pem"), "utf8")).toContain("BEGIN");
    });
  });
});
