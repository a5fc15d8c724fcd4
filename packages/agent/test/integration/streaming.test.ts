// The agent's streaming endpoints against containerd: /exec over WebSocket v5 (stdin EOF and the
// exit code end to end, although containerd's own WebSocket cannot close stdin) and SPDY, exit
// codes and a command that does not exist, a TTY with resize, attach, port-forward (SPDY with 20
// parallel connections, WebSocket with ?port=), plain HTTP errors before any upgrade, and a client
// that drops mid-stream.
import { connect } from "node:net";
import { PassThrough } from "node:stream";
import { Exec, KubeConfig } from "@kubernetes/client-node";
// Not re-exported by the package index; the class its Exec uses (the package has no exports map).
import { WebSocketHandler } from "@kubernetes/client-node/dist/web-socket-handler.js";
import {
  attach,
  exec,
  forwardPort,
  isStreamingError,
  portForward,
  StreamingErrorCode,
  WS_V5,
} from "@nodelet/streaming";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runClientVerb } from "../../src/client/index.js";
import {
  allRunning,
  closeAgentSuite,
  containerStatus,
  type Dirs,
  NODE_NAME,
  openAgentSuite,
  podManifest,
  RUN_UNTIL_TERM,
  type RunningAgent,
  type RuntimeHarness,
  runtimeId,
  waitFor,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: RunningAgent;
let ns = "default";

beforeAll(async () => {
  ({ h, dirs, agent } = await openAgentSuite("streaming"));
  await writeManifest(
    h.env,
    dirs.manifests,
    "shell.yaml",
    podManifest("shell", [{ name: "main", command: RUN_UNTIL_TERM }]),
  );
  await writeManifest(
    h.env,
    dirs.manifests,
    "web.yaml",
    podManifest("web", [
      {
        name: "httpd",
        command: [
          "sh",
          "-c",
          "mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www",
        ],
      },
      { name: "sidecar", command: RUN_UNTIL_TERM, stdin: true },
    ]),
  );
  const shell = await agent.api.waitForPod("shell", "running", allRunning, 90_000);
  ns = shell.metadata.namespace ?? "default";
  await agent.api.waitForPod("web", "running", allRunning, 90_000);
}, 180_000);

afterAll(async () => {
  await closeAgentSuite(agent, h);
});

function execUrl(pod: string, container: string, command: string[], params: Record<string, string>): URL {
  const url = new URL(`${agent.api.baseUrl}/exec/${ns}/${pod}-${NODE_NAME}/${container}`);
  for (const c of command) url.searchParams.append("command", c);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url;
}

async function readAll(stream: NodeJS.ReadableStream | null): Promise<string> {
  if (!stream) return "";
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts).toString();
}

describe("exec through the agent", () => {
  it.each(["websocket", "spdy"] as const)(
    "delivers stdin, its EOF, the output after it and the exit code (%s)",
    async (transport) => {
      const url = execUrl("shell", "main", ["sh", "-c", "cat; echo after; exit 7"], {
        input: "1",
        output: "1",
        error: "1",
      });
      const session = await exec(url, { stdin: true, transport });
      if (transport === "websocket") expect(session.protocol).toBe(WS_V5);
      session.stdin?.end("data\n");
      const [out, , code] = await Promise.all([
        readAll(session.stdout),
        readAll(session.stderr),
        session.exitCode,
      ]);
      expect(out).toBe("data\nafter\n");
      expect(code).toBe(7);
    },
  );

  it("separates stdout from stderr, passes exit 0, and fails a command that does not exist with ExecFailed", async () => {
    const ok = await exec(
      execUrl("shell", "main", ["sh", "-c", "echo out; echo err >&2"], { output: "1", error: "1" }),
    );
    expect(await Promise.all([readAll(ok.stdout), readAll(ok.stderr), ok.exitCode])).toEqual([
      "out\n",
      "err\n",
      0,
    ]);
    const missing = await exec(execUrl("shell", "main", ["/no/such/binary"], { output: "1", error: "1" }));
    await Promise.all([readAll(missing.stdout), readAll(missing.stderr)]);
    const err = await missing.exitCode.catch((e: unknown) => e);
    expect(isStreamingError(err, StreamingErrorCode.ExecFailed)).toBe(true);
  });

  it("runs a TTY and resizes it", async () => {
    // Every Enter prints the terminal's size: a resize that races the process's start is simply
    // sent again, and the test waits for the size it asked for.
    const url = execUrl("shell", "main", ["sh", "-c", "while read x; do stty size; done"], {
      input: "1",
      output: "1",
      tty: "1",
      error: "1",
    });
    const session = await exec(url, { stdin: true, tty: true, transport: "websocket" });
    let text = "";
    session.stdout?.on("data", (c: Buffer) => {
      text += c.toString();
    });
    for (const [width, height] of [
      [90, 30],
      [120, 44],
    ] as const) {
      await waitFor(
        `the size ${height} ${width}`,
        () => {
          session.resize({ width, height });
          session.stdin?.write("\r");
          return text.includes(`${height} ${width}`);
        },
        { timeoutMs: 45_000, intervalMs: 500 },
      );
    }
    // ^D at the start of a line: end of input for the loop, so the shell exits 0.
    session.stdin?.write("\x04");
    expect(await session.exitCode).toBe(0);
  });

  it("answers plain HTTP errors before any upgrade: 404 unknown pod or container, 400 naming what is wrong", async () => {
    const fail = (url: URL) =>
      exec(url).then(
        () => undefined,
        (e: unknown) => e as Error & { details?: { status?: number } },
      );
    const unknownPod = await fail(execUrl("nope", "main", ["true"], { output: "1" }));
    expect(unknownPod?.details?.status).toBe(404);
    expect(unknownPod?.message).toContain("nope");
    const unknownContainer = await fail(execUrl("shell", "nope", ["true"], { output: "1" }));
    expect(unknownContainer?.details?.status).toBe(404);
    const noCommand = await fail(execUrl("shell", "main", [], { output: "1" }));
    expect(noCommand?.details?.status).toBe(400);
    expect(noCommand?.message).toContain("command");
    const nothing = await fetch(execUrl("shell", "main", ["true"], {}));
    expect(nothing.status).toBe(400);
    expect(await nothing.text()).toContain("stdin, stdout, stderr");
  });

  it("ends the remote command's stdin when the client drops mid-stream", async () => {
    const marker = `dropped-${Date.now()}`;
    const url = execUrl(
      "shell",
      "main",
      ["sh", "-c", `cat > /tmp/${marker}; echo done > /tmp/${marker}.done`],
      {
        input: "1",
        output: "1",
      },
    );
    const session = await exec(url, { stdin: true, transport: "websocket" });
    session.stdin?.write("partial");
    session.stdout?.resume();
    await new Promise((r) => setTimeout(r, 200));
    session.close();
    expect(await session.exitCode.catch((e: unknown) => (e as { code?: string }).code)).toBe(
      StreamingErrorCode.Aborted,
    );
    const pod = await agent.api.pod("shell");
    const id = runtimeId(containerStatus(pod, "main")?.containerID);
    await waitFor(
      "the command to see EOF",
      async () =>
        (await h.runtime.execSync(id, ["cat", `/tmp/${marker}.done`], 5)).stdout.toString() === "done\n",
      { timeoutMs: 60_000 },
    );
  });
});

describe("a third-party client", () => {
  it("@kubernetes/client-node's WebSocket handler runs a command with stdin through /exec (v5 close of stdin)", async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "agent", server: agent.api.baseUrl, skipTLSVerify: true }],
      users: [{ name: "user" }],
      contexts: [{ name: "ctx", cluster: "agent", user: "user" }],
      currentContext: "ctx",
    });
    const handler = new WebSocketHandler(kc);
    // Its Exec speaks the API server's path; the kubelet's (the agent's) is /exec/{ns}/{pod}/{container}.
    const kubeletPaths = {
      connect(path: string, text: never, binary: never) {
        const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec\?(.*)$/.exec(path);
        if (!m) throw new Error(`unexpected path ${path}`);
        const query = new URLSearchParams(m[3]);
        return handler.connect(`/exec/${m[1]}/${m[2]}/${query.get("container")}?${m[3]}`, text, binary);
      },
    };
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out = readAll(stdout);
    const err = readAll(stderr);
    const stdin = new PassThrough();
    type Status = { status?: string; details?: { causes?: { reason?: string; message?: string }[] } };
    let resolveStatus!: (s: Status) => void;
    const status = new Promise<Status>((resolve) => {
      resolveStatus = resolve;
    });
    const ws = await new Exec(kc, kubeletPaths as never).exec(
      ns,
      `shell-${NODE_NAME}`,
      "main",
      ["sh", "-c", "cat; echo after; echo err >&2; exit 5"],
      stdout,
      stderr,
      stdin,
      false,
      (s) => resolveStatus(s as Status),
    );
    expect(ws.protocol).toBe("v5.channel.k8s.io");
    stdin.end("from-client-node\n");
    const final = await status;
    expect(await out).toBe("from-client-node\nafter\n");
    expect(await err).toBe("err\n");
    expect(final.status).toBe("Failure");
    expect(final.details?.causes?.find((c) => c.reason === "ExitCode")?.message).toBe("5");
  });
});

describe("the CLI verbs", () => {
  async function run(
    argv: string[],
    input = "",
  ): Promise<{ code: number | undefined; out: string; err: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out = readAll(stdout);
    const err = readAll(stderr);
    const stdin = new PassThrough();
    stdin.end(input);
    const code = await runClientVerb(argv, { stdout, stderr, stdin, signal: new AbortController().signal });
    stdout.end();
    stderr.end();
    return { code, out: await out, err: await err };
  }

  it("nodelet exec passes the command's exit code through, with -i stdin and its EOF", async () => {
    const server = ["--server", agent.api.baseUrl, "-n", ns];
    const plain = await run([
      "exec",
      ...server,
      `shell-${NODE_NAME}`,
      "--",
      "sh",
      "-c",
      "echo hi; echo oops >&2; exit 5",
    ]);
    expect(plain).toEqual({ code: 5, out: "hi\n", err: "oops\n" });
    const piped = await run(
      ["exec", ...server, "-i", `shell-${NODE_NAME}`, "--", "sh", "-c", "cat; exit 3"],
      "typed\n",
    );
    expect(piped).toMatchObject({ code: 3, out: "typed\n" });
  });

  it("nodelet exec and port-forward refuse bad input with exit code 1 or 2, naming the problem", async () => {
    const server = ["--server", agent.api.baseUrl, "-n", ns];
    const unknown = await run(["exec", ...server, "-c", "main", "nope", "--", "true"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("nope");
    const badPort = await run(["port-forward", ...server, `web-${NODE_NAME}`, "80:99999"]);
    expect(badPort.code).toBe(2);
    expect(badPort.err).toContain("80:99999");
  });
});

describe("attach through the agent", () => {
  it("attaches to a running container with stdin", async () => {
    const url = new URL(
      `${agent.api.baseUrl}/attach/${ns}/web-${NODE_NAME}/sidecar?input=1&output=1&error=1`,
    );
    const session = await attach(url, { stdin: true, transport: "spdy" });
    session.stdout?.resume();
    session.stdin?.write("ignored\n");
    session.stdin?.end();
    expect(await session.exitCode).toBe(0);
  });
});

describe("port-forward through the agent", () => {
  function httpGet(port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port });
      const parts: Buffer[] = [];
      let halfClosed = false;
      socket.on("data", (c) => {
        parts.push(c);
        // The upload is half-closed once the answer is in: containerd ends a forwarded connection
        // about 1 s after one direction ends, which a loaded machine can outlast.
        if (!halfClosed && Buffer.concat(parts).includes("hello-from-web")) {
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
    const session = await portForward(`${agent.api.baseUrl}/portForward/${ns}/web-${NODE_NAME}`);
    const local = await forwardPort(session, { localPort: 0, remotePort: 8080 });
    try {
      const bodies = await Promise.all(Array.from({ length: 20 }, () => httpGet(local.localPort)));
      for (const body of bodies) expect(body).toContain("hello-from-web");
    } finally {
      await local.close();
      session.close();
    }
  });

  it("fails a port nothing listens on with PortForwardFailed", async () => {
    const session = await portForward(`${agent.api.baseUrl}/portForward/${ns}/web-${NODE_NAME}`);
    try {
      const conn = session.connect(7777);
      conn.stream.resume();
      const err = await conn.done.catch((e: unknown) => e);
      expect(isStreamingError(err, StreamingErrorCode.PortForwardFailed)).toBe(true);
    } finally {
      session.close();
    }
  });

  it("forwards a ?port= over WebSocket, the port first on each channel", async () => {
    const url = `${agent.api.baseUrl}/portForward/${ns}/web-${NODE_NAME}?port=8080`;
    const session = await portForward(url, { transport: "websocket", ports: [8080] });
    const conn = session.connect(8080);
    const body = readAll(conn.stream);
    conn.stream.write("GET /index.html HTTP/1.0\r\nHost: pod\r\n\r\n");
    expect(await body).toContain("hello-from-web");
    await conn.done;
    const noPort = await portForward(`${agent.api.baseUrl}/portForward/${ns}/web-${NODE_NAME}`, {
      transport: "websocket",
    }).catch((e: unknown) => e as Error & { details?: { status?: number } });
    expect((noPort as { details?: { status?: number } }).details?.status).toBe(400);
  });
});
