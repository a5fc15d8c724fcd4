import {
  type ContainerID,
  createManualClock,
  ErrorCode,
  NodeletError,
  type ProbeResult,
  type ProbeResults,
  type V1Container,
  type V1Pod,
  type V1Probe,
} from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import {
  type ContainerProbeStatus,
  createProbeManager,
  type ProbeManagerOptions,
  type ProbeResultChange,
  type Prober,
  type ProbeType,
} from "../src/index.js";

const T0 = 1_700_000_000_000;
const id = (n: number): ContainerID => ({ type: "containerd", id: `c${n}` });
const exec: V1Probe = { exec: { command: ["check"] } };

type Answer = ProbeResult | "error";

/** A prober that answers from a script per probe type (the last answer repeats) and notes its calls. */
function scriptedProber() {
  const script: Record<ProbeType, Answer[]> = { liveness: [], readiness: [], startup: [] };
  const calls: Array<{ type: ProbeType; containerId: string; at: number }> = [];
  const forgotten: string[] = [];
  let now = () => 0;
  const prober: Prober = {
    async probe(type, _pod, status) {
      calls.push({ type, containerId: status.containerId.id, at: now() });
      const queue = script[type];
      const answer = (queue.length > 1 ? queue.shift() : queue[0]) ?? "Success";
      if (answer === "error") {
        return { result: "Failure", output: "", error: new NodeletError(ErrorCode.Unknown, "broken") };
      }
      return { result: answer, output: "" };
    },
    forgetMetrics(type, pod, containerName) {
      forgotten.push(`${pod.metadata.name}/${containerName}/${type}`);
    },
  };
  return {
    prober,
    calls,
    forgotten,
    script,
    count: (type: ProbeType) => calls.filter((c) => c.type === type).length,
    setNow(fn: () => number) {
      now = fn;
    },
  };
}

function makePod(container: Partial<V1Container>, extra: Partial<V1Pod["spec"]> = {}): V1Pod {
  return {
    metadata: { name: "web", namespace: "default", uid: "pod-1" },
    spec: { containers: [{ name: "app", ...container }], ...extra },
  };
}

function running(n: number, startedAtMs = T0, name = "app"): ContainerProbeStatus {
  return { name, containerId: id(n), state: "running", startedAtMs };
}

function setup(overrides: Partial<ProbeManagerOptions> = {}) {
  const clock = createManualClock(T0);
  const scripted = scriptedProber();
  scripted.setNow(() => clock.now() - T0);
  const changes: string[] = [];
  const events: ProbeResultChange[] = [];
  const manager = createProbeManager({
    prober: scripted.prober,
    clock,
    // The agent has been up for long: no random first delay.
    startedAtMs: T0 - 3_600_000,
    random: () => 0,
    onResultChange: (e) => {
      events.push(e);
      changes.push(`${(clock.now() - T0) / 1000}s ${e.type} ${e.containerId.id} ${e.result}`);
    },
    ...overrides,
  });
  /** Seconds since T0 of each probe of `type`. */
  const times = (type: ProbeType) => scripted.calls.filter((c) => c.type === type).map((c) => c.at / 1000);
  return { clock, manager, changes, events, times, ...scripted };
}

describe("probe manager: defaults and thresholds", () => {
  it("starts readiness at Failure and liveness at Success, probes every 10 s by default", async () => {
    const t = setup();
    const pod = makePod({ livenessProbe: exec, readinessProbe: exec });
    t.manager.updatePodStatus(pod, [running(1)]);
    t.manager.addPod(pod);
    await t.clock.settle();
    // Workers start in the order startup, readiness, liveness; each publishes its initial value first.
    expect(t.changes).toEqual([
      "0s readiness c1 Failure",
      "0s liveness c1 Success",
      "0s readiness c1 Success",
    ]);
    expect(t.events[1]).toEqual({
      type: "liveness",
      podUid: "pod-1",
      containerName: "app",
      containerId: id(1),
      result: "Success",
    });
    await t.clock.advanceAsync(9_999);
    expect(t.count("liveness")).toBe(1);
    await t.clock.advanceAsync(1);
    await t.clock.advanceAsync(20_000);
    expect(t.times("liveness")).toEqual([0, 10, 20, 30]);
    expect(t.times("readiness")).toEqual([0, 10, 20, 30]);
    expect(t.manager.readiness(id(1))).toBe("Success");
    expect(t.manager.liveness(id(1))).toBe("Success");
    expect(t.manager.startup(id(1))).toBeUndefined();
    await t.manager.stop();
  });

  it("publishes a liveness Failure only after failureThreshold (3) failures, then holds", async () => {
    const t = setup();
    t.script.liveness = ["Failure"];
    const pod = makePod({ livenessProbe: exec });
    t.manager.updatePodStatus(pod, [running(1)]);
    t.manager.addPod(pod);
    await t.clock.advanceAsync(10_000);
    expect(t.manager.liveness(id(1))).toBe("Success");
    await t.clock.advanceAsync(10_000);
    expect(t.manager.liveness(id(1))).toBe("Failure");
    expect(t.changes).toEqual(["0s liveness c1 Success", "20s liveness c1 Failure"]);
    // On hold: no probe of the dying container.
    await t.clock.advanceAsync(60_000);
    expect(t.times("liveness")).toEqual([0, 10, 20]);

    // kuberuntime restarts it: a new container ID, probing resumes from the initial value.
    t.script.liveness = ["Success"];
    t.manager.updatePodStatus(pod, [running(2, t.clock.now())]);
    await t.clock.advanceAsync(10_000);
    expect(t.times("liveness")).toEqual([0, 10, 20, 90]);
    expect(t.manager.liveness(id(1))).toBeUndefined();
    expect(t.manager.liveness(id(2))).toBe("Success");
    expect(t.changes.slice(2)).toEqual(["90s liveness c2 Success"]);
    await t.manager.stop();
  });

  it("resets the run on a different result, and uses the probe's thresholds", async () => {
    const t = setup();
    t.script.readiness = ["Success", "Failure", "Success", "Success", "Failure", "Failure"];
    const pod = makePod({
      readinessProbe: { ...exec, successThreshold: 2, failureThreshold: 2, periodSeconds: 1 },
    });
    t.manager.updatePodStatus(pod, [running(1)]);
    t.manager.addPod(pod);
    await t.clock.advanceAsync(6_000);
    expect(t.changes).toEqual([
      "0s readiness c1 Failure",
      "3s readiness c1 Success",
      "5s readiness c1 Failure",
    ]);
    await t.manager.stop();
  });

  it("throws probe errors away: they count towards no threshold", async () => {
    const t = setup();
    t.script.liveness = ["error"];
    const pod = makePod({ livenessProbe: { ...exec, failureThreshold: 1 } });
    t.manager.updatePodStatus(pod, [running(1)]);
    t.manager.addPod(pod);
    await t.clock.advanceAsync(50_000);
    expect(t.count("liveness")).toBe(6);
    expect(t.manager.liveness(id(1))).toBe("Success");
    await t.manager.stop();
  });
});

describe("probe manager: when it probes", () => {
  it("waits for a status and a container ID, then for initialDelaySeconds since StartedAt", async () => {
    const t = setup();
    const pod = makePod({ livenessProbe: { ...exec, initialDelaySeconds: 15 } });
    t.manager.addPod(pod);
    await t.clock.advanceAsync(10_000);
    expect(t.count("liveness")).toBe(0); // no status yet
    t.manager.updatePodStatus(pod, [{ name: "app", state: "waiting" }]);
    await t.clock.advanceAsync(10_000);
    expect(t.changes).toEqual([]); // no container ID: nothing to publish for
    t.manager.updatePodStatus(pod, [running(1, t.clock.now())]); // started at 20 s
    await t.clock.advanceAsync(30_000);
    // 30 s: 10 s since start < 15; 40 s: 20 s since start.
    expect(t.times("liveness")).toEqual([40, 50]);
    await t.manager.stop();
  });

  it("counts the initial delay from when it first saw the container running without a StartedAt", async () => {
    const t = setup();
    const pod = makePod({ livenessProbe: { ...exec, initialDelaySeconds: 25 } });
    t.manager.addPod(pod);
    t.manager.updatePodStatus(pod, [{ name: "app", containerId: id(1), state: "running" }]);
    await t.clock.advanceAsync(10_000);
    t.manager.updatePodStatus(pod, [{ name: "app", containerId: id(1), state: "running" }]); // still 0 s
    await t.clock.advanceAsync(30_000);
    expect(t.times("liveness")).toEqual([30, 40]);
    await t.manager.stop();
  });

  it("waits a random part of a period before the first probe when the agent started less than a period ago", async () => {
    const t = setup({ startedAtMs: T0 - 2_000, random: () => 0.5 });
    const pod = makePod({ livenessProbe: exec });
    t.manager.updatePodStatus(pod, [running(1)]);
    t.manager.addPod(pod);
    await t.clock.advanceAsync(4_999);
    expect(t.count("liveness")).toBe(0);
    await t.clock.advanceAsync(1);
    expect(t.times("liveness")).toEqual([5]);
    await t.clock.advanceAsync(10_000);
    expect(t.times("liveness")).toEqual([5, 15]);
    await t.manager.stop();
  });

  it("gates liveness and readiness on startup, and stops startup probing once started", async () => {
    const t = setup();
    t.script.startup = ["Failure", "Failure", "Success"];
    const pod = makePod({
      startupProbe: { ...exec, periodSeconds: 1, failureThreshold: 30 },
      livenessProbe: exec,
      readinessProbe: exec,
    });
    t.manager.updatePodStatus(pod, [running(1)]);
    t.manager.addPod(pod);
    await t.clock.settle();
    expect(t.manager.startup(id(1))).toBe("Unknown");
    expect(t.manager.isStarted(id(1))).toBe(false);
    expect(t.manager.isReady(id(1))).toBe(false);
    await t.clock.advanceAsync(2_000);
    expect(t.times("startup")).toEqual([0, 1, 2]);
    expect(t.manager.startup(id(1))).toBe("Success");
    expect(t.manager.isStarted(id(1))).toBe(true);
    expect(t.count("liveness") + t.count("readiness")).toBe(0);

    // The agent's next sync: readiness of a started, not-ready container is probed at once.
    t.manager.updatePodStatus(pod, [running(1)]);
    await t.clock.settle();
    expect(t.times("readiness")).toEqual([2]);
    expect(t.manager.isReady(id(1))).toBe(true);
    await t.clock.advanceAsync(10_000);
    expect(t.times("startup")).toEqual([0, 1, 2]);
    expect(t.times("liveness")).toEqual([10]);
    expect(t.times("readiness")).toEqual([2, 12]); // the manual run restarted the period
    await t.manager.stop();
  });

  it("holds a failed startup probe until a new container", async () => {
    const t = setup();
    t.script.startup = ["Failure"];
    const pod = makePod({
      startupProbe: { ...exec, periodSeconds: 1, failureThreshold: 2 },
      livenessProbe: exec,
    });
    t.manager.updatePodStatus(pod, [running(1)]);
    t.manager.addPod(pod);
    await t.clock.advanceAsync(10_000);
    expect(t.times("startup")).toEqual([0, 1]);
    expect(t.manager.startup(id(1))).toBe("Failure");
    expect(t.count("liveness")).toBe(0);
    t.script.startup = ["Success"];
    t.manager.updatePodStatus(pod, [running(2, t.clock.now())]);
    await t.clock.advanceAsync(1_000);
    expect(t.manager.startup(id(2))).toBe("Success");
    await t.manager.stop();
  });

  it("publishes Failure for a container that is not running, and exits when it will not restart", async () => {
    const t = setup();
    const pod = makePod({ livenessProbe: exec, readinessProbe: exec }, { restartPolicy: "Never" });
    t.manager.updatePodStatus(pod, [running(1)]);
    t.manager.addPod(pod);
    await t.clock.settle();
    t.manager.updatePodStatus(pod, [{ name: "app", containerId: id(1), state: "terminated" }]);
    await t.clock.advanceAsync(10_000);
    expect(t.changes).toEqual([
      "0s readiness c1 Failure",
      "0s liveness c1 Success",
      "0s readiness c1 Success",
      "10s readiness c1 Failure",
      "10s liveness c1 Failure",
    ]);
    // Both workers exited: their results and metric series are dropped.
    expect(t.manager.liveness(id(1))).toBeUndefined();
    expect(t.forgotten.sort()).toEqual(["web/app/liveness", "web/app/readiness"]);
    await t.clock.advanceAsync(60_000);
    expect(t.count("liveness")).toBe(1);
    expect(t.clock.pendingTimers()).toBe(0);
  });

  it("keeps probing a terminated container that will restart, unless told it will not", async () => {
    const t = setup();
    const pod = makePod({ livenessProbe: exec });
    t.manager.updatePodStatus(pod, [{ name: "app", containerId: id(1), state: "terminated" }]);
    t.manager.addPod(pod);
    await t.clock.advanceAsync(20_000);
    expect(t.manager.liveness(id(1))).toBe("Failure");
    expect(t.forgotten).toEqual([]);
    t.manager.updatePodStatus(pod, [
      { name: "app", containerId: id(1), state: "terminated", restartPolicyTerminal: true },
    ]);
    await t.clock.advanceAsync(10_000);
    expect(t.forgotten).toEqual(["web/app/liveness"]);
    expect(t.count("liveness")).toBe(0);
  });
});

describe("probe manager: pods", () => {
  it("on pod deletion, liveness and startup publish Success and exit; readiness keeps going", async () => {
    const t = setup();
    t.script.startup = ["Failure"];
    const pod = makePod({
      startupProbe: { ...exec, failureThreshold: 10 },
      livenessProbe: exec,
      readinessProbe: exec,
    });
    t.manager.updatePodStatus(pod, [running(1)]);
    t.manager.addPod(pod);
    await t.clock.advanceAsync(10_000);
    const deleting: V1Pod = {
      ...pod,
      metadata: { ...pod.metadata, deletionTimestamp: "2024-01-01T00:00:00Z" },
    };
    t.manager.updatePodStatus(deleting, [running(1)]);
    await t.clock.settle();
    expect(t.changes).toContain("10s startup c1 Success");
    expect(t.forgotten.sort()).toEqual(["web/app/liveness", "web/app/startup"]);
    expect(t.manager.startup(id(1))).toBeUndefined(); // the exited worker's result is dropped
    expect(t.times("startup")).toEqual([0, 10]);
    // Readiness lives on; with the startup worker gone the container counts as started (as in the kubelet).
    await t.clock.advanceAsync(30_000);
    expect(t.times("readiness")).toEqual([20, 30, 40]);
    expect(t.clock.pendingTimers()).toBe(1);
    await t.manager.stop();
    expect(t.clock.pendingTimers()).toBe(0);
  });

  it("runs workers for sidecars (restartable init containers) and isReady for containers without probes", async () => {
    const t = setup();
    const pod: V1Pod = {
      metadata: { name: "web", namespace: "default", uid: "pod-1" },
      spec: {
        initContainers: [
          { name: "proxy", restartPolicy: "Always", readinessProbe: exec },
          { name: "init", livenessProbe: exec },
        ],
        containers: [{ name: "app" }],
      },
    };
    t.manager.updatePodStatus(pod, [running(1, T0, "proxy"), running(2, T0, "app")]);
    t.manager.addPod(pod);
    await t.clock.settle();
    expect(t.calls.map((c) => `${c.type} ${c.containerId}`)).toEqual(["readiness c1"]);
    expect(t.manager.isReady(id(1))).toBe(true);
    expect(t.manager.isReady(id(2))).toBe(true); // no readiness probe: ready once started
    expect(t.manager.isStarted(id(2))).toBe(true);
    expect(t.manager.isStarted(id(9))).toBe(false); // unknown container
    await t.manager.stop();
  });

  it("removePod stops the pod's workers and drops their results", async () => {
    const t = setup();
    const pod = makePod({ livenessProbe: exec, readinessProbe: exec });
    t.manager.updatePodStatus(pod, [running(1)]);
    t.manager.addPod(pod);
    t.manager.addPod(pod); // idempotent
    await t.clock.settle();
    expect(t.count("liveness")).toBe(1);
    t.manager.removePod("pod-1");
    await t.clock.advanceAsync(30_000);
    expect(t.count("liveness")).toBe(1);
    expect(t.manager.readiness(id(1))).toBeUndefined();
    expect(t.manager.isStarted(id(1))).toBe(false);
    expect(t.forgotten.sort()).toEqual(["web/app/liveness", "web/app/readiness"]);
    expect(t.clock.pendingTimers()).toBe(0);
  });

  it("stop() cancels a probe in flight and settles once every worker is done", async () => {
    const clock = createManualClock(T0);
    let seen: AbortSignal | undefined;
    const prober: Prober = {
      probe: (_type, _pod, _status, _container, options) =>
        new Promise((_resolve, reject) => {
          seen = options?.signal;
          options?.signal?.addEventListener("abort", () => reject(new Error("cancelled")));
        }),
    };
    const manager = createProbeManager({ prober, clock, startedAtMs: 0 });
    const pod = makePod({ livenessProbe: exec });
    manager.updatePodStatus(pod, [running(1)]);
    manager.addPod(pod);
    await clock.settle();
    expect(seen?.aborted).toBe(false);
    await manager.stop();
    expect(seen?.aborted).toBe(true);
    manager.addPod(pod); // after stop: nothing starts
    await clock.settle();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("satisfies ProbeResults and keeps probing when onResultChange throws", async () => {
    const t = setup({
      onResultChange: () => {
        throw new Error("listener broke");
      },
    });
    t.script.liveness = ["Failure"];
    const results: ProbeResults = t.manager;
    const pod = makePod({ livenessProbe: { ...exec, failureThreshold: 1 } });
    t.manager.updatePodStatus(pod, [running(1)]);
    t.manager.addPod(pod);
    await t.clock.settle();
    expect(results.liveness(id(1))).toBe("Failure");
    await t.manager.stop();
  });

  it("runs on the real timers by default", async () => {
    const scripted = scriptedProber();
    const manager = createProbeManager({ prober: scripted.prober, random: () => 0 });
    const pod = makePod({ readinessProbe: exec });
    manager.updatePodStatus(pod, [running(1, Date.now())]);
    manager.addPod(pod);
    await new Promise((r) => setTimeout(r, 10));
    expect(manager.readiness(id(1))).toBe("Success");
    await manager.stop();
  });
});
