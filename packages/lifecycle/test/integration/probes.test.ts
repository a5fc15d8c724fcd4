import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import type {
  ContainerID,
  ImageManagerService,
  RuntimeService,
  V1Container,
  V1Pod,
  V1Probe,
} from "@nodelet/runtime-api";
import { readTestEnv, type TestEnv } from "@nodelet/testenv";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProbeManager, createProber, PROBE_TOTAL, type ProbeType } from "../../src/index.js";
import { commandRunnerFor, removeTestPods, startBusyboxPod, waitForPort } from "./support.js";

let env: TestEnv;
let runtime: RuntimeService;
let images: ImageManagerService;
let containerId: ContainerID;
let podIP: string;
const runId = `${process.pid}-${Date.now().toString(36)}`;
const namespace = "lifecycle-test";
const podName = `probes-${runId}`;

const basePod: V1Pod = {
  metadata: { name: podName, namespace, uid: `uid-probes-${runId}` },
  spec: { containers: [{ name: "web" }] },
};

beforeAll(async () => {
  env = await readTestEnv();
  runtime = await createRemoteRuntimeService(env.criEndpoint);
  images = await createRemoteImageService(env.criEndpoint);

  const started = await startBusyboxPod({
    env,
    runtime,
    images,
    runId,
    name: podName,
    uid: basePod.metadata.uid ?? "",
    namespace,
    containerName: "web",
    command: [
      "sh",
      "-c",
      "mkdir -p /www && echo healthy > /www/healthz && exec busybox httpd -f -p 8080 -h /www",
    ],
  });
  containerId = started.containerId;
  podIP = started.podIP;
  expect(podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  await waitForPort(podIP, 8080);
});

afterAll(async () => {
  // Leave nothing behind in the shared containerd, even after a failed test.
  await removeTestPods(runtime, runId);
  runtime?.close();
  images?.close();
});

function setup() {
  const registry = new Registry();
  const events: string[] = [];
  const prober = createProber({
    commandRunner: commandRunnerFor(runtime),
    podIPs: () => [podIP],
    registry,
    eventRecorder: { event: (_o, type, reason, message) => events.push(`${type} ${reason} ${message}`) },
  });
  return { prober, registry, events };
}

function container(probe: V1Probe, type: ProbeType = "liveness"): V1Container {
  return { name: "web", ports: [{ name: "http", containerPort: 8080 }], [`${type}Probe`]: probe };
}

function run(probe: V1Probe, type: ProbeType = "liveness") {
  const t = setup();
  const c = container(probe, type);
  const pod: V1Pod = { ...basePod, spec: { containers: [c] } };
  return t.prober.probe(type, pod, { containerId }, c).then((outcome) => ({ ...t, outcome }));
}

describe("exec probes in a container", () => {
  it("succeeds with the command's output", async () => {
    const { outcome } = await run({ exec: { command: ["sh", "-c", "cat /www/healthz"] } });
    expect(outcome).toEqual({ result: "Success", output: "healthy\n" });
  });

  it("fails on a non-zero exit, with stdout and stderr", async () => {
    const { outcome, events } = await run(
      { exec: { command: ["sh", "-c", "echo out; echo err >&2; exit 3"] } },
      "readiness",
    );
    expect(outcome).toEqual({ result: "Failure", output: "out\nerr\n" });
    expect(events).toEqual(["Warning Unhealthy Readiness probe failed: out\nerr\n"]);
  });

  it("fails a command that outlives timeoutSeconds", async () => {
    const started = Date.now();
    const { outcome, registry } = await run({ exec: { command: ["sleep", "5"] }, timeoutSeconds: 1 });
    expect(outcome).toEqual({ result: "Failure", output: "command 'sleep 5' timed out after 1s" });
    expect(outcome.error).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(4_500);
    const total = await registry.getSingleMetric(PROBE_TOTAL)?.get();
    expect(total?.values).toEqual([
      {
        value: 1,
        labels: {
          probe_type: "Liveness",
          result: "failed",
          container: "web",
          pod: podName,
          namespace,
          pod_uid: basePod.metadata.uid,
        },
      },
    ]);
  });
});

describe("httpGet probes to busybox httpd on the pod IP", () => {
  it("succeeds on a page that exists, through a named port", async () => {
    const { outcome } = await run({ httpGet: { path: "/healthz", port: "http" } });
    expect(outcome).toEqual({ result: "Success", output: "healthy\n" });
  });

  it("fails on a 404", async () => {
    const { outcome, events } = await run({ httpGet: { path: "/no-such-page", port: 8080 } });
    expect(outcome).toEqual({ result: "Failure", output: "HTTP probe failed with statuscode: 404" });
    expect(events).toEqual([
      "Warning Unhealthy Liveness probe failed: HTTP probe failed with statuscode: 404",
    ]);
  });
});

describe("tcpSocket probes to the pod IP", () => {
  it("succeeds on the port httpd listens on", async () => {
    const { outcome } = await run({ tcpSocket: { port: 8080 } });
    expect(outcome).toEqual({ result: "Success", output: "" });
  });

  it("fails on a closed port", async () => {
    const { outcome } = await run({ tcpSocket: { port: 8081 } }, "startup");
    expect(outcome).toEqual({
      result: "Failure",
      output: `dial tcp ${podIP}:8081: connect: connection refused`,
    });
  });
});

describe("the probe manager with the real prober and timers", () => {
  it("publishes readiness Success and a liveness Failure after the threshold", async () => {
    const { prober } = setup();
    const c: V1Container = {
      name: "web",
      ports: [{ name: "http", containerPort: 8080 }],
      readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 1 },
      livenessProbe: { tcpSocket: { port: 8081 }, periodSeconds: 1, failureThreshold: 2 },
    };
    const pod: V1Pod = { ...basePod, spec: { containers: [c] } };
    const changes: string[] = [];
    const manager = createProbeManager({
      prober,
      random: () => 0,
      onResultChange: (e) => changes.push(`${e.type} ${e.result}`),
    });
    try {
      manager.updatePodStatus(pod, [
        { name: "web", containerId, state: "running", startedAtMs: Date.now() - 60_000 },
      ]);
      manager.addPod(pod);
      const deadline = Date.now() + 10_000;
      while (manager.liveness(containerId) !== "Failure" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(manager.readiness(containerId)).toBe("Success");
      expect(manager.isReady(containerId)).toBe(true);
      expect(manager.liveness(containerId)).toBe("Failure");
      expect(changes).toEqual([
        "readiness Failure",
        "liveness Success",
        "readiness Success",
        "liveness Failure",
      ]);
    } finally {
      await manager.stop();
    }
  });
});
