import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { ErrorCode, NodeletError, type Pod, type V1Pod } from "@nodelet/runtime-api";
import { pino } from "pino";
import { Counter, Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isLoopbackAddress } from "../src/loopback.js";
import {
  type AgentServer,
  type AgentServerOptions,
  type AgentView,
  createAgentServer,
} from "../src/server.js";
import { raw } from "./http-raw.js";

const silent = pino({ level: "silent" });

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(
  url: string,
  options: { method?: string; headers?: Record<string, string>; ca?: Buffer } = {},
): Promise<Response> {
  const request = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? "GET",
        headers: options.headers ?? {},
        ...(options.ca ? { ca: options.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const v1Pod: V1Pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-node1", namespace: "default", uid: "u1" },
  spec: { containers: [{ name: "web", image: "nginx:1.27" }] },
  status: { phase: "Running" },
};

const runtimePod: Pod = {
  id: "u1",
  name: "web-node1",
  namespace: "default",
  createdAt: 1,
  containers: [
    {
      id: { type: "containerd", id: "c1" },
      name: "web",
      image: "docker.io/library/nginx:1.27",
      imageID: "sha256:1",
      imageRef: "sha256:1",
      imageRuntimeHandler: "",
      hash: "abc",
      state: "running",
      createdAt: 1,
    },
  ],
  sandboxes: [],
};

function fakeView(overrides: Partial<AgentView> = {}): AgentView {
  const registry = new Registry();
  new Counter({
    name: "kubelet_started_pods_total",
    help: "Cumulative number of pods started",
    registers: [registry],
  }).inc(2);
  return {
    pods: () => [v1Pod],
    runningPods: async () => [runtimePod],
    healthChecks: () => [
      { name: "ping", ok: true, message: "" },
      { name: "pleg", ok: true, message: "" },
    ],
    registry,
    ...overrides,
  };
}

const servers: AgentServer[] = [];

async function start(
  options: Partial<AgentServerOptions> = {},
): Promise<{ server: AgentServer; port: number; base: string }> {
  const server = createAgentServer({
    address: "127.0.0.1",
    port: 0,
    view: fakeView(),
    logger: silent,
    ...options,
  });
  servers.push(server);
  const { port } = await server.listen();
  return { server, port, base: `http://127.0.0.1:${port}` };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("isLoopbackAddress", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.5.6.7", true],
    ["::1", true],
    ["[::1]", true],
    ["::ffff:127.0.0.1", true],
    ["localhost", true],
    ["LOCALHOST", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.1", false],
    ["128.0.0.1", false],
    ["example.com", false],
  ])("%s: %s", (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });
});

describe("endpoints", () => {
  it("GET /healthz is ok when every check passes", async () => {
    const { base } = await start();
    const res = await get(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(res.body).toBe("ok");
    const verbose = await get(`${base}/healthz?verbose`);
    expect(verbose.status).toBe(200);
    expect(verbose.body).toBe("[+]ping ok\n[+]pleg ok\nhealthz check passed\n");
  });

  it("GET /healthz is 500 naming the failing check", async () => {
    const view = fakeView({
      healthChecks: () => [
        { name: "ping", ok: true, message: "" },
        { name: "pleg", ok: false, message: "pleg was last seen active 3m5s ago; threshold is 3m0s" },
      ],
    });
    const { base } = await start({ view });
    const res = await get(`${base}/healthz`);
    expect(res.status).toBe(500);
    expect(res.body).toBe(
      "[-]pleg failed: pleg was last seen active 3m5s ago; threshold is 3m0s\nhealthz check failed\n",
    );
    const verbose = await get(`${base}/healthz?verbose=1`);
    expect(verbose.status).toBe(500);
    expect(verbose.body).toContain("[+]ping ok\n[-]pleg failed: ");
  });

  it("GET /pods is a v1 PodList with status", async () => {
    const { base } = await start();
    const res = await get(`${base}/pods`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(res.body)).toEqual({ kind: "PodList", apiVersion: "v1", metadata: {}, items: [v1Pod] });
  });

  it("GET /runningpods lists the runtime's pods as minimal v1 Pods", async () => {
    const { base } = await start();
    const res = await get(`${base}/runningpods/`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      kind: "PodList",
      apiVersion: "v1",
      metadata: {},
      items: [
        {
          metadata: { name: "web-node1", namespace: "default", uid: "u1" },
          spec: { containers: [{ name: "web", image: "docker.io/library/nginx:1.27" }] },
          status: {},
        },
      ],
    });
  });

  it("GET /metrics is the registry in Prometheus text", async () => {
    const { base } = await start();
    const res = await get(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.body).toContain("kubelet_started_pods_total 2");
  });

  it("unknown paths are 404, other methods 405, HEAD is GET without a body", async () => {
    const { base } = await start();
    const missing = await get(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toBe("404 page not found\n");
    const post = await get(`${base}/pods`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
    const del = await get(`${base}/nope`, { method: "DELETE" });
    expect(del.status).toBe(405);
    const head = await get(`${base}/healthz`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
  });

  it("a view that throws is a 500 with its message, and the server keeps serving", async () => {
    let calls = 0;
    const view = fakeView({
      pods: () => {
        calls++;
        if (calls === 1) throw new Error("pod manager exploded");
        return [v1Pod];
      },
      runningPods: () => Promise.reject(new NodeletError(ErrorCode.RuntimeUnavailable, "containerd is down")),
    });
    const { base } = await start({ view });
    const first = await get(`${base}/pods`);
    expect(first.status).toBe(500);
    expect(first.body).toBe("pod manager exploded\n");
    const running = await get(`${base}/runningpods`);
    expect(running.status).toBe(500);
    expect(running.body).toContain("containerd is down");
    const second = await get(`${base}/pods`);
    expect(second.status).toBe(200);
    expect(JSON.parse(second.body).items).toHaveLength(1);
  });

  it("failing health checks that throw are a 500", async () => {
    const view = fakeView({
      healthChecks: () => {
        throw new Error("no checks today");
      },
    });
    const { base } = await start({ view });
    const res = await get(`${base}/healthz`);
    expect(res.status).toBe(500);
    expect(res.body).toBe("no checks today\n");
  });

  it("logs each request at debug", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString("utf8")));
        done();
      },
    });
    const { base } = await start({ logger: pino({ level: "debug" }, sink) });
    await get(`${base}/pods`);
    await get(`${base}/nope`);
    await new Promise((r) => setImmediate(r));
    const requests = lines.filter((l) => l.msg === "http request");
    expect(requests).toEqual([
      expect.objectContaining({ level: 20, method: "GET", url: "/pods", status: 200 }),
      expect.objectContaining({ level: 20, method: "GET", url: "/nope", status: 404 }),
    ]);
  });
});

describe("malformed requests", () => {
  it("a URL that does not parse is 400", async () => {
    const { port, base } = await start();
    const res = await raw(port, "GET http://[bad/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    expect(res).toMatch(/^HTTP\/1\.1 400 /);
    expect((await get(`${base}/healthz`)).status).toBe(200);
  });

  it("garbage is 400", async () => {
    const { port } = await start();
    const res = await raw(port, "THIS IS NOT HTTP\r\n\r\n");
    expect(res).toMatch(/^HTTP\/1\.1 400 /);
  });

  it("huge headers are 431", async () => {
    const { port, base } = await start();
    const res = await raw(
      port,
      `GET /pods HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`,
    );
    expect(res).toMatch(/^HTTP\/1\.1 431 /);
    expect((await get(`${base}/healthz`)).status).toBe(200);
  });

  it("headers that never finish time out (slowloris)", async () => {
    const { port, base } = await start({ headersTimeoutMs: 300 });
    const startedAt = Date.now();
    const res = await raw(port, "GET /pods HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n", 5_000);
    expect(res).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - startedAt).toBeLessThan(4_000);
    expect((await get(`${base}/healthz`)).status).toBe(200);
  });
});

describe("address and authentication rules", () => {
  it.each(["0.0.0.0", "::", "10.1.2.3"])("refuses plain HTTP on %s", async (address) => {
    const server = createAgentServer({ address, port: 0, view: fakeView(), logger: silent });
    const err = await server.listen().then(
      () => undefined,
      (e: unknown) => e,
    );
    await server.close();
    expect(err).toBeInstanceOf(NodeletError);
    expect((err as NodeletError).code).toBe(ErrorCode.InvalidConfig);
    expect((err as NodeletError).message).toBe(
      `refusing to serve plain HTTP on ${address}: set --tls-cert-file, --tls-private-key-file and ` +
        "--authentication-token-file, or use a loopback address",
    );
  });

  it("refuses TLS without a token file on a non-loopback address", async () => {
    const server = createAgentServer({
      address: "0.0.0.0",
      port: 0,
      tls: { certFile: "/nonexistent/cert", keyFile: "/nonexistent/key" },
      view: fakeView(),
      logger: silent,
    });
    await expect(server.listen()).rejects.toMatchObject({
      code: ErrorCode.InvalidConfig,
      message: expect.stringContaining("without authentication"),
    });
  });

  it("serves plain HTTP on localhost", async () => {
    const { port } = await start({ address: "localhost" });
    expect((await get(`http://localhost:${port}/healthz`)).status).toBe(200);
  });

  it("refuses to listen twice, and reports a port in use as InvalidConfig", async () => {
    const { server, port } = await start();
    await expect(server.listen()).rejects.toMatchObject({ code: ErrorCode.FailedPrecondition });
    const second = createAgentServer({ address: "127.0.0.1", port, view: fakeView(), logger: silent });
    await expect(second.listen()).rejects.toMatchObject({
      code: ErrorCode.InvalidConfig,
      message: expect.stringContaining(`cannot listen on 127.0.0.1:${port}`),
    });
  });

  it("close() ends kept-alive connections", async () => {
    const { server, port } = await start();
    const socket = connect(port, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await new Promise((r) => socket.once("data", r));
    const closed = new Promise((r) => socket.once("close", r));
    await server.close();
    await closed;
  });

  describe("with TLS and a token on 127.0.0.1", () => {
    let dir: string;
    let cert: Buffer;
    const token = "s3cr3t-token-value";

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "nodelet-server-test-"));
      try {
        execFileSync(
          "openssl",
          [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-days",
            "1",
            "-keyout",
            join(dir, "key.pem"),
            "-out",
            join(dir, "cert.pem"),
          ],
          { stdio: "pipe" },
        );
      } catch (err) {
        throw new Error(
          `these tests need openssl on PATH to make a self-signed certificate: ${(err as Error).message}`,
        );
      }
      cert = readFileSync(join(dir, "cert.pem"));
      writeFileSync(join(dir, "token"), `  ${token}\n`);
      writeFileSync(join(dir, "empty-token"), "\n");
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    async function startTls() {
      const { port } = await start({
        tls: { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") },
        tokenFile: join(dir, "token"),
      });
      return { port, base: `https://127.0.0.1:${port}` };
    }

    it("requires the bearer token on every endpoint but /healthz", async () => {
      const { base } = await startTls();
      for (const path of ["/pods", "/runningpods", "/metrics", "/nope"]) {
        const missing = await get(`${base}${path}`, { ca: cert });
        expect(missing.status, path).toBe(401);
        expect(missing.headers["www-authenticate"]).toMatch(/^Bearer/);
        const wrong = await get(`${base}${path}`, { ca: cert, headers: { Authorization: "Bearer nope" } });
        expect(wrong.status, path).toBe(401);
        const prefix = await get(`${base}${path}`, {
          ca: cert,
          headers: { Authorization: `Bearer ${token.slice(0, -1)}` },
        });
        expect(prefix.status, path).toBe(401);
        const basic = await get(`${base}${path}`, { ca: cert, headers: { Authorization: `Basic ${token}` } });
        expect(basic.status, path).toBe(401);
      }
      const post = await get(`${base}/pods`, { ca: cert, method: "POST" });
      expect(post.status).toBe(401);
      const health = await get(`${base}/healthz`, { ca: cert });
      expect(health.status).toBe(200);
      expect(health.body).toBe("ok");
    });

    it("serves with the right token (the file's content trimmed)", async () => {
      const { base } = await startTls();
      const headers = { Authorization: `Bearer ${token}` };
      const pods = await get(`${base}/pods`, { ca: cert, headers });
      expect(pods.status).toBe(200);
      expect(JSON.parse(pods.body).items).toEqual([v1Pod]);
      expect((await get(`${base}/metrics`, { ca: cert, headers })).body).toContain(
        "kubelet_started_pods_total",
      );
      expect((await get(`${base}/nope`, { ca: cert, headers })).status).toBe(404);
    });

    it("does not answer plain HTTP on the TLS port", async () => {
      const { port } = await startTls();
      await expect(get(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    });

    it("serves 0.0.0.0 when TLS and a token file are both set", async () => {
      const server = createAgentServer({
        address: "0.0.0.0",
        port: 0,
        tls: { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") },
        tokenFile: join(dir, "token"),
        view: fakeView(),
        logger: silent,
      });
      servers.push(server);
      const { port } = await server.listen();
      const res = await get(`https://127.0.0.1:${port}/pods`, {
        ca: cert,
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
    });

    it("an empty token file or a missing certificate is InvalidConfig", async () => {
      const empty = createAgentServer({
        address: "127.0.0.1",
        port: 0,
        tls: { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") },
        tokenFile: join(dir, "empty-token"),
        view: fakeView(),
        logger: silent,
      });
      await expect(empty.listen()).rejects.toMatchObject({
        code: ErrorCode.InvalidConfig,
        message: expect.stringContaining("is empty"),
      });
      const missing = createAgentServer({
        address: "127.0.0.1",
        port: 0,
        tls: { certFile: join(dir, "missing.pem"), keyFile: join(dir, "key.pem") },
        tokenFile: join(dir, "token"),
        view: fakeView(),
        logger: silent,
      });
      await expect(missing.listen()).rejects.toMatchObject({
        code: ErrorCode.InvalidConfig,
        message: expect.stringContaining("TLS certificate file"),
      });
    });
  });

  it("a token file on plain loopback HTTP also requires the token", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nodelet-server-token-"));
    try {
      writeFileSync(join(dir, "token"), "abcdefghijklmnop", { mode: 0o600 });
      const { base } = await start({ tokenFile: join(dir, "token") });
      expect((await get(`${base}/pods`)).status).toBe(401);
      const headers = { Authorization: "Bearer abcdefghijklmnop" };
      expect((await get(`${base}/pods`, { headers })).status).toBe(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
