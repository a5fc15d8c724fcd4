import {
  type Clock,
  CommandExitError,
  type CommandRunner,
  type ContainerID,
  ErrorCode,
  type EventRecorder,
  type EventType,
  NodeletError,
  systemClock,
  type V1Container,
  type V1LifecycleHandler,
  type V1Pod,
} from "@nodelet/runtime-api";
import { Registry } from "prom-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createHandlerRunner,
  type HandlerRunnerOptions,
  HTTP_FALLBACKS_TOTAL,
  SLEEP_TERMINATED_TOTAL,
} from "../src/index.js";
import { closedPort, type HookServer, selfSignedCert, startHookServer } from "./support/hook-server.js";

const containerId: ContainerID = { type: "containerd", id: "abc123" };

let server: HookServer;
let tlsServer: HookServer;

beforeAll(async () => {
  server = await startHookServer();
  tlsServer = await startHookServer(selfSignedCert());
});

afterAll(async () => {
  await server.close();
  await tlsServer.close();
});

beforeEach(() => {
  server.requests.length = 0;
  tlsServer.requests.length = 0;
});

function container(overrides: Partial<V1Container> = {}): V1Container {
  return { name: "app", ports: [{ name: "http", containerPort: server.port }], ...overrides };
}

const pod: V1Pod = {
  metadata: { name: "web", namespace: "default", uid: "uid-1" },
  spec: { containers: [] },
};

interface RecordedEvent {
  object: { kind: "Pod"; namespace: string; name: string; uid: string };
  type: EventType;
  reason: string;
  message: string;
}

/** A CommandRunner that fails: these tests are not about exec. */
const noCommands: CommandRunner = {
  runInContainer: () => Promise.reject(new Error("not expected")),
};

function setup(overrides: Partial<HandlerRunnerOptions> = {}) {
  const registry = new Registry();
  const events: RecordedEvent[] = [];
  const eventRecorder: EventRecorder = {
    event: (object, type, reason, message) => events.push({ object, type, reason, message }),
  };
  const runner = createHandlerRunner({
    commandRunner: noCommands,
    podIPs: () => ["127.0.0.1"],
    registry,
    eventRecorder,
    ...overrides,
  });
  const metric = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
  return { runner, registry, events, metric };
}

async function rejection(promise: Promise<unknown>): Promise<NodeletError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NodeletError);
  return err as NodeletError;
}

describe("httpGet hooks", () => {
  it("GET the path on the pod's first IP with the action's headers, the User-Agent and Accept", async () => {
    const podIPs: Array<V1Pod> = [];
    const { runner } = setup({
      podIPs: (p) => {
        podIPs.push(p);
        return Promise.resolve(["127.0.0.1", "fd00::1"]);
      },
    });
    const handler: V1LifecycleHandler = {
      httpGet: {
        path: "/hook?x=1",
        port: server.port,
        httpHeaders: [
          { name: "x-custom", value: "one" },
          { name: "X-Custom", value: "two" },
        ],
      },
    };
    await expect(runner.run(containerId, pod, container(), handler)).resolves.toBe("");
    expect(podIPs).toEqual([pod]);
    expect(server.requests).toHaveLength(1);
    const [req] = server.requests;
    expect(req?.method).toBe("GET");
    expect(req?.url).toBe("/hook?x=1");
    expect(req?.headers["x-custom"]).toBe("one, two");
    expect(req?.headers["user-agent"]).toBe("kube-lifecycle/1.31");
    expect(req?.headers.accept).toBe("*/*");
    expect(req?.headers.host).toBe(`127.0.0.1:${server.port}`);
  });

  it("uses / when there is no path, and the host of the action without asking for pod IPs", async () => {
    const { runner } = setup({
      podIPs: () => {
        throw new Error("pod IPs must not be needed");
      },
    });
    await runner.run(containerId, pod, container(), {
      httpGet: { host: "127.0.0.1", port: server.port },
    });
    expect(server.requests.map((r) => r.url)).toEqual(["/"]);
  });

  it("lets a User-Agent header of the action win, and takes major.minor of kubeletVersion", async () => {
    const { runner } = setup({ kubeletVersion: "v1.32.4" });
    await runner.run(containerId, pod, container(), { httpGet: { path: "/a", port: server.port } });
    await runner.run(containerId, pod, container(), {
      httpGet: { path: "/b", port: server.port, httpHeaders: [{ name: "user-agent", value: "mine/1" }] },
    });
    expect(server.requests.map((r) => r.headers["user-agent"])).toEqual(["kube-lifecycle/1.32", "mine/1"]);
    expect(server.requests[1]?.rawHeaders.filter((h) => h.toLowerCase() === "user-agent")).toHaveLength(1);
  });

  it("resolves a named port from the container's ports", async () => {
    const { runner } = setup();
    await runner.run(containerId, pod, container(), { httpGet: { path: "/named", port: "http" } });
    expect(server.requests.map((r) => r.url)).toEqual(["/named"]);

    const err = await rejection(
      runner.run(containerId, pod, container(), { httpGet: { path: "/named", port: "metrics" } }),
    );
    expect(err.code).toBe(ErrorCode.InvalidArgument);
    expect(err.message).toBe(
      'HTTP lifecycle hook (/named) for Container "app" in Pod "default/web" failed - error: ' +
        'port "metrics" not found in container "app"',
    );
    expect(server.requests).toHaveLength(1);
  });

  it("sends a Host header of the action as the request's Host", async () => {
    const { runner } = setup();
    await runner.run(containerId, pod, container(), {
      httpGet: { path: "/vhost", port: server.port, httpHeaders: [{ name: "host", value: "example.test" }] },
    });
    expect(server.requests[0]?.headers.host).toBe("example.test");
  });

  it("ignores the status code: a 500 is a success", async () => {
    const { runner } = setup();
    await expect(
      runner.run(containerId, pod, container(), { httpGet: { path: "/status500", port: server.port } }),
    ).resolves.toBe("");
    expect(server.requests.map((r) => r.url)).toEqual(["/status500"]);
  });

  it("fails on a closed port with the URL and the connection error", async () => {
    const port = await closedPort();
    const { runner } = setup();
    const err = await rejection(
      runner.run(containerId, pod, container(), {
        httpGet: { path: "/x", port, httpHeaders: [{ name: "Authorization", value: "Bearer s3cr3t-token" }] },
      }),
    );
    expect(err.code).toBe(ErrorCode.Unknown);
    expect(err.message).toBe(
      `HTTP lifecycle hook (/x) for Container "app" in Pod "default/web" failed - error: ` +
        `Get "http://127.0.0.1:${port}/x": connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(err.details).toMatchObject({ errno: "ECONNREFUSED", handler: "httpGet", container: "app" });
    expect(err.message).not.toContain("s3cr3t");
  });

  it("fails when the pod has no IP", async () => {
    const { runner } = setup({ podIPs: () => [] });
    const err = await rejection(
      runner.run(containerId, pod, container(), { httpGet: { port: server.port } }),
    );
    expect(err.code).toBe(ErrorCode.FailedPrecondition);
    expect(err.message).toContain(
      'failed - error: failed to find networking container: pod "default/web" has no IP',
    );
  });

  it("reads at most 10 KiB of the body and hangs up, and the server carries on", async () => {
    const { runner } = setup();
    await runner.run(containerId, pod, container(), { httpGet: { path: "/big", port: server.port } });
    expect(await server.bodyOutcome("/big")).toEqual({ finished: false });
    await runner.run(containerId, pod, container(), {
      httpGet: { path: "/big-declared", port: server.port },
    });
    expect(await server.bodyOutcome("/big-declared")).toEqual({ finished: false });
    // A small body is read to the end; the server answers as before.
    await runner.run(containerId, pod, container(), { httpGet: { path: "/small", port: server.port } });
    expect(await server.bodyOutcome("/small")).toEqual({ finished: true });
    await runner.run(containerId, pod, container(), { httpGet: { path: "/", port: server.port } });
    expect(server.requests.map((r) => r.url)).toEqual(["/big", "/big-declared", "/small", "/"]);
  });

  it("follows redirects on the same host only, at most 10", async () => {
    const { runner } = setup();
    await runner.run(containerId, pod, container(), { httpGet: { path: "/redirect", port: server.port } });
    expect(server.requests.map((r) => r.url)).toEqual(["/redirect", "/target"]);
    expect(server.requests[1]?.headers["user-agent"]).toBe("kube-lifecycle/1.31");

    server.requests.length = 0;
    await runner.run(containerId, pod, container(), { httpGet: { path: "/elsewhere", port: server.port } });
    expect(server.requests.map((r) => r.url)).toEqual(["/elsewhere"]);

    server.requests.length = 0;
    const err = await rejection(
      runner.run(containerId, pod, container(), { httpGet: { path: "/loop", port: server.port } }),
    );
    expect(err.message).toMatch(
      /failed - error: Get "http:\/\/127\.0\.0\.1:\d+\/loop": stopped after 10 redirects$/,
    );
    expect(server.requests).toHaveLength(10);
  });

  it("speaks HTTPS without verifying the certificate", async () => {
    const { runner, events, metric } = setup();
    await runner.run(containerId, pod, container(), {
      httpGet: { path: "/secure", port: tlsServer.port, scheme: "HTTPS" },
    });
    expect(tlsServer.requests.map((r) => r.url)).toEqual(["/secure"]);
    expect(events).toEqual([]);
    expect(await metric(HTTP_FALLBACKS_TOTAL)).toBe(0);
  });

  it("retries an HTTPS hook over HTTP without Authorization when the server speaks HTTP", async () => {
    const { runner, events, metric } = setup();
    const before = server.clientErrors;
    await expect(
      runner.run(containerId, pod, container(), {
        httpGet: {
          path: "/fallback",
          port: "http",
          scheme: "HTTPS",
          httpHeaders: [
            { name: "Authorization", value: "Bearer s3cr3t-token" },
            { name: "X-Other", value: "kept" },
          ],
        },
      }),
    ).resolves.toBe("");
    expect(server.clientErrors).toBe(before + 1); // the TLS ClientHello
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.url).toBe("/fallback");
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
    expect(server.requests[0]?.headers["x-other"]).toBe("kept");
    expect(events).toEqual([
      {
        object: { kind: "Pod", namespace: "default", name: "web", uid: "uid-1" },
        type: "Warning",
        reason: "LifecycleHTTPFallback",
        message: `request to HTTPS lifecycle hook 127.0.0.1:${server.port} got HTTP response, retry with HTTP succeeded`,
      },
    ]);
    expect(await metric(HTTP_FALLBACKS_TOTAL)).toBe(1);
  });

  it("reports the HTTPS error when the HTTP retry fails too, with no event and no count", async () => {
    const { runner, events, metric } = setup();
    const err = await rejection(
      runner.run(containerId, pod, container(), {
        httpGet: { path: "/hangup", port: server.port, scheme: "HTTPS" },
      }),
    );
    expect(err.message).toMatch(
      /^HTTP lifecycle hook \(\/hangup\) .* Get "https:\/\/127\.0\.0\.1:\d+\/hangup": .*wrong version number/,
    );
    expect(server.requests.map((r) => r.url)).toEqual(["/hangup"]);
    expect(events).toEqual([]);
    expect(await metric(HTTP_FALLBACKS_TOTAL)).toBe(0);
  });

  it("stops waiting when the signal aborts, and sends nothing when it already has", async () => {
    const { runner } = setup();
    const controller = new AbortController();
    const running = runner.run(
      containerId,
      pod,
      container(),
      { httpGet: { path: "/slow", port: server.port } },
      { signal: controller.signal },
    );
    await server.waitFor("/slow");
    controller.abort();
    const err = await rejection(running);
    expect(err.code).toBe(ErrorCode.Cancelled);
    expect(err.message).toMatch(
      /^HTTP lifecycle hook \(\/slow\) for Container "app" in Pod "default\/web" failed - error: Get /,
    );

    server.requests.length = 0;
    const again = await rejection(
      runner.run(
        containerId,
        pod,
        container(),
        { httpGet: { path: "/", port: server.port } },
        {
          signal: AbortSignal.abort(),
        },
      ),
    );
    expect(again.code).toBe(ErrorCode.Cancelled);
    expect(server.requests).toEqual([]);
  });

  it("never puts header values into errors", async () => {
    const { runner } = setup();
    const err = await rejection(
      runner.run(containerId, pod, container(), {
        httpGet: { port: server.port, httpHeaders: [{ name: "X-Token", value: "s3cr3t\r\nInjected: yes" }] },
      }),
    );
    expect(err.code).toBe(ErrorCode.InvalidArgument);
    expect(err.message).toContain('invalid header field value for "X-Token"');
    expect(JSON.stringify({ m: err.message, d: err.details })).not.toContain("s3cr3t");
    expect(server.requests).toEqual([]);
  });

  it("goes through an injected fetch", async () => {
    const urls: string[] = [];
    const { runner } = setup({
      fetch: (input, init) => {
        urls.push(String(input));
        return fetch(input, init);
      },
    });
    await runner.run(containerId, pod, container(), { httpGet: { path: "/via-fetch", port: "http" } });
    await runner.run(containerId, pod, container(), { httpGet: { path: "/big", port: "http" } });
    expect(urls).toEqual([
      `http://127.0.0.1:${server.port}/via-fetch`,
      `http://127.0.0.1:${server.port}/big`,
    ]);
    expect(server.requests[0]?.headers["user-agent"]).toBe("kube-lifecycle/1.31");
    expect(await server.bodyOutcome("/big")).toEqual({ finished: false });

    // Node's fetch reports a plain-HTTP answer to TLS as ERR_SSL_WRONG_VERSION_NUMBER: same fallback.
    server.requests.length = 0;
    const f = setup({ fetch });
    await f.runner.run(containerId, pod, container(), {
      httpGet: { path: "/fetch-fallback", port: "http", scheme: "HTTPS" },
    });
    expect(server.requests.map((r) => r.url)).toEqual(["/fetch-fallback"]);
    expect(await f.metric(HTTP_FALLBACKS_TOTAL)).toBe(1);
  });
});

describe("exec hooks", () => {
  function fakeRunner(impl: CommandRunner["runInContainer"]) {
    const calls: Array<[ContainerID, readonly string[], number]> = [];
    const commandRunner: CommandRunner = {
      runInContainer: (id, cmd, timeout) => {
        calls.push([id, cmd, timeout]);
        return impl(id, cmd, timeout);
      },
    };
    return { commandRunner, calls };
  }

  it("runs the command with no timeout and resolves with its output", async () => {
    const { commandRunner, calls } = fakeRunner(() => Promise.resolve(Buffer.from("hi\n")));
    const { runner } = setup({ commandRunner });
    const cmd = ["sh", "-c", "echo hi"];
    await expect(runner.run(containerId, pod, container(), { exec: { command: cmd } })).resolves.toBe("hi\n");
    expect(calls).toEqual([[containerId, cmd, 0]]);
  });

  it("rejects a non-zero exit with the kubelet's message, output included", async () => {
    const cmd = ["sh", "-c", "echo out; echo err >&2; exit 3"];
    const { commandRunner } = fakeRunner(() =>
      Promise.reject(new CommandExitError(cmd, 3, Buffer.from("out\n"), Buffer.from('err "q"\n'))),
    );
    const { runner } = setup({ commandRunner });
    const err = await rejection(runner.run(containerId, pod, container(), { exec: { command: cmd } }));
    expect(err.message).toBe(
      'Exec lifecycle hook ([sh -c echo out; echo err >&2; exit 3]) for Container "app" in Pod "default/web" ' +
        `failed - error: command 'sh -c echo out; echo err >&2; exit 3' exited with 3: err "q", ` +
        'message: "out\\nerr \\"q\\"\\n"',
    );
    expect(err.code).toBe(ErrorCode.CommandExitError);
    expect(err.details).toMatchObject({ handler: "exec", exitCode: 3, container: "app", pod: "default/web" });
    expect(err.cause).toBeInstanceOf(CommandExitError);
  });

  it("keeps the code of other runner errors, with an empty message", async () => {
    const { commandRunner } = fakeRunner(() =>
      Promise.reject(new NodeletError(ErrorCode.RuntimeUnavailable, "connection refused")),
    );
    const { runner } = setup({ commandRunner });
    const err = await rejection(runner.run(containerId, pod, container(), { exec: { command: ["true"] } }));
    expect(err.code).toBe(ErrorCode.RuntimeUnavailable);
    expect(err.message).toBe(
      'Exec lifecycle hook ([true]) for Container "app" in Pod "default/web" failed - error: connection refused, message: ""',
    );
  });

  it("stops waiting when the signal aborts", async () => {
    const { commandRunner, calls } = fakeRunner(() => new Promise(() => {}));
    const { runner } = setup({ commandRunner });
    const controller = new AbortController();
    const running = runner.run(
      containerId,
      pod,
      container(),
      { exec: { command: ["sleep", "60"] } },
      {
        signal: controller.signal,
      },
    );
    controller.abort();
    const err = await rejection(running);
    expect(err.code).toBe(ErrorCode.Cancelled);
    expect(calls).toHaveLength(1);

    await rejection(
      runner.run(
        containerId,
        pod,
        container(),
        { exec: { command: ["true"] } },
        { signal: AbortSignal.abort() },
      ),
    );
    expect(calls).toHaveLength(1); // not started
  });
});

/** The system clock with its sleep replaced. */
function withSleep(sleep: Clock["sleep"]): Clock {
  return { ...systemClock, sleep };
}

describe("sleep hooks", () => {
  it("sleeps the seconds with the injected sleep", async () => {
    const slept: Array<[number, AbortSignal | undefined]> = [];
    const { runner, metric } = setup({
      clock: withSleep((ms, signal) => {
        slept.push([ms, signal]);
        return Promise.resolve();
      }),
    });
    const signal = new AbortController().signal;
    await expect(
      runner.run(containerId, pod, container(), { sleep: { seconds: 5 } }, { signal }),
    ).resolves.toBe("");
    expect(slept).toEqual([[5000, signal]]);
    expect(await metric(SLEEP_TERMINATED_TOTAL)).toBe(0);
  });

  it("sleeps with real timers by default", async () => {
    const { runner } = setup();
    await expect(runner.run(containerId, pod, container(), { sleep: { seconds: 0 } })).resolves.toBe("");
  });

  it("fails and counts when the container is terminated first", async () => {
    for (const sleep of [
      // one that honours the signal, one that ignores it
      (_ms: number, signal?: AbortSignal) =>
        new Promise<void>((_resolve, reject) =>
          signal?.addEventListener("abort", () => reject(signal.reason)),
        ),
      () => new Promise<void>(() => {}),
    ]) {
      const { runner, metric } = setup({ clock: withSleep(sleep) });
      const controller = new AbortController();
      const running = runner.run(
        containerId,
        pod,
        container(),
        { sleep: { seconds: 30 } },
        {
          signal: controller.signal,
        },
      );
      controller.abort();
      const err = await rejection(running);
      expect(err.code).toBe(ErrorCode.Cancelled);
      expect(err.message).toBe(
        'Sleep lifecycle hook (30) for Container "app" in Pod "default/web" failed - error: ' +
          "container terminated before sleep hook finished",
      );
      expect(await metric(SLEEP_TERMINATED_TOTAL)).toBe(1);
    }
  });

  it("fails at once, without sleeping, when the signal has already aborted", async () => {
    let called = false;
    const { runner, metric } = setup({
      clock: withSleep(() => {
        called = true;
        return Promise.resolve();
      }),
    });
    const err = await rejection(
      runner.run(containerId, pod, container(), { sleep: { seconds: 1 } }, { signal: AbortSignal.abort() }),
    );
    expect(err.message).toContain("container terminated before sleep hook finished");
    expect(called).toBe(false);
    expect(await metric(SLEEP_TERMINATED_TOTAL)).toBe(1);
  });
});

describe("invalid handlers", () => {
  const cases: Array<[string, V1LifecycleHandler, string]> = [
    ["none", {}, "none of exec, httpGet or sleep is set"],
    [
      "two actions",
      { exec: { command: ["true"] }, sleep: { seconds: 1 } },
      "only one of exec, httpGet or sleep may be set, got exec, sleep",
    ],
    [
      "tcpSocket",
      { tcpSocket: { port: 80 } },
      "tcpSocket is not supported for lifecycle hooks; use exec, httpGet or sleep",
    ],
    ["an empty command", { exec: { command: [] } }, "exec.command must be a non-empty list of strings"],
    ["no command", { exec: {} }, "exec.command must be a non-empty list of strings"],
    ["negative seconds", { sleep: { seconds: -1 } }, "sleep.seconds must be a non-negative integer, got -1"],
  ];
  for (const [name, handler, reason] of cases) {
    it(`rejects ${name}`, async () => {
      let ran = false;
      const { runner } = setup({
        commandRunner: {
          runInContainer: () => {
            ran = true;
            return Promise.resolve(Buffer.alloc(0));
          },
        },
        clock: withSleep(() => {
          ran = true;
          return Promise.resolve();
        }),
      });
      const err = await rejection(runner.run(containerId, pod, container(), handler));
      expect(err.code).toBe(ErrorCode.InvalidArgument);
      expect(err.message).toBe(`Cannot run handler: invalid handler: ${reason}`);
      expect(ran).toBe(false);
    });
  }
});

describe("metrics", () => {
  it("registers once per registry", async () => {
    const registry = new Registry();
    const options = { commandRunner: noCommands, podIPs: () => [], registry };
    createHandlerRunner(options);
    createHandlerRunner(options);
    expect(registry.getSingleMetric(HTTP_FALLBACKS_TOTAL)).toBeDefined();
    expect(registry.getSingleMetric(SLEEP_TERMINATED_TOTAL)).toBeDefined();
    expect(registry.getMetricsAsArray()).toHaveLength(2);
  });

  it("rejects a kubeletVersion that is not major.minor", () => {
    expect(() =>
      createHandlerRunner({ commandRunner: noCommands, podIPs: () => [], kubeletVersion: "latest" }),
    ).toThrow(/invalid kubeletVersion "latest"/);
  });
});
