import { NamespaceMode, PodSandboxState, PodSandboxStatus } from "@nodelet/cri-api";
import type {
  ContainerID,
  ContainerStatus,
  PodStatus,
  V1Container,
  V1ContainerStatus,
  V1Pod,
  V1PodStatus,
} from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { type GeneratePodStatusInput, generatePodStatus, podIsTerminal } from "../src/pod-status.js";

const NOW = new Date("2026-01-02T03:04:05.678Z");
const NOW_TEXT = "2026-01-02T03:04:05Z";

const app: V1Container = { name: "app", image: "busybox:1.36" };
const web: V1Container = { name: "web", image: "nginx:1.27" };
const init1: V1Container = { name: "init1", image: "busybox:1.36" };
const init2: V1Container = { name: "init2", image: "busybox:1.36" };
const sidecar: V1Container = { name: "sidecar", image: "busybox:1.36", restartPolicy: "Always" };

function pod(spec: Partial<V1Pod["spec"]> = {}, metadata: Partial<V1Pod["metadata"]> = {}): V1Pod {
  return {
    metadata: { name: "p", namespace: "default", uid: "u1", ...metadata },
    spec: { containers: [app], ...spec },
  };
}

function sandbox(ready = true, ip = "10.1.0.5", createdAtMs = 1_000) {
  return PodSandboxStatus.fromPartial({
    id: "sb1",
    metadata: { name: "p", namespace: "default", uid: "u1", attempt: 0 },
    state: ready ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY,
    network: { ip },
    linux: { namespaces: { options: { network: NamespaceMode.POD } } },
    createdAt: BigInt(createdAtMs) * 1_000_000n,
  });
}

let seq = 0;
/** A runtime status; each call is newer than the previous one. */
function cs(
  name: string,
  state: ContainerStatus["state"],
  extra: Partial<ContainerStatus> = {},
): ContainerStatus {
  seq++;
  const at = 1_700_000_000_000 + seq * 10_000;
  return {
    id: { type: "containerd", id: `${name}-${seq}` },
    name,
    state,
    createdAt: new Date(at),
    startedAt: state === "created" ? undefined : new Date(at + 1_000),
    finishedAt: state === "exited" ? new Date(at + 5_000) : undefined,
    exitCode: 0,
    image: "docker.io/library/busybox:1.36",
    imageID: "sha256:abc",
    imageRef: "docker.io/library/busybox@sha256:abc",
    imageRuntimeHandler: "",
    hash: "",
    restartCount: 0,
    reason: "",
    message: "",
    containerType: "container",
    logPath: "",
    ...extra,
  };
}

function podStatus(statuses: ContainerStatus[], withSandbox = true, ips = ["10.1.0.5"]): PodStatus {
  return {
    id: "u1",
    name: "p",
    namespace: "default",
    ips: withSandbox ? ips : [],
    // newest first, as the runtime manager returns them
    containerStatuses: [...statuses].reverse(),
    sandboxStatuses: withSandbox ? [sandbox()] : [],
    timestamp: NOW.getTime(),
  };
}

function generate(
  p: V1Pod,
  statuses: ContainerStatus[],
  extra: Partial<GeneratePodStatusInput> = {},
): V1PodStatus {
  return generatePodStatus({
    pod: p,
    podStatus: podStatus(statuses),
    lastSyncErrors: new Map(),
    readiness: () => true,
    started: () => undefined,
    hostIPs: ["192.168.1.10"],
    now: NOW,
    ...extra,
  });
}

function container(status: V1PodStatus, name: string): V1ContainerStatus {
  const found = [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])].find(
    (s) => s.name === name,
  );
  if (!found) throw new Error(`no status for ${name}`);
  return found;
}

function condition(status: V1PodStatus, type: string) {
  return status.conditions?.find((c) => c.type === type);
}

describe("waiting reasons", () => {
  it("a container that has not been created yet is ContainerCreating", () => {
    const status = generatePodStatus({
      pod: pod(),
      podStatus: podStatus([], false),
      lastSyncErrors: new Map(),
      readiness: () => true,
      started: () => undefined,
      hostIPs: [],
      now: NOW,
    });
    expect(status.phase).toBe("Pending");
    expect(container(status, "app")).toEqual({
      name: "app",
      state: { waiting: { reason: "ContainerCreating" } },
      lastState: {},
      ready: false,
      started: false,
      restartCount: 0,
      image: "busybox:1.36",
      imageID: "",
    });
  });

  it("with init containers every container not yet started is PodInitializing", () => {
    const status = generate(pod({ initContainers: [init1, init2] }), [cs("init1", "running")]);
    expect(container(status, "init1").state).toEqual({ running: expect.any(Object) });
    expect(container(status, "init2").state).toEqual({ waiting: { reason: "PodInitializing" } });
    expect(container(status, "app").state).toEqual({ waiting: { reason: "PodInitializing" } });
    expect(status.phase).toBe("Pending");
  });

  it.each([
    ["ErrImagePull", 'failed to pull "nope:1": not found'],
    ["ImagePullBackOff", 'Back-off pulling image "nope:1"'],
    ["CreateContainerConfigError", 'secret "s" not found'],
  ])("the last sync error %s of a container never created is its waiting reason", (reason, message) => {
    const status = generate(pod(), [], { lastSyncErrors: new Map([["app", { reason, message }]]) });
    expect(container(status, "app").state).toEqual({ waiting: { reason, message } });
    expect(container(status, "app").lastState).toEqual({});
    expect(status.phase).toBe("Pending");
  });

  it("a crashed container to be restarted shows CrashLoopBackOff with the crash in lastState", () => {
    const crashed = cs("app", "exited", { exitCode: 1, reason: "Error", restartCount: 3 });
    const status = generate(pod(), [crashed], {
      lastSyncErrors: new Map([
        ["app", { reason: "CrashLoopBackOff", message: "back-off 40s restarting failed container=app" }],
      ]),
    });
    const s = container(status, "app");
    expect(s.state).toEqual({
      waiting: { reason: "CrashLoopBackOff", message: "back-off 40s restarting failed container=app" },
    });
    expect(s.lastState?.terminated).toMatchObject({
      exitCode: 1,
      reason: "Error",
      containerID: `containerd://${crashed.id.id}`,
    });
    expect(s.restartCount).toBe(3);
    expect(s.ready).toBe(false);
    expect(status.phase).toBe("Running"); // restarting under Always
  });

  it("a sync error does not hide a container that will not be restarted", () => {
    const done = cs("app", "exited", { exitCode: 1 });
    const status = generate(pod({ restartPolicy: "Never" }), [done], {
      lastSyncErrors: new Map([["app", { reason: "CrashLoopBackOff", message: "x" }]]),
    });
    expect(container(status, "app").state?.terminated?.exitCode).toBe(1);
    expect(status.phase).toBe("Failed");
  });

  it("a created container is waiting with no reason", () => {
    const status = generate(pod(), [cs("app", "created")]);
    expect(container(status, "app").state).toEqual({ waiting: {} });
    expect(status.phase).toBe("Pending");
  });
});

describe("terminated state", () => {
  it.each([
    [0, "", "Completed"],
    [2, "", "Error"],
    [137, "OOMKilled", "OOMKilled"],
    [1, "Error", "Error"],
  ])("exit code %i with runtime reason %j is %s", (exitCode, reason, expected) => {
    const c = cs("app", "exited", { exitCode, reason, message: reason === "OOMKilled" ? "" : "" });
    const status = generate(pod({ restartPolicy: "Never" }), [c]);
    const s = container(status, "app");
    expect(s.state).toEqual({
      terminated: {
        exitCode,
        reason: expected,
        startedAt: (c.startedAt as Date).toISOString().replace(/\.\d{3}Z$/, "Z"),
        finishedAt: (c.finishedAt as Date).toISOString().replace(/\.\d{3}Z$/, "Z"),
        containerID: `containerd://${c.id.id}`,
      },
    });
    expect(s.containerID).toBe(`containerd://${c.id.id}`);
    expect(s.imageID).toBe("docker.io/library/busybox@sha256:abc");
    expect(s.image).toBe("docker.io/library/busybox:1.36");
  });

  it("keeps the runtime's termination message", () => {
    const c = cs("app", "exited", { exitCode: 3, reason: "Error", message: "disk full" });
    const status = generate(pod({ restartPolicy: "Never" }), [c]);
    expect(container(status, "app").state?.terminated?.message).toBe("disk full");
  });
});

describe("restarts", () => {
  it("the newest instance is the state, the one before it lastState", () => {
    const first = cs("app", "exited", { exitCode: 1, reason: "Error" });
    const second = cs("app", "running", { restartCount: 1 });
    const status = generate(pod(), [first, second]);
    const s = container(status, "app");
    expect(s.state?.running?.startedAt).toBe(
      (second.startedAt as Date).toISOString().replace(/\.\d{3}Z$/, "Z"),
    );
    expect(s.lastState?.terminated).toMatchObject({
      exitCode: 1,
      reason: "Error",
      containerID: `containerd://${first.id.id}`,
    });
    expect(s.containerID).toBe(`containerd://${second.id.id}`);
    expect(s.restartCount).toBe(1);
  });

  it("only the two newest instances are shown", () => {
    const a = cs("app", "exited", { exitCode: 5 });
    const b = cs("app", "exited", { exitCode: 6 });
    const c = cs("app", "running", { restartCount: 2 });
    const status = generate(pod(), [a, b, c]);
    expect(container(status, "app").lastState?.terminated?.exitCode).toBe(6);
  });

  it("a container reported running that the runtime lost is recorded as terminated in lastState", () => {
    const before = generate(pod(), [cs("app", "running", { restartCount: 2 })]);
    const status = generate(pod(), [], { previous: before });
    const s = container(status, "app");
    expect(s.state).toEqual({ waiting: { reason: "ContainerCreating" } });
    expect(s.lastState?.terminated).toMatchObject({ exitCode: 137, reason: "ContainerStatusUnknown" });
    expect(s.restartCount).toBe(3);
    expect(status.phase).toBe("Running");
  });

  it("a terminated status stands when the runtime removed the container", () => {
    const before = generate(pod({ restartPolicy: "Never" }), [cs("app", "exited", { exitCode: 0 })]);
    const status = generate(pod({ restartPolicy: "Never" }), [], { previous: before });
    expect(container(status, "app").state?.terminated?.reason).toBe("Completed");
    expect(status.phase).toBe("Succeeded");
  });

  it("an unknown container that was running is terminated with ContainerStatusUnknown", () => {
    const before = generate(pod(), [cs("app", "running")]);
    const status = generate(pod(), [cs("app", "unknown")], { previous: before });
    expect(container(status, "app").state?.terminated).toMatchObject({
      exitCode: 137,
      reason: "ContainerStatusUnknown",
    });
  });
});

describe("ready and started", () => {
  const cases: [string, boolean, boolean | undefined, boolean, boolean][] = [
    ["no probes", true, undefined, true, true],
    ["readiness failing", false, undefined, false, true],
    ["startup not yet succeeded", true, false, false, false],
    ["startup succeeded, readiness failing", false, true, false, true],
    ["startup and readiness succeeded", true, true, true, true],
  ];
  it.each(cases)("%s", (_name, ready, started, wantReady, wantStarted) => {
    const running = cs("app", "running");
    const seen: ContainerID[] = [];
    const status = generate(pod(), [running], {
      readiness: (id) => {
        seen.push(id);
        return ready;
      },
      started: () => started,
    });
    const s = container(status, "app");
    expect(s.ready).toBe(wantReady);
    expect(s.started).toBe(wantStarted);
    expect(condition(status, "ContainersReady")?.status).toBe(wantReady ? "True" : "False");
    expect(condition(status, "Ready")?.status).toBe(wantReady ? "True" : "False");
    if (wantStarted) expect(seen).toEqual([running.id]);
  });

  it("a container that is not running is neither ready nor started", () => {
    const status = generate(pod(), [cs("app", "exited", { exitCode: 1 })]);
    expect(container(status, "app")).toMatchObject({ ready: false, started: false });
  });

  it("init containers are ready once they exited 0; sidecars when running and ready", () => {
    const p = pod({ initContainers: [init1, sidecar] });
    const status = generate(p, [
      cs("init1", "exited", { exitCode: 0, reason: "Completed" }),
      cs("sidecar", "running"),
      cs("app", "running"),
    ]);
    expect(container(status, "init1")).toMatchObject({ ready: true, started: false });
    expect(container(status, "sidecar")).toMatchObject({ ready: true, started: true });
    expect(condition(status, "Initialized")?.status).toBe("True");
    expect(status.phase).toBe("Running");
  });
});

describe("phase", () => {
  const ok = () => cs("app", "exited", { exitCode: 0, reason: "Completed" });
  const failed = () => cs("web", "exited", { exitCode: 1, reason: "Error" });
  const twoContainers = (restartPolicy: "Always" | "OnFailure" | "Never") =>
    pod({ containers: [app, web], restartPolicy });

  it.each([
    ["Always", "running", "Running"],
    ["Always", "all succeeded", "Running"],
    ["Always", "one failed", "Running"],
    ["OnFailure", "all succeeded", "Succeeded"],
    ["OnFailure", "one failed", "Running"],
    ["Never", "all succeeded", "Succeeded"],
    ["Never", "one failed", "Failed"],
    ["Never", "running", "Running"],
  ] as const)("restartPolicy %s, %s: %s", (policy, situation, phase) => {
    const statuses =
      situation === "running"
        ? [cs("app", "running"), cs("web", "exited", { exitCode: 1 })]
        : situation === "all succeeded"
          ? [ok(), cs("web", "exited", { exitCode: 0 })]
          : [ok(), failed()];
    expect(generate(twoContainers(policy), statuses).phase).toBe(phase);
  });

  it("is Pending while a container is waiting, even with another running", () => {
    expect(generate(twoContainers("Always"), [cs("app", "running")]).phase).toBe("Pending");
  });

  it("is Pending while an init container runs", () => {
    expect(generate(pod({ initContainers: [init1] }), [cs("init1", "running")]).phase).toBe("Pending");
  });

  it("is Failed when an init container failed under Never", () => {
    const status = generate(pod({ initContainers: [init1], restartPolicy: "Never" }), [
      cs("init1", "exited", { exitCode: 1 }),
    ]);
    expect(status.phase).toBe("Failed");
    expect(container(status, "init1").ready).toBe(false);
  });

  it("is Pending when an init container failed under OnFailure (it will be retried)", () => {
    const status = generate(pod({ initContainers: [init1], restartPolicy: "OnFailure" }), [
      cs("init1", "exited", { exitCode: 1 }),
    ]);
    expect(status.phase).toBe("Pending");
  });

  it("a crash-looping init container keeps the pod Pending with the crash in lastState", () => {
    const status = generate(pod({ initContainers: [init1] }), [cs("init1", "exited", { exitCode: 1 })], {
      lastSyncErrors: new Map([["init1", { reason: "CrashLoopBackOff", message: "back-off" }]]),
    });
    const s = container(status, "init1");
    expect(s.state?.waiting?.reason).toBe("CrashLoopBackOff");
    expect(s.lastState?.terminated?.exitCode).toBe(1);
    expect(status.phase).toBe("Pending");
  });

  it("an init container that succeeded is not restarted even with a stale sync error", () => {
    const status = generate(
      pod({ initContainers: [init1] }),
      [cs("init1", "exited", { exitCode: 0 }), cs("app", "running")],
      { lastSyncErrors: new Map([["init1", { reason: "CrashLoopBackOff", message: "old" }]]) },
    );
    expect(container(status, "init1").state?.terminated?.reason).toBe("Completed");
    expect(status.phase).toBe("Running");
  });

  it("is Pending while a sidecar has not started, Running once it has", () => {
    const p = pod({ initContainers: [sidecar] });
    const notStarted = cs("sidecar", "running");
    const pending = generate(p, [notStarted], { started: () => false });
    expect(pending.phase).toBe("Pending");
    expect(condition(pending, "Initialized")).toMatchObject({
      status: "False",
      reason: "ContainersNotInitialized",
      message: "containers with incomplete status: [sidecar]",
    });
    expect(container(pending, "app").state).toEqual({ waiting: { reason: "PodInitializing" } });
    const status = generate(p, [cs("sidecar", "running"), cs("app", "running")]);
    expect(status.phase).toBe("Running");
  });

  it("a sidecar restarting after the pod initialized does not make it Pending", () => {
    const p = pod({ initContainers: [sidecar] });
    const status = generate(p, [cs("sidecar", "exited", { exitCode: 1 }), cs("app", "running")], {
      lastSyncErrors: new Map([["sidecar", { reason: "CrashLoopBackOff", message: "back-off" }]]),
    });
    expect(container(status, "sidecar").state?.waiting?.reason).toBe("CrashLoopBackOff");
    expect(status.phase).toBe("Running");
    expect(condition(status, "Initialized")?.status).toBe("True");
  });

  it("a crashed sidecar is restarted even under Never", () => {
    const p = pod({ initContainers: [sidecar], restartPolicy: "Never" });
    const status = generate(p, [cs("sidecar", "exited", { exitCode: 1 }), cs("app", "running")], {
      lastSyncErrors: new Map([["sidecar", { reason: "CrashLoopBackOff", message: "back-off" }]]),
    });
    expect(container(status, "sidecar").state?.waiting?.reason).toBe("CrashLoopBackOff");
    expect(container(status, "sidecar").lastState?.terminated?.exitCode).toBe(1);
  });

  it("a stopped sidecar does not count when the regular containers finished", () => {
    const p = pod({ initContainers: [sidecar], restartPolicy: "Never" });
    const status = generate(p, [
      cs("sidecar", "exited", { exitCode: 137 }),
      cs("app", "exited", { exitCode: 0 }),
    ]);
    expect(status.phase).toBe("Succeeded");
  });

  it("a terminal phase is kept", () => {
    const before = generate(pod({ restartPolicy: "Never" }), [cs("app", "exited", { exitCode: 0 })]);
    expect(before.phase).toBe("Succeeded");
    const status = generate(pod({ restartPolicy: "Never" }), [cs("app", "created")], { previous: before });
    expect(status.phase).toBe("Succeeded");
    expect(podIsTerminal(status)).toBe(true);
  });

  it("a terminal pod whose containers stopped is Succeeded or Failed whatever its policy", () => {
    expect(generate(pod(), [cs("app", "exited", { exitCode: 0 })], { terminal: true }).phase).toBe(
      "Succeeded",
    );
    expect(generate(pod(), [cs("app", "exited", { exitCode: 2 })], { terminal: true }).phase).toBe("Failed");
  });

  it("podIsTerminal", () => {
    expect(podIsTerminal({ phase: "Failed" })).toBe(true);
    expect(podIsTerminal({ phase: "Succeeded" })).toBe(true);
    expect(podIsTerminal({ phase: "Running" })).toBe(false);
    expect(podIsTerminal({})).toBe(false);
  });
});

describe("conditions", () => {
  it("are listed in the kubelet's order with reasons and messages", () => {
    const p = pod({ containers: [app, web], initContainers: [init1, init2] });
    const status = generate(p, [cs("init1", "running")]);
    expect(status.conditions).toEqual([
      {
        type: "PodReadyToStartContainers",
        status: "True",
        lastProbeTime: null,
        lastTransitionTime: NOW_TEXT,
      },
      {
        type: "Initialized",
        status: "False",
        reason: "ContainersNotInitialized",
        message: "containers with incomplete status: [init1 init2]",
        lastProbeTime: null,
        lastTransitionTime: NOW_TEXT,
      },
      {
        type: "Ready",
        status: "False",
        reason: "ContainersNotReady",
        message: "containers with unready status: [app web]",
        lastProbeTime: null,
        lastTransitionTime: NOW_TEXT,
      },
      {
        type: "ContainersReady",
        status: "False",
        reason: "ContainersNotReady",
        message: "containers with unready status: [app web]",
        lastProbeTime: null,
        lastTransitionTime: NOW_TEXT,
      },
      { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: NOW_TEXT },
    ]);
  });

  it("PodReadyToStartContainers is False without a ready sandbox with an IP", () => {
    const input = {
      pod: pod(),
      lastSyncErrors: new Map(),
      readiness: () => true,
      started: () => undefined,
      hostIPs: [],
      now: NOW,
    };
    const none = generatePodStatus({ ...input, podStatus: podStatus([], false) });
    expect(condition(none, "PodReadyToStartContainers")?.status).toBe("False");
    const notReady = generatePodStatus({
      ...input,
      podStatus: { ...podStatus([]), sandboxStatuses: [sandbox(false)] },
    });
    expect(condition(notReady, "PodReadyToStartContainers")?.status).toBe("False");
    const noIP = generatePodStatus({
      ...input,
      podStatus: { ...podStatus([]), sandboxStatuses: [sandbox(true, "")] },
    });
    expect(condition(noIP, "PodReadyToStartContainers")?.status).toBe("False");
  });

  it("keep lastTransitionTime while their status is unchanged", () => {
    const earlier = new Date("2026-01-01T00:00:00Z");
    const first = generate(pod(), [cs("app", "running")], { now: earlier, readiness: () => false });
    const second = generate(pod(), [cs("app", "running")], { previous: first, readiness: () => true });
    expect(condition(second, "PodScheduled")?.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
    expect(condition(second, "Initialized")?.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
    expect(condition(second, "Ready")).toMatchObject({ status: "True", lastTransitionTime: NOW_TEXT });
    expect(condition(second, "ContainersReady")?.lastTransitionTime).toBe(NOW_TEXT);
  });

  it("after success, Ready is False with PodCompleted and Initialized True with PodCompleted", () => {
    const status = generate(pod({ restartPolicy: "Never", initContainers: [init1] }), [
      cs("init1", "exited", { exitCode: 0 }),
      cs("app", "exited", { exitCode: 0 }),
    ]);
    expect(status.phase).toBe("Succeeded");
    expect(condition(status, "Ready")).toMatchObject({ status: "False", reason: "PodCompleted" });
    expect(condition(status, "ContainersReady")).toMatchObject({ status: "False", reason: "PodCompleted" });
    expect(condition(status, "Initialized")).toMatchObject({ status: "True", reason: "PodCompleted" });
  });

  it("after failure, Ready is False with PodFailed", () => {
    const status = generate(pod({ restartPolicy: "Never" }), [cs("app", "exited", { exitCode: 1 })]);
    expect(condition(status, "Ready")).toMatchObject({ status: "False", reason: "PodFailed" });
  });
});

describe("pod-level fields", () => {
  it("podIP(s), hostIP(s), startTime, qosClass", () => {
    const status = generatePodStatus({
      pod: pod(),
      podStatus: podStatus([cs("app", "running")], true, ["fd00::5", "10.1.0.5"]),
      lastSyncErrors: new Map(),
      readiness: () => true,
      started: () => undefined,
      hostIPs: ["192.168.1.10", "fd00::10"],
      now: NOW,
    });
    expect(status.podIP).toBe("10.1.0.5");
    expect(status.podIPs).toEqual([{ ip: "10.1.0.5" }, { ip: "fd00::5" }]);
    expect(status.hostIP).toBe("192.168.1.10");
    expect(status.hostIPs).toEqual([{ ip: "192.168.1.10" }, { ip: "fd00::10" }]);
    expect(status.startTime).toBe(NOW_TEXT);
    expect(status.qosClass).toBe("BestEffort");
  });

  it("keeps the first startTime", () => {
    const first = generate(pod(), [], { now: new Date("2026-01-01T00:00:00Z") });
    expect(generate(pod(), [cs("app", "running")], { previous: first }).startTime).toBe(
      "2026-01-01T00:00:00Z",
    );
  });

  it("a host-network pod has the node's IP", () => {
    const status = generatePodStatus({
      pod: pod({ hostNetwork: true }),
      podStatus: podStatus([cs("app", "running")], true, []),
      lastSyncErrors: new Map(),
      readiness: () => true,
      started: () => undefined,
      hostIPs: ["192.168.1.10"],
      now: NOW,
    });
    expect(status.podIP).toBe("192.168.1.10");
    expect(status.podIPs).toEqual([{ ip: "192.168.1.10" }]);
  });

  it("qosClass Guaranteed when every container limits cpu and memory", () => {
    const guaranteed = pod({
      containers: [{ ...app, resources: { limits: { cpu: "100m", memory: "64Mi" } } }],
    });
    expect(generate(guaranteed, []).qosClass).toBe("Guaranteed");
  });

  it("orders init container statuses as in the spec and container statuses by name", () => {
    const p = pod({ containers: [web, app], initContainers: [init2, init1] });
    const status = generate(p, []);
    expect(status.initContainerStatuses?.map((s) => s.name)).toEqual(["init2", "init1"]);
    expect(status.containerStatuses?.map((s) => s.name)).toEqual(["app", "web"]);
  });

  it("an init container removed from the runtime after the pod initialized is Completed", () => {
    const status = generate(pod({ initContainers: [init1] }), [cs("app", "running")]);
    expect(container(status, "init1").state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(status.phase).toBe("Running");
  });

  it("keeps the reason and message of an unchanged phase", () => {
    const previous: V1PodStatus = { phase: "Running", reason: "Because", message: "so it is" };
    const status = generate(pod(), [cs("app", "running")], { previous });
    expect(status).toMatchObject({ phase: "Running", reason: "Because", message: "so it is" });
  });
});
