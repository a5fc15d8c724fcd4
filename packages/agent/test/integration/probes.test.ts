// Probes against real containers: readiness (httpGet, tcpSocket) sets ready and the Ready /
// ContainersReady conditions, a failing exec liveness probe restarts the container, and a startup
// probe holds the liveness probe back until it succeeds. (grpc needs a gRPC server in the image;
// busybox has none, so grpc probes are covered by the lifecycle package's tests only.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeAgentSuite,
  condition,
  containerStatus,
  type Dirs,
  openAgentSuite,
  podManifest,
  type RunningAgent,
  type RuntimeHarness,
  thenRunUntilTerm,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: RunningAgent;

const HTTPD = thenRunUntilTerm("echo hello > /tmp/index.html; httpd -p 8080 -h /tmp");

function web(name: string, probes: object): object {
  return podManifest(name, [{ name: "web", command: HTTPD, ...probes }]);
}

beforeAll(async () => {
  ({ h, dirs, agent } = await openAgentSuite("probes"));
  const pods: Record<string, object> = {
    "http-ready": web("http-ready", {
      readinessProbe: { httpGet: { path: "/index.html", port: 8080 }, periodSeconds: 1 },
    }),
    "http-404": web("http-404", {
      readinessProbe: { httpGet: { path: "/missing", port: 8080 }, periodSeconds: 1 },
    }),
    "tcp-ready": web("tcp-ready", { readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }),
    "tcp-closed": web("tcp-closed", { readinessProbe: { tcpSocket: { port: 9090 }, periodSeconds: 1 } }),
    // Healthy for 3 s, then the file the liveness probe tests is gone.
    liveness: podManifest("liveness", [
      {
        name: "main",
        command: thenRunUntilTerm("touch /tmp/healthy; sleep 3; rm /tmp/healthy"),
        livenessProbe: {
          exec: { command: ["test", "-f", "/tmp/healthy"] },
          periodSeconds: 1,
          failureThreshold: 2,
        },
      },
    ]),
  };
  for (const [name, manifest] of Object.entries(pods)) {
    await writeManifest(h.env, dirs.manifests, `${name}.yaml`, manifest);
  }
});

afterAll(async () => {
  await closeAgentSuite(agent, h);
});

describe("probes", () => {
  it("readiness httpGet succeeding: ready true, Ready and ContainersReady True", async () => {
    const pod = await agent.api.waitForPod(
      "http-ready",
      "ready",
      (p) => containerStatus(p, "web")?.ready === true,
    );
    expect(containerStatus(pod, "web")?.state?.running).toBeDefined();
    expect(condition(pod, "Ready")).toBe("True");
    expect(condition(pod, "ContainersReady")).toBe("True");
    // The probe went to the pod's IP on the CNI bridge.
    expect(pod.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it("readiness httpGet answered 404: ready false, ContainersReady False", async () => {
    await agent.api.waitForPod(
      "http-404",
      "running",
      (p) => containerStatus(p, "web")?.state?.running !== undefined,
    );
    // Evidence that the probe ran and failed on the status code, not that it never ran.
    // (Before httpd listens it fails on the connection; the 404 comes once it answers.)
    const unhealthy = await agent.logs.waitFor("Unhealthy (404) for http-404", (l) => {
      return l.pod === "default/http-404-testnode" && l.reason === "Unhealthy" && l.msg.includes("404");
    });
    expect(unhealthy.msg).toBe("Readiness probe failed: HTTP probe failed with statuscode: 404");
    const now = await agent.api.pod("http-404");
    expect(containerStatus(now, "web")?.ready).toBe(false);
    expect(containerStatus(now, "web")?.started).toBe(true);
    expect(condition(now, "ContainersReady")).toBe("False");
    expect(condition(now, "Ready")).toBe("False");
    expect(now?.status?.conditions?.find((c) => c.type === "ContainersReady")?.message).toBe(
      "containers with unready status: [web]",
    );
    expect(containerStatus(now, "web")?.restartCount).toBe(0);
  });

  it("readiness tcpSocket: an open port makes the container ready", async () => {
    const pod = await agent.api.waitForPod(
      "tcp-ready",
      "ready",
      (p) => containerStatus(p, "web")?.ready === true,
    );
    expect(condition(pod, "Ready")).toBe("True");
  });

  it("readiness tcpSocket: a closed port keeps it unready", async () => {
    const unhealthy = await agent.logs.waitFor("Unhealthy for tcp-closed", (l) => {
      return l.pod === "default/tcp-closed-testnode" && l.reason === "Unhealthy";
    });
    expect(unhealthy.msg).toMatch(/Readiness probe failed: .*9090/);
    const pod = await agent.api.pod("tcp-closed");
    expect(containerStatus(pod, "web")?.ready).toBe(false);
    expect(condition(pod, "Ready")).toBe("False");
  });

  it("liveness exec failing restarts the container, with an Unhealthy event", async () => {
    const pod = await agent.api.waitForPod(
      "liveness",
      "restarted and running",
      (p) => {
        const s = containerStatus(p, "main");
        return (s?.restartCount ?? 0) >= 1 && s?.state?.running !== undefined;
      },
      30_000,
    );
    const status = containerStatus(pod, "main");
    expect(status?.lastState?.terminated).toBeDefined();
    // The restart is one the probe asked for: its events, and a new container in the runtime.
    const unhealthy = agent.logs.events("liveness", "Unhealthy");
    expect(unhealthy.length).toBeGreaterThanOrEqual(2);
    expect(unhealthy[0]?.msg).toMatch(/^Liveness probe failed/);
    const killing = agent.logs.events("liveness", "Killing");
    expect(killing[0]?.msg).toMatch(/failed liveness probe, will be restarted/);
    const containers = await h.containers(pod.metadata.uid ?? "");
    expect(containers.length).toBeGreaterThanOrEqual(2);
    expect(status?.containerID).toBe(`containerd://${containers[0]?.id}`);
  });

  it("startupProbe: started false until it succeeds, and liveness waits for it", async () => {
    // Starts after 4 s. The liveness probe fails until then: only the startup probe's gating
    // keeps the container from being restarted.
    await writeManifest(
      h.env,
      dirs.manifests,
      "startup.yaml",
      podManifest("startup", [
        {
          name: "main",
          command: thenRunUntilTerm("sleep 4; touch /tmp/started"),
          startupProbe: {
            exec: { command: ["test", "-f", "/tmp/started"] },
            periodSeconds: 1,
            failureThreshold: 30,
          },
          livenessProbe: {
            exec: { command: ["test", "-f", "/tmp/started"] },
            periodSeconds: 1,
            failureThreshold: 1,
          },
        },
      ]),
    );
    const notYet = await agent.api.waitForPod(
      "startup",
      "running but not started",
      (p) => containerStatus(p, "main")?.state?.running !== undefined,
    );
    expect(containerStatus(notYet, "main")?.started).toBe(false);
    expect(containerStatus(notYet, "main")?.ready).toBe(false);
    const started = await agent.api.waitForPod(
      "startup",
      "started",
      (p) => containerStatus(p, "main")?.started === true,
      20_000,
    );
    const status = containerStatus(started, "main");
    expect(status?.ready).toBe(true);
    // Liveness (failureThreshold 1) would have killed it in the first 4 s had it run.
    expect(status?.restartCount).toBe(0);
    expect(status?.containerID).toBe(containerStatus(notYet, "main")?.containerID);
    expect(agent.logs.events("startup", "Killing")).toEqual([]);
    expect(
      agent.logs.events("startup", "Unhealthy").every((l) => l.msg.startsWith("Startup probe failed")),
    ).toBe(true);
  });
});
