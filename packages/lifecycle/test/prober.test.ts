import {
  CommandExitError,
  type CommandRunner,
  type ContainerID,
  createManualClock,
  ErrorCode,
  type EventType,
  NodeletError,
  type V1Container,
  type V1Pod,
  type V1Probe,
} from "@nodelet/runtime-api";
import { Registry } from "prom-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createProber,
  MAX_GRPC_HEALTH_RESPONSE_BYTES,
  MAX_PROBE_OUTPUT_BYTES,
  PROBE_DURATION_SECONDS,
  PROBE_TOTAL,
  type ProberOptions,
  type ProbeType,
} from "../src/index.js";
import { closedPort, type HookServer, startHookServer } from "./support/hook-server.js";
import {
  type HealthServer,
  startHealthServer,
  startTCPServer,
  type TCPServer,
} from "./support/probe-servers.js";

const containerId: ContainerID = { type: "containerd", id: "c0ffee" };
const status = { containerId };

let http: HookServer;
let tcp: TCPServer;
let grpc: HealthServer;
let closed: number;

beforeAll(async () => {
  [http, tcp, grpc, closed] = await Promise.all([
    startHookServer(),
    startTCPServer(),
    startHealthServer(),
    closedPort(),
  ]);
});

afterAll(async () => {
  await Promise.all([http.close(), tcp.close(), grpc.close()]);
});

beforeEach(() => {
  http.requests.length = 0;
  grpc.calls.length = 0;
});

const pod: V1Pod = {
  metadata: { name: "web", namespace: "default", uid: "uid-1" },
  spec: { containers: [] },
};

function withProbe(
  probe: V1Probe,
  type: ProbeType = "liveness",
  extra: Partial<V1Container> = {},
): V1Container {
  const key = `${type}Probe` as const;
  return {
    name: "app",
    ports: [
      { name: "http", containerPort: http.port },
      { name: "tcp", containerPort: tcp.port },
    ],
    [key]: probe,
    ...extra,
  };
}

interface RecordedEvent {
  fieldPath: string | undefined;
  type: EventType;
  reason: string;
  message: string;
}

interface Call {
  cmd: readonly string[];
  timeoutSeconds: number;
}

/** A CommandRunner that answers from `answer`, and notes each call. */
function fakeRunner(answer: (cmd: readonly string[], call: number) => Promise<Buffer> | Buffer) {
  const calls: Call[] = [];
  const runner: CommandRunner = {
    async runInContainer(_id, cmd, timeoutSeconds) {
      calls.push({ cmd, timeoutSeconds });
      return answer(cmd, calls.length);
    },
  };
  return { runner, calls };
}

function setup(overrides: Partial<ProberOptions> = {}) {
  const registry = new Registry();
  const events: RecordedEvent[] = [];
  const podIPCalls: string[] = [];
  const prober = createProber({
    commandRunner: fakeRunner(() => Buffer.from("ok")).runner,
    podIPs: (p) => {
      podIPCalls.push(p.metadata.name ?? "");
      return ["127.0.0.1"];
    },
    registry,
    eventRecorder: {
      event: (object, type, reason, message) =>
        events.push({ fieldPath: object.fieldPath, type, reason, message }),
    },
    ...overrides,
  });
  return { prober, registry, events, podIPCalls };
}

describe("exec probes", () => {
  it("succeeds with the command's output, run with timeoutSeconds (default 1)", async () => {
    const { runner, calls } = fakeRunner(() => Buffer.from("healthy\n"));
    const { prober, events } = setup({ commandRunner: runner });
    const outcome = await prober.probe(
      "liveness",
      pod,
      status,
      withProbe({ exec: { command: ["cat", "/ok"] } }),
    );
    expect(outcome).toEqual({ result: "Success", output: "healthy\n" });
    expect(calls).toEqual([{ cmd: ["cat", "/ok"], timeoutSeconds: 1 }]);
    await prober.probe(
      "readiness",
      pod,
      status,
      withProbe({ exec: { command: ["x"] }, timeoutSeconds: 7 }, "readiness"),
    );
    expect(calls[1]?.timeoutSeconds).toBe(7);
    expect(events).toEqual([]);
  });

  it("expands $(VAR) from static env only; valueFrom variables become empty", async () => {
    const { runner, calls } = fakeRunner(() => Buffer.from(""));
    const { prober } = setup({ commandRunner: runner });
    const container = withProbe(
      { exec: { command: ["check", "$(PORT)", "$(POD)", "$(NOPE)", "$$(PORT)"] } },
      "liveness",
      {
        env: [
          { name: "PORT", value: "8080" },
          { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        ],
      },
    );
    await prober.probe("liveness", pod, status, container);
    expect(calls[0]?.cmd).toEqual(["check", "8080", "", "$(NOPE)", "$(PORT)"]);
  });

  it("fails on a non-zero exit with stdout and stderr, and records Unhealthy", async () => {
    const { runner } = fakeRunner((cmd) => {
      throw new CommandExitError(cmd, 1, Buffer.from("out\n"), Buffer.from("err\n"));
    });
    const { prober, events } = setup({ commandRunner: runner });
    const outcome = await prober.probe("liveness", pod, status, withProbe({ exec: { command: ["false"] } }));
    expect(outcome).toEqual({ result: "Failure", output: "out\nerr\n" });
    expect(events).toEqual([
      {
        fieldPath: "spec.containers{app}",
        type: "Warning",
        reason: "Unhealthy",
        message: "Liveness probe failed: out\nerr\n",
      },
    ]);
  });

  it("keeps at most 10 KiB of output", async () => {
    const { runner } = fakeRunner(() => Buffer.alloc(50 * 1024, "a"));
    const { prober } = setup({ commandRunner: runner });
    const outcome = await prober.probe(
      "startup",
      pod,
      status,
      withProbe({ exec: { command: ["yes"] } }, "startup"),
    );
    expect(outcome.output.length).toBe(MAX_PROBE_OUTPUT_BYTES);
  });

  it("fails a timed-out command with the runner's message, without retrying", async () => {
    const { runner, calls } = fakeRunner((cmd) => {
      throw new NodeletError(ErrorCode.CommandTimedOut, `command '${cmd.join(" ")}' timed out after 1s`);
    });
    const { prober, events } = setup({ commandRunner: runner });
    const outcome = await prober.probe(
      "readiness",
      pod,
      status,
      withProbe({ exec: { command: ["sleep", "5"] } }, "readiness"),
    );
    expect(outcome).toEqual({ result: "Failure", output: "command 'sleep 5' timed out after 1s" });
    expect(calls).toHaveLength(1);
    expect(events.map((e) => e.message)).toEqual([
      "Readiness probe failed: command 'sleep 5' timed out after 1s",
    ]);
  });

  it("retries an error 3 times, then fails with the error and an 'errored' event", async () => {
    const { runner, calls } = fakeRunner(() => {
      throw new NodeletError(ErrorCode.NotFound, "container not found");
    });
    const { prober, events } = setup({ commandRunner: runner });
    const outcome = await prober.probe("liveness", pod, status, withProbe({ exec: { command: ["true"] } }));
    expect(calls).toHaveLength(3);
    expect(outcome.result).toBe("Failure");
    expect(outcome.error).toBeInstanceOf(NodeletError);
    expect(outcome.error?.code).toBe(ErrorCode.NotFound);
    expect(events.map((e) => `${e.reason} ${e.message}`)).toEqual([
      "Unhealthy Liveness probe errored and resulted in unknown state: container not found",
    ]);
  });

  it("stops retrying once an attempt runs", async () => {
    const { runner, calls } = fakeRunner((_cmd, call) => {
      if (call < 2) throw new Error("transient");
      return Buffer.from("fine");
    });
    const { prober, events } = setup({ commandRunner: runner });
    const outcome = await prober.probe("liveness", pod, status, withProbe({ exec: { command: ["true"] } }));
    expect(outcome).toEqual({ result: "Success", output: "fine" });
    expect(calls).toHaveLength(2);
    expect(events).toEqual([]);
  });

  it("names an init container (sidecar) in the event's field path", async () => {
    const { runner } = fakeRunner((cmd) => {
      throw new CommandExitError(cmd, 2, Buffer.from(""), Buffer.from("bad"));
    });
    const { prober, events } = setup({ commandRunner: runner });
    const sidecar = withProbe({ exec: { command: ["x"] } }, "startup", {
      name: "proxy",
      restartPolicy: "Always",
    });
    const withSidecar: V1Pod = { ...pod, spec: { containers: [], initContainers: [sidecar] } };
    await prober.probe("startup", withSidecar, status, sidecar);
    expect(events[0]?.fieldPath).toBe("spec.initContainers{proxy}");
    expect(events[0]?.message).toBe("Startup probe failed: bad");
  });
});

describe("httpGet probes", () => {
  it("succeeds on 200 with the body, sends kube-probe/<maj>.<min> and Accept */* to the pod IP", async () => {
    const { prober, podIPCalls } = setup({ kubeletVersion: "v1.30.4" });
    const outcome = await prober.probe(
      "readiness",
      pod,
      status,
      withProbe({ httpGet: { path: "/", port: "http" } }, "readiness"),
    );
    expect(outcome).toEqual({ result: "Success", output: "ok" });
    expect(podIPCalls).toEqual(["web"]);
    const seen = http.requests[0];
    expect(seen?.headers["user-agent"]).toBe("kube-probe/1.30");
    expect(seen?.headers.accept).toBe("*/*");
    expect(seen?.headers.connection).toBe("close");
  });

  it("lowercases the scheme, honours Host and the user's headers, deletes an empty Accept", async () => {
    const { prober, podIPCalls } = setup();
    const probe: V1Probe = {
      httpGet: {
        scheme: "HTTP",
        host: "127.0.0.1",
        port: http.port,
        path: "/custom",
        httpHeaders: [
          { name: "host", value: "example.test" },
          { name: "user-agent", value: "mine/1" },
          { name: "Accept", value: "" },
          { name: "x-token", value: "t" },
        ],
      },
    };
    expect(await prober.probe("liveness", pod, status, withProbe(probe))).toEqual({
      result: "Success",
      output: "ok",
    });
    expect(podIPCalls).toEqual([]); // a host is set: the pod IP is not needed
    const seen = http.requests[0];
    expect(seen?.headers.host).toBe("example.test");
    expect(seen?.headers["user-agent"]).toBe("mine/1");
    expect(seen?.headers.accept).toBeUndefined();
    expect(seen?.headers["x-token"]).toBe("t");
  });

  it("follows a redirect on the same host", async () => {
    const { prober } = setup();
    const outcome = await prober.probe(
      "liveness",
      pod,
      status,
      withProbe({ httpGet: { path: "/redirect", port: "http" } }),
    );
    expect(outcome).toEqual({ result: "Success", output: "ok" });
    expect(http.requests.map((r) => r.url)).toEqual(["/redirect", "/target"]);
  });

  it("does not follow a redirect to another host: a Success with a warning and a ProbeWarning event", async () => {
    const { prober, events } = setup();
    const outcome = await prober.probe(
      "liveness",
      pod,
      status,
      withProbe({ httpGet: { path: "/elsewhere", port: "http" } }),
    );
    expect(outcome).toEqual({
      result: "Success",
      output: "Probe terminated redirects, Response body: gone elsewhere",
    });
    expect(http.requests.map((r) => r.url)).toEqual(["/elsewhere"]);
    expect(events.map((e) => `${e.type} ${e.reason} ${e.message}`)).toEqual([
      "Warning ProbeWarning Liveness probe warning: Probe terminated redirects, Response body: gone elsewhere",
    ]);
  });

  it("fails after 10 redirects", async () => {
    const { prober } = setup();
    const outcome = await prober.probe(
      "liveness",
      pod,
      status,
      // 11 requests within the probe's timeout: the default 1 s ran out on a loaded CI machine.
      withProbe({ httpGet: { path: "/loop", port: "http" }, timeoutSeconds: 10 }),
    );
    expect(outcome.result).toBe("Failure");
    expect(outcome.output).toBe(`Get "http://127.0.0.1:${http.port}/loop": stopped after 10 redirects`);
  });

  it.each([
    ["/status404", 404],
    ["/status500", 500],
  ])("fails on %s without the body in the output", async (path, code) => {
    const { prober, events } = setup();
    const outcome = await prober.probe(
      "readiness",
      pod,
      status,
      withProbe({ httpGet: { path, port: "http" } }, "readiness"),
    );
    expect(outcome).toEqual({ result: "Failure", output: `HTTP probe failed with statuscode: ${code}` });
    expect(events.map((e) => e.message)).toEqual([
      `Readiness probe failed: HTTP probe failed with statuscode: ${code}`,
    ]);
  });

  it("fails after timeoutSeconds when the server does not answer", async () => {
    const { prober } = setup();
    const started = Date.now();
    const outcome = await prober.probe(
      "liveness",
      pod,
      status,
      withProbe({ httpGet: { path: "/slow", port: "http" }, timeoutSeconds: 1 }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(outcome).toEqual({
      result: "Failure",
      output: `Get "http://127.0.0.1:${http.port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
  });

  it("fails when nothing listens, with no retry (a failure, not an error)", async () => {
    const { prober, events } = setup();
    const outcome = await prober.probe(
      "liveness",
      pod,
      status,
      withProbe({ httpGet: { path: "/", port: closed } }),
    );
    expect(outcome).toEqual({
      result: "Failure",
      output: `Get "http://127.0.0.1:${closed}/": connect ECONNREFUSED 127.0.0.1:${closed}`,
    });
    expect(outcome.error).toBeUndefined();
    expect(events).toHaveLength(1);
  });

  it("reads at most 10 KiB of the body", async () => {
    const { prober } = setup();
    const outcome = await prober.probe(
      "liveness",
      pod,
      status,
      withProbe({ httpGet: { path: "/big", port: "http" } }),
    );
    expect(outcome.result).toBe("Success");
    expect(outcome.output).toBe("x".repeat(MAX_PROBE_OUTPUT_BYTES));
    expect(await http.bodyOutcome("/big")).toEqual({ finished: false });
  });

  it("errors (retried 3 times) on an unknown named port or a pod without an IP", async () => {
    const { prober, events } = setup();
    const outcome = await prober.probe(
      "liveness",
      pod,
      status,
      withProbe({ httpGet: { path: "/", port: "admin" } }),
    );
    expect(outcome.result).toBe("Failure");
    expect(outcome.error?.code).toBe(ErrorCode.InvalidArgument);
    expect(events.map((e) => e.message)).toEqual([
      'Liveness probe errored and resulted in unknown state: port "admin" not found in container "app"',
    ]);
    let asked = 0;
    const noIP = setup({
      podIPs: () => {
        asked++;
        return [];
      },
    });
    const none = await noIP.prober.probe(
      "readiness",
      pod,
      status,
      withProbe({ httpGet: { port: "http" } }, "readiness"),
    );
    expect(asked).toBe(3);
    expect(none.error?.code).toBe(ErrorCode.FailedPrecondition);
    expect(http.requests).toEqual([]);
  });
});

describe("tcpSocket probes", () => {
  it("succeeds when it connects to the pod IP and a named port", async () => {
    const { prober } = setup();
    const before = tcp.accepted;
    const outcome = await prober.probe("liveness", pod, status, withProbe({ tcpSocket: { port: "tcp" } }));
    expect(outcome).toEqual({ result: "Success", output: "" });
    await expect.poll(() => tcp.accepted).toBe(before + 1);
  });

  it("fails on a closed port with Go's dial message", async () => {
    const { prober, events } = setup();
    const outcome = await prober.probe(
      "readiness",
      pod,
      status,
      withProbe({ tcpSocket: { host: "127.0.0.1", port: closed } }, "readiness"),
    );
    expect(outcome).toEqual({
      result: "Failure",
      output: `dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    });
    expect(events.map((e) => e.message)).toEqual([
      `Readiness probe failed: dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    ]);
  });
});

describe("grpc probes", () => {
  const grpcProbe = (service?: string, timeoutSeconds?: number): V1Container =>
    withProbe({
      grpc: service === undefined ? { port: grpc.port } : { port: grpc.port, service },
      ...(timeoutSeconds ? { timeoutSeconds } : {}),
    });

  it("succeeds on SERVING, calling Health/Check over h2c with the gRPC headers", async () => {
    const { prober } = setup();
    expect(await prober.probe("liveness", pod, status, grpcProbe())).toEqual({
      result: "Success",
      output: "service is healthy",
    });
    expect(await prober.probe("liveness", pod, status, grpcProbe("web"))).toEqual({
      result: "Success",
      output: "service is healthy",
    });
    expect(grpc.calls.map((c) => c.service)).toEqual(["", "web"]);
    const headers = grpc.calls[0]?.headers ?? {};
    expect(headers[":method"]).toBe("POST");
    expect(headers[":path"]).toBe("/grpc.health.v1.Health/Check");
    expect(headers["content-type"]).toBe("application/grpc");
    expect(headers.te).toBe("trailers");
    expect(headers["user-agent"]).toBe("kube-probe/1.31");
  });

  it("fails on NOT_SERVING and on a status it does not know", async () => {
    const { prober, events } = setup();
    expect(await prober.probe("liveness", pod, status, grpcProbe("db"))).toEqual({
      result: "Failure",
      output: 'service unhealthy (responded with "NOT_SERVING")',
    });
    expect((await prober.probe("liveness", pod, status, grpcProbe("odd"))).output).toBe(
      'service unhealthy (responded with "7")',
    );
    expect(events[0]?.message).toBe(
      'Liveness probe failed: service unhealthy (responded with "NOT_SERVING")',
    );
  });

  it("skips a field it does not know, and fails an answer that is not protobuf", async () => {
    const { prober } = setup();
    expect(await prober.probe("liveness", pod, status, grpcProbe("extra"))).toEqual({
      result: "Failure",
      output: 'service unhealthy (responded with "NOT_SERVING")',
    });
    expect(await prober.probe("liveness", pod, status, grpcProbe("garbled"))).toEqual({
      result: "Failure",
      output:
        "error: health rpc probe failed: rpc error: code = Internal desc = grpc: failed to unmarshal the " +
        "received message: HealthCheckResponse is not valid protobuf: it ends inside a varint",
    });
  });

  it("fails on an unknown service and on Unimplemented", async () => {
    const { prober } = setup();
    expect(await prober.probe("liveness", pod, status, grpcProbe("nope"))).toEqual({
      result: "Failure",
      output: "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service",
    });
    expect(await prober.probe("liveness", pod, status, grpcProbe("unimplemented"))).toEqual({
      result: "Failure",
      output:
        "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): " +
        "unknown service grpc.health.v1.Health",
    });
  });

  it("fails when the call does not complete within timeoutSeconds", async () => {
    const { prober } = setup();
    expect(await prober.probe("liveness", pod, status, grpcProbe("slow", 1))).toEqual({
      result: "Failure",
      output: "timeout: health rpc did not complete within 1s",
    });
  });

  it("fails an answer larger than 4 MiB without waiting for the timeout", async () => {
    const { prober } = setup();
    const huge = await prober.probe("liveness", pod, status, grpcProbe("huge", 60));
    expect(huge).toEqual({
      result: "Failure",
      output: `error: health rpc probe failed: rpc error: code = ResourceExhausted desc = grpc: received message larger than max (${5 * 1024 * 1024} vs. ${MAX_GRPC_HEALTH_RESPONSE_BYTES})`,
    });
    // A server that declares a small message and sends on is cut off at the same size.
    const liar = await prober.probe("liveness", pod, status, grpcProbe("liar", 60));
    expect(liar.result).toBe("Failure");
    expect(liar.output).toMatch(
      /code = ResourceExhausted desc = grpc: received message larger than max \(\d+ vs\. 4194304\)$/,
    );
  });

  it("fails when nothing listens", async () => {
    const { prober } = setup();
    const container = withProbe({ grpc: { port: closed } });
    expect(await prober.probe("liveness", pod, status, container)).toEqual({
      result: "Failure",
      output: `error: failed to connect service at "127.0.0.1:${closed}": connect ECONNREFUSED 127.0.0.1:${closed}`,
    });
  });

  it("fails on a server that speaks HTTP/1 only", async () => {
    const { prober } = setup();
    const outcome = await prober.probe("liveness", pod, status, withProbe({ grpc: { port: http.port } }));
    expect(outcome.result).toBe("Failure");
    expect(outcome.output).toMatch(/^error: /);
  });
});

describe("the prober", () => {
  it("answers Success without probing when the container has no probe of that type", async () => {
    const { runner, calls } = fakeRunner(() => Buffer.from(""));
    const { prober, registry } = setup({ commandRunner: runner });
    expect(await prober.probe("readiness", pod, status, withProbe({ exec: { command: ["x"] } }))).toEqual({
      result: "Success",
      output: "",
    });
    expect(calls).toEqual([]);
    expect((await registry.getSingleMetric(PROBE_TOTAL)?.get())?.values).toEqual([]);
  });

  it("errors on a probe without a handler", async () => {
    const { prober, events } = setup();
    const outcome = await prober.probe("liveness", pod, status, withProbe({ periodSeconds: 3 }));
    expect(outcome.error?.message).toBe("missing probe handler for default/web:app");
    expect(events[0]?.message).toBe(
      "Liveness probe errored and resulted in unknown state: missing probe handler for default/web:app",
    );
  });

  it("rejects with Cancelled when the signal aborts", async () => {
    const { runner } = fakeRunner(() => new Promise<Buffer>(() => {}));
    const { prober, events } = setup({ commandRunner: runner });
    const controller = new AbortController();
    const pending = prober.probe("liveness", pod, status, withProbe({ exec: { command: ["hang"] } }), {
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.Cancelled });
    expect(events).toEqual([]);
  });

  it("counts probes in prober_probe_total and times successful ones, as the kubelet labels them", async () => {
    const clock = createManualClock(1_000);
    let exitCode = 0;
    const { runner } = fakeRunner((cmd) => {
      clock.advance(250);
      if (exitCode !== 0) throw new CommandExitError(cmd, exitCode, Buffer.alloc(0), Buffer.alloc(0));
      return Buffer.from("");
    });
    const { prober, registry } = setup({ commandRunner: runner, clock });
    const container = withProbe({ exec: { command: ["check"] } });
    await prober.probe("liveness", pod, status, container);
    await prober.probe("liveness", pod, status, container);
    exitCode = 1;
    await prober.probe("liveness", pod, status, container);

    const total = await registry.getSingleMetric(PROBE_TOTAL)?.get();
    const base = {
      probe_type: "Liveness",
      container: "app",
      pod: "web",
      namespace: "default",
      pod_uid: "uid-1",
    };
    expect(total?.values).toEqual(
      expect.arrayContaining([
        { value: 2, labels: { ...base, result: "successful" } },
        { value: 1, labels: { ...base, result: "failed" } },
      ]),
    );
    const duration = await registry.getSingleMetric(PROBE_DURATION_SECONDS)?.get();
    const values = (duration?.values ?? []) as Array<{ metricName?: string; value: number; labels: object }>;
    const count = values.find((v) => v.metricName === `${PROBE_DURATION_SECONDS}_count`);
    const sum = values.find((v) => v.metricName === `${PROBE_DURATION_SECONDS}_sum`);
    expect(count).toMatchObject({
      value: 2,
      labels: { probe_type: "Liveness", container: "app", pod: "web", namespace: "default" },
    });
    expect(sum?.value).toBeCloseTo(0.5);
  });

  it("does not count errored probes (the kubelet's worker throws them away)", async () => {
    const { runner } = fakeRunner(() => {
      throw new Error("broken");
    });
    const { prober, registry } = setup({ commandRunner: runner });
    await prober.probe("liveness", pod, status, withProbe({ exec: { command: ["x"] } }));
    expect((await registry.getSingleMetric(PROBE_TOTAL)?.get())?.values).toEqual([]);
  });

  it("registers the metrics once per registry and forgets a worker's series", async () => {
    const registry = new Registry();
    const options = {
      commandRunner: fakeRunner(() => Buffer.from("")).runner,
      podIPs: () => ["127.0.0.1"],
      registry,
    };
    const a = createProber(options);
    const b = createProber(options);
    const container = withProbe({ exec: { command: ["x"] } });
    await a.probe("liveness", pod, status, container);
    await b.probe("liveness", pod, status, container);
    expect((await registry.getSingleMetric(PROBE_TOTAL)?.get())?.values[0]?.value).toBe(2);
    a.forgetMetrics?.("liveness", pod, "app");
    expect((await registry.getSingleMetric(PROBE_TOTAL)?.get())?.values).toEqual([]);
    expect((await registry.getSingleMetric(PROBE_DURATION_SECONDS)?.get())?.values).toEqual([]);
  });
});
