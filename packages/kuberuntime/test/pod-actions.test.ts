import { NamespaceMode, PodSandboxState, PodSandboxStatus } from "@nodelet/cri-api";
import {
  type ContainerStatus,
  type PodStatus,
  type ProbeResults,
  shouldContainerBeRestarted,
  type V1Container,
  type V1Pod,
} from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { hashContainer } from "../src/container-hash.js";
import { computePodActions, podSandboxChanged } from "../src/pod-actions.js";

const app: V1Container = { name: "app", image: "busybox:1.36" };
const web: V1Container = { name: "web", image: "busybox:1.36" };

function pod(spec: Partial<V1Pod["spec"]> = {}): V1Pod {
  return { metadata: { name: "p", namespace: "default", uid: "u1" }, spec: { containers: [app], ...spec } };
}

function sandbox(attempt: number, ready = true, ip = "10.1.0.5", network = NamespaceMode.POD) {
  return PodSandboxStatus.fromPartial({
    id: `sb${attempt}`,
    metadata: { name: "p", namespace: "default", uid: "u1", attempt },
    state: ready ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY,
    network: { ip },
    linux: { namespaces: { options: { network } } },
    createdAt: BigInt(attempt + 1),
  });
}

let seq = 0;
function cs(
  container: V1Container,
  state: ContainerStatus["state"],
  exitCode = 0,
  extra: Partial<ContainerStatus> = {},
): ContainerStatus {
  seq++;
  return {
    id: { type: "containerd", id: `${container.name}-${seq}` },
    name: container.name,
    state,
    createdAt: new Date(seq * 1000),
    startedAt: new Date(seq * 1000),
    finishedAt: state === "exited" ? new Date(seq * 1000 + 500) : undefined,
    exitCode,
    image: container.image ?? "",
    imageID: "sha256:1",
    imageRef: "sha256:1",
    imageRuntimeHandler: "",
    hash: hashContainer(container),
    restartCount: 0,
    reason: "",
    message: "",
    containerType: "container",
    logPath: "",
    ...extra,
  };
}

function status(sandboxes: ReturnType<typeof sandbox>[], containers: ContainerStatus[]): PodStatus {
  return {
    id: "u1",
    name: "p",
    namespace: "default",
    ips: [],
    sandboxStatuses: sandboxes,
    containerStatuses: containers,
    timestamp: 0,
  };
}

describe("podSandboxChanged", () => {
  it("creates the first sandbox with attempt 0", () => {
    expect(podSandboxChanged(pod(), status([], []))).toEqual({ create: true, attempt: 0, sandboxId: "" });
  });
  it("recreates a not-ready sandbox with the next attempt", () => {
    expect(podSandboxChanged(pod(), status([sandbox(2, false)], []))).toEqual({
      create: true,
      attempt: 3,
      sandboxId: "sb2",
    });
  });
  it("recreates when the network mode flips, without an id to reuse", () => {
    expect(podSandboxChanged(pod({ hostNetwork: true }), status([sandbox(0)], []))).toEqual({
      create: true,
      attempt: 1,
      sandboxId: "",
    });
  });
  it("recreates a pod-network sandbox without an IP", () => {
    expect(podSandboxChanged(pod(), status([sandbox(0, true, "")], [])).create).toBe(true);
  });
  it("keeps a ready sandbox", () => {
    expect(podSandboxChanged(pod(), status([sandbox(0)], []))).toEqual({
      create: false,
      attempt: 0,
      sandboxId: "sb0",
    });
  });
});

describe("computePodActions", () => {
  it("starts every container in a new sandbox", () => {
    const a = computePodActions(pod({ containers: [app, web] }), status([], []));
    expect(a).toMatchObject({ createSandbox: true, killPod: true, attempt: 0, containersToStart: [0, 1] });
  });

  it("starts only the first init container in a new sandbox", () => {
    const a = computePodActions(pod({ initContainers: [{ name: "i1", image: "x:1" }] }), status([], []));
    expect(a.initContainersToStart).toEqual([0]);
    expect(a.containersToStart).toEqual([]);
  });

  it("does not give a finished Never pod a new sandbox, only kills it", () => {
    const a = computePodActions(
      pod({ restartPolicy: "Never" }),
      status([sandbox(0, false)], [cs(app, "exited", 0)]),
    );
    expect(a).toMatchObject({ createSandbox: false, killPod: true });
  });

  it("keeps a running container and restarts nothing", () => {
    const a = computePodActions(pod(), status([sandbox(0)], [cs(app, "running")]));
    expect(a).toMatchObject({ killPod: false, createSandbox: false, containersToStart: [] });
    expect(a.containersToKill.size).toBe(0);
  });

  it("restarts a container whose image changed, even under Never", () => {
    const old = cs({ ...app, image: "busybox:1.35" }, "running");
    const a = computePodActions(pod({ restartPolicy: "Never" }), status([sandbox(0)], [old]));
    expect(a.containersToStart).toEqual([0]);
    expect([...a.containersToKill.values()][0]?.message).toBe(
      "Container app definition changed, will be restarted",
    );
  });

  it("does not restart a completed container under Never, and kills the finished pod", () => {
    const a = computePodActions(
      pod({ restartPolicy: "Never" }),
      status([sandbox(0)], [cs(app, "exited", 0)]),
    );
    expect(a.containersToStart).toEqual([]);
    expect(a.killPod).toBe(true);
  });

  it("restarts only failures under OnFailure", () => {
    const onFailure = pod({ restartPolicy: "OnFailure", containers: [app, web] });
    const a = computePodActions(
      onFailure,
      status([sandbox(0)], [cs(app, "exited", 0), cs(web, "exited", 1)]),
    );
    expect(a.containersToStart).toEqual([1]);
  });

  it("starts created and unknown containers even under Never", () => {
    expect(
      shouldContainerBeRestarted(app, pod({ restartPolicy: "Never" }), status([], [cs(app, "created")])),
    ).toBe(true);
    const a = computePodActions(pod({ restartPolicy: "Never" }), status([sandbox(0)], [cs(app, "unknown")]));
    expect(a.containersToStart).toEqual([0]);
    expect([...a.containersToKill.values()][0]?.reason).toBe("Unknown");
  });

  it("kills a container that failed its liveness probe and restarts it", () => {
    const running = cs(app, "running");
    const probes: ProbeResults = {
      liveness: (id) => (id.id === running.id.id ? "Failure" : undefined),
      startup: () => undefined,
    };
    const a = computePodActions(pod(), status([sandbox(0)], [running]), probes);
    expect(a.containersToStart).toEqual([0]);
    expect([...a.containersToKill.values()][0]).toMatchObject({ reason: "LivenessProbe" });
  });

  it("runs init containers one at a time, in order", () => {
    const i1 = { name: "i1", image: "x:1" };
    const i2 = { name: "i2", image: "x:1" };
    const spec = pod({ initContainers: [i1, i2], containers: [app] });
    expect(computePodActions(spec, status([sandbox(0)], [])).initContainersToStart).toEqual([0]);
    expect(computePodActions(spec, status([sandbox(0)], [cs(i1, "running")])).initContainersToStart).toEqual(
      [],
    );
    const afterFirst = computePodActions(spec, status([sandbox(0)], [cs(i1, "exited", 0)]));
    expect(afterFirst.initContainersToStart).toEqual([1]);
    expect(afterFirst.containersToStart).toEqual([]);
    const done = computePodActions(spec, status([sandbox(0)], [cs(i2, "exited", 0), cs(i1, "exited", 0)]));
    expect(done.initContainersToStart).toEqual([]);
    expect(done.containersToStart).toEqual([0]);
  });

  it("fails the pod when an init container fails under Never, retries it otherwise", () => {
    const i1 = { name: "i1", image: "x:1" };
    const never = computePodActions(
      pod({ restartPolicy: "Never", initContainers: [i1] }),
      status([sandbox(0)], [cs(i1, "exited", 1)]),
    );
    expect(never).toMatchObject({ killPod: true, initContainersToStart: [], containersToStart: [] });
    const always = computePodActions(
      pod({ initContainers: [i1] }),
      status([sandbox(0)], [cs(i1, "exited", 1)]),
    );
    expect(always).toMatchObject({ killPod: false, initContainersToStart: [0] });
  });

  it("treats a running sidecar as initialised and starts the next step", () => {
    const sidecar: V1Container = { name: "side", image: "x:1", restartPolicy: "Always" };
    const spec = pod({ initContainers: [sidecar], containers: [app] });
    const a = computePodActions(spec, status([sandbox(0)], [cs(sidecar, "running")]));
    expect(a.containersToStart).toEqual([0]);
    const withApp = computePodActions(
      spec,
      status([sandbox(0)], [cs(app, "running"), cs(sidecar, "exited", 0)]),
    );
    expect(withApp.initContainersToStart).toEqual([0]); // an exited sidecar always comes back
  });

  it("does not let a sidecar keep a finished pod alive", () => {
    const sidecar: V1Container = { name: "side", image: "x:1", restartPolicy: "Always" };
    const spec = pod({ restartPolicy: "Never", initContainers: [sidecar], containers: [app] });
    const a = computePodActions(spec, status([sandbox(0)], [cs(app, "exited", 0), cs(sidecar, "running")]));
    expect(a.killPod).toBe(true);
    expect(a.initContainersToStart).toEqual([]);
  });
});
