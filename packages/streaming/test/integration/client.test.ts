// The clients against the real containerd's streaming server: exec (exit codes, stdout/stderr,
// stdin with EOF over SPDY, WebSocket v4's typed refusal to close stdin, 50 MiB each way with a
// checksum, TTY resize), attach, and port-forward (20 parallel connections, half-closed uploads,
// a port nothing listens on).
import { createHash, randomBytes } from "node:crypto";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  attach,
  exec,
  forwardPort,
  isStreamingError,
  portForward,
  StreamingErrorCode,
  WS_V4,
} from "../../src/index.js";
import {
  connectRuntime,
  execUrl,
  type Runtime,
  readAll,
  removePods,
  startPod,
  type TestPod,
  waitFor,
} from "./support.js";

let rt: Runtime;
let pod: TestPod;
const runId = `client-${process.pid}-${Date.now().toString(36)}`;

beforeAll(async () => {
  rt = await connectRuntime();
  // An HTTP server (busybox httpd) and a file to download, in the pod's network namespace.
  pod = await startPod(rt, runId, `client-${runId}`, [
    "sh",
    "-c",
    "mkdir -p /www && echo hello-from-httpd > /www/index.html && httpd -p 8080 -h /www && sleep 3600",
  ]);
});
afterAll(() => removePods(rt, runId));

const sh = (script: string) => ["sh", "-c", script];

describe("exec", () => {
  it.each(["spdy", "websocket"] as const)(
    "passes exit codes and separates stdout from stderr (%s)",
    async (transport) => {
      const zero = await exec(await execUrl(rt, pod.containerId, sh("echo out; echo err >&2")), {
        transport,
      });
      const [out, err, code] = await Promise.all([readAll(zero.stdout), readAll(zero.stderr), zero.exitCode]);
      expect([out.toString(), err.toString(), code]).toEqual(["out\n", "err\n", 0]);
      const three = await exec(await execUrl(rt, pod.containerId, sh("exit 3")), { transport });
      await Promise.all([readAll(three.stdout), readAll(three.stderr)]);
      expect(await three.exitCode).toBe(3);
    },
  );

  it("fails a command that does not exist with ExecFailed", async () => {
    const s = await exec(await execUrl(rt, pod.containerId, ["/no/such/binary"]));
    await Promise.all([readAll(s.stdout), readAll(s.stderr)]);
    const err = await s.exitCode.catch((e: unknown) => e);
    expect(isStreamingError(err, StreamingErrorCode.ExecFailed)).toBe(true);
    expect(String((err as Error).message)).toMatch(/no such file|not found/i);
  });

  it.each(["spdy", "websocket"] as const)(
    "settles with a failure when the container is killed during the exec (%s)",
    async (transport) => {
      const victim = await startPod(rt, runId, `killed-${transport}-${runId}`, ["sleep", "3600"]);
      const url = await execUrl(rt, victim.containerId, sh("echo started; sleep 600"));
      const s = await exec(url, { transport });
      let text = "";
      s.stdout?.on("data", (c: Buffer) => {
        text += c.toString();
      });
      s.stderr?.resume();
      await waitFor("the command to start", async () => (text.includes("started") ? true : undefined));
      await rt.service.stopContainer(victim.containerId, 0);
      // A killed command ends with a non-zero exit code or a typed failure, never as a success.
      const outcome = await s.exitCode.then(
        (code) => code,
        (err: unknown) => (isStreamingError(err) ? err.code : String(err)),
      );
      expect(outcome).not.toBe(0);
      expect(
        typeof outcome === "number" || Object.values(StreamingErrorCode).includes(outcome as never),
      ).toBe(true);
    },
  );

  it("delivers stdin, its EOF, the output after it and the exit code over SPDY", async () => {
    const url = await execUrl(rt, pod.containerId, sh("cat; echo after; exit 7"), { stdin: true });
    const s = await exec(url, { stdin: true });
    expect(s.transport).toBe("spdy");
    s.stdin?.end("data\n");
    const [out, code] = await Promise.all([readAll(s.stdout), s.exitCode, readAll(s.stderr)]);
    expect(out.toString()).toBe("data\nafter\n");
    expect(code).toBe(7);
  });

  it("says with StdinCloseUnsupported that WebSocket v4 cannot close stdin, and keeps the session", async () => {
    const url = await execUrl(rt, pod.containerId, sh("head -c 5; echo after; exit 4"), { stdin: true });
    const s = await exec(url, { stdin: true, transport: "websocket" });
    expect(s.protocol).toBe(WS_V4);
    const stdinError = new Promise<unknown>((resolve) => s.stdin?.once("error", resolve));
    s.stdin?.end("12345");
    expect(isStreamingError(await stdinError, StreamingErrorCode.StdinCloseUnsupported)).toBe(true);
    const [out, code] = await Promise.all([readAll(s.stdout), s.exitCode, readAll(s.stderr)]);
    expect(out.toString()).toBe("12345after\n");
    expect(code).toBe(4);
  });

  it("carries 50 MiB through stdout with the same checksum", async () => {
    const size = 50 * 1024 * 1024;
    const url = await execUrl(
      rt,
      pod.containerId,
      sh(`head -c ${size} /dev/urandom > /tmp/big; md5sum /tmp/big >&2; cat /tmp/big; rm /tmp/big`),
    );
    const s = await exec(url, { transport: "spdy" });
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

  it.each(["spdy", "websocket"] as const)(
    "carries 50 MiB through stdin with the same checksum (%s)",
    async (transport) => {
      const size = 50 * 1024 * 1024;
      const data = randomBytes(size);
      const expected = createHash("md5").update(data).digest("hex");
      // WebSocket v4 cannot close stdin: a length-bounded reader ends the command instead.
      const script = transport === "spdy" ? "md5sum" : `head -c ${size} | md5sum`;
      const url = await execUrl(rt, pod.containerId, sh(script), { stdin: true });
      const s = await exec(url, { stdin: true, transport });
      const out = readAll(s.stdout);
      s.stdin?.on("error", () => {});
      s.stdin?.write(data);
      if (transport === "spdy") s.stdin?.end();
      const [text, code] = await Promise.all([out, s.exitCode, readAll(s.stderr)]);
      expect(code).toBe(0);
      expect(text.toString().split(" ")[0]).toBe(expected);
    },
  );

  it.each(["spdy", "websocket"] as const)("runs a TTY and resizes it (%s)", async (transport) => {
    // Every Enter prints the size: a resize racing the process's start is sent again until seen.
    const url = await execUrl(rt, pod.containerId, sh("while read x; do stty size; done"), {
      stdin: true,
      tty: true,
    });
    const s = await exec(url, { stdin: true, tty: true, transport });
    expect(s.stderr).toBeNull();
    let text = "";
    s.stdout?.on("data", (c: Buffer) => {
      text += c.toString();
    });
    for (const [width, height] of [
      [100, 40],
      [132, 50],
    ] as const) {
      await waitFor(
        `the size ${height} ${width}`,
        async () => {
          s.resize({ width, height });
          s.stdin?.write("\r");
          return text.includes(`${height} ${width}`) ? true : undefined;
        },
        45_000,
      );
    }
    s.stdin?.write("\x04");
    expect(await s.exitCode).toBe(0);
  });
});

describe("attach", () => {
  it("attaches to a running container with stdin and reads its output", async () => {
    const target = await startPod(
      rt,
      runId,
      `attach-${runId}`,
      sh("while read line; do echo got:$line; done"),
      {
        stdin: true,
      },
    );
    const res = await rt.service.attach({
      containerId: target.containerId,
      stdin: true,
      stdout: true,
      stderr: true,
      tty: false,
    });
    const s = await attach(res.url, { stdin: true });
    let text = "";
    s.stdout?.on("data", (c: Buffer) => {
      text += c.toString();
    });
    s.stdin?.write("one\n");
    await waitFor("the echoed line", async () => (text.includes("got:one") ? true : undefined));
    s.stdin?.end();
    expect(await s.exitCode).toBe(0);
  });
});

describe("port-forward", () => {
  async function pfUrl(ports: number[] = []): Promise<string> {
    const res = await rt.service.portForward({ podSandboxId: pod.sandboxId, port: ports });
    return res.url;
  }

  function httpGet(port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port });
      const parts: Buffer[] = [];
      let halfClosed = false;
      socket.on("data", (c) => {
        parts.push(c);
        // The upload is half-closed once the answer is in: containerd ends a forwarded connection
        // about 1 s after one direction ends, which a loaded machine can outlast.
        if (!halfClosed && Buffer.concat(parts).includes("hello-from-httpd")) {
          halfClosed = true;
          socket.end();
        }
      });
      socket.on("end", () => resolve(Buffer.concat(parts).toString()));
      socket.on("error", reject);
      socket.write("GET /index.html HTTP/1.0\r\nHost: pod\r\n\r\n");
    });
  }

  it("serves 20 parallel connections with half-closed uploads over one SPDY session", async () => {
    const session = await portForward(await pfUrl());
    const local = await forwardPort(session, { localPort: 0, remotePort: 8080 });
    try {
      const bodies = await Promise.all(Array.from({ length: 20 }, () => httpGet(local.localPort)));
      for (const body of bodies) expect(body).toContain("hello-from-httpd");
    } finally {
      await local.close();
      session.close();
    }
  });

  it("fails a connection to a port nothing listens on with PortForwardFailed", async () => {
    const session = await portForward(await pfUrl());
    try {
      const conn = session.connect(7777);
      conn.stream.resume();
      const err = await conn.done.catch((e: unknown) => e);
      expect(isStreamingError(err, StreamingErrorCode.PortForwardFailed)).toBe(true);
      expect((err as Error).message).toContain("7777");
    } finally {
      session.close();
    }
  });

  it("forwards a listed port over WebSocket", async () => {
    const session = await portForward(await pfUrl([8080]), { transport: "websocket", ports: [8080] });
    const conn = session.connect(8080);
    const body = readAll(conn.stream);
    conn.stream.write("GET /index.html HTTP/1.0\r\nHost: pod\r\n\r\n");
    expect((await body).toString()).toContain("hello-from-httpd");
    await conn.done;
  });
});
