// Manifests appearing, changing and disappearing, and what the HTTP API says about the pods
// compared with what containerd says.
import { unlink } from "node:fs/promises";
import type { V1Pod } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allRunning,
  ContainerState,
  closeAgentSuite,
  containerStatus,
  type Dirs,
  openAgentSuite,
  podManifest,
  RUN_UNTIL_TERM,
  type RunningAgent,
  type RuntimeHarness,
  readySandboxes,
  runtimeId,
  waitForKilled,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: RunningAgent;

beforeAll(async () => {
  ({ h, dirs, agent } = await openAgentSuite("manifests"));
});

afterAll(async () => {
  await closeAgentSuite(agent, h);
});

describe("static pod manifests", () => {
  let first: V1Pod;

  it("runs a pod when its manifest appears, with the runtime's container id in /pods", async () => {
    await writeManifest(
      h.env,
      dirs.manifests,
      "web.yaml",
      podManifest("web", [{ name: "main", command: RUN_UNTIL_TERM }]),
    );
    first = await agent.api.waitForPod("web", "running", allRunning);
    const uid = first.metadata.uid ?? "";
    expect(uid).toMatch(/^[0-9a-f]{32}$/);
    expect(first.metadata.namespace).toBe("default");
    const status = containerStatus(first, "main");
    const id = runtimeId(status?.containerID);

    const containers = await h.containers(uid);
    expect(containers.map((c) => c.id)).toEqual([id]);
    expect(containers[0]?.state).toBe(ContainerState.CONTAINER_RUNNING);
    const inRuntime = (await h.runtime.containerStatus(id, false)).status;
    expect(inRuntime?.metadata?.name).toBe("main");
    expect(inRuntime?.state).toBe(ContainerState.CONTAINER_RUNNING);
    expect(inRuntime?.labels["io.kubernetes.pod.name"]).toBe("web-testnode");
    expect(status?.restartCount).toBe(0);
    expect(status?.ready).toBe(true);
  });

  it("replaces the pod when its manifest changes: the old UID is killed, a new UID runs", async () => {
    const oldUid = first.metadata.uid ?? "";
    await writeManifest(
      h.env,
      dirs.manifests,
      "web.yaml",
      podManifest("web", [{ name: "main", command: RUN_UNTIL_TERM, env: [{ name: "VERSION", value: "2" }] }]),
    );
    const second = await agent.api.waitForPod(
      "web",
      "a new UID running",
      (p) => p.metadata.uid !== oldUid && allRunning(p),
    );
    await waitForKilled(h, oldUid);
    const newUid = second.metadata.uid ?? "";
    const id = runtimeId(containerStatus(second, "main")?.containerID);
    const containers = await h.containers(newUid);
    expect(containers.map((c) => [c.id, c.state])).toEqual([[id, ContainerState.CONTAINER_RUNNING]]);
    // The old pod's container stopped and no longer shows in /pods.
    const old = await h.containers(oldUid);
    expect(old.length).toBeGreaterThan(0);
    expect(old.every((c) => c.state === ContainerState.CONTAINER_EXITED)).toBe(true);
    expect((await agent.api.pods()).filter((p) => p.metadata.name === "web-testnode")).toHaveLength(1);
    first = second;
  });

  it("kills the pod when its manifest is removed", async () => {
    const uid = first.metadata.uid ?? "";
    await unlink(`${dirs.manifests}/web.yaml`);
    await agent.api.waitForGone("web");
    await waitForKilled(h, uid);
    const killing = agent.logs.find((l) => l.pod === "default/web-testnode" && l.reason === "Killing");
    expect(killing?.msg).toContain("Stopping container main");
  });

  it("runs the pod again when its manifest comes back while the pod is being killed (same UID)", async () => {
    // The container takes 2-3 s to stop on SIGTERM: the file is back well before that.
    const slowStop = ["sh", "-c", "trap 'sleep 2; exit 0' TERM; while true; do sleep 1; done"];
    const manifest = podManifest("again", [{ name: "main", command: slowStop }], {
      terminationGracePeriodSeconds: 10,
    });
    const path = await writeManifest(h.env, dirs.manifests, "again.yaml", manifest);
    const before = await agent.api.waitForPod("again", "running", allRunning);
    const uid = before.metadata.uid ?? "";
    const oldId = runtimeId(containerStatus(before, "main")?.containerID);
    await unlink(path);
    await agent.logs.waitFor("the kill of again to start", (l) => {
      return l.pod === "default/again-testnode" && l.reason === "Killing";
    });
    await writeManifest(h.env, dirs.manifests, "again.yaml", manifest);
    await agent.logs.waitFor("the agent to see it back during the kill", (l) => {
      return l.pod === "default/again-testnode" && l.msg.startsWith("pod added again while being killed");
    });
    const after = await agent.api.waitForPod(
      "again",
      "running in a new container",
      (p) => allRunning(p) && containerStatus(p, "main")?.containerID !== `containerd://${oldId}`,
    );
    expect(after.metadata.uid).toBe(uid);
    const containers = await h.containers(uid);
    expect(containers.map((c) => c.state)).toEqual([
      ContainerState.CONTAINER_RUNNING,
      ContainerState.CONTAINER_EXITED,
    ]);
    expect(containers[1]?.id).toBe(oldId);
    expect(await readySandboxes(h.runtime, uid)).toHaveLength(1);
    // And it stays: nothing (orphan cleanup included) kills it afterwards.
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await agent.api.pod("again"))?.status?.containerStatuses?.[0]?.containerID).toBe(
      containerStatus(after, "main")?.containerID,
    );
    expect((await h.containers(uid))[0]?.state).toBe(ContainerState.CONTAINER_RUNNING);
    await unlink(path);
    await agent.api.waitForGone("again");
    await waitForKilled(h, uid);
  });
});

describe("the HTTP API against the runtime", () => {
  let pod: V1Pod;

  beforeAll(async () => {
    await writeManifest(
      h.env,
      dirs.manifests,
      "pair.yaml",
      podManifest("pair", [
        { name: "one", command: RUN_UNTIL_TERM },
        { name: "two", command: RUN_UNTIL_TERM },
      ]),
    );
    pod = await agent.api.waitForPod("pair", "both containers running", allRunning);
  });

  it("/pods shows the runtime's containers, states and the sandbox IP", async () => {
    const uid = pod.metadata.uid ?? "";
    const containers = await h.containers(uid);
    expect(containers).toHaveLength(2);
    for (const name of ["one", "two"]) {
      const status = containerStatus(pod, name);
      const id = runtimeId(status?.containerID);
      const inRuntime = containers.find((c) => c.id === id);
      expect(inRuntime?.metadata?.name).toBe(name);
      expect(inRuntime?.state).toBe(ContainerState.CONTAINER_RUNNING);
      expect(status?.state?.running?.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(status?.imageID).toBe((await h.runtime.containerStatus(id, false)).status?.imageRef);
    }
    const sandboxes = await readySandboxes(h.runtime, uid);
    expect(sandboxes).toHaveLength(1);
    const sandbox = (await h.runtime.podSandboxStatus(sandboxes[0] as string, false)).status;
    expect(sandbox?.network?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(pod.status?.podIP).toBe(sandbox?.network?.ip);
    expect(pod.status?.podIPs).toEqual([{ ip: sandbox?.network?.ip }]);
    expect(pod.status?.phase).toBe("Running");
    expect(pod.status?.qosClass).toBe("BestEffort");
    expect(pod.status?.startTime).toMatch(/Z$/);
  });

  it("/runningpods lists the pod with its containers as the runtime has them", async () => {
    const running = await agent.api.runningPods();
    const entry = running.find((p) => p.metadata.uid === pod.metadata.uid);
    expect(entry?.metadata.name).toBe("pair-testnode");
    expect(entry?.metadata.namespace).toBe("default");
    expect(entry?.spec.containers.map((c) => c.name).sort()).toEqual(["one", "two"]);
    // The removed web pod (killed, not running) is not listed.
    expect(running.some((p) => p.metadata.name === "web-testnode")).toBe(false);
  });

  it("/metrics has the kubelet's metrics with values from this run", async () => {
    // Two relists at least, so the interval histogram has an observation.
    await new Promise((r) => setTimeout(r, 2_100));
    const res = await agent.api.get("/metrics");
    expect(res.status).toBe(200);
    expect(res.contentType).toContain("text/plain");
    const body = res.body;
    const value = (pattern: RegExp): number => {
      const match = pattern.exec(body);
      if (!match) throw new Error(`no ${pattern} in /metrics`);
      return Number(match[1]);
    };
    expect(
      value(/^kubelet_runtime_operations_total\{operation_type="run_podsandbox"\} (\d+)/m),
    ).toBeGreaterThanOrEqual(3);
    expect(value(/^kubelet_pod_start_duration_seconds_count (\d+)/m)).toBeGreaterThanOrEqual(3);
    expect(
      value(/^kubelet_pod_worker_duration_seconds_count\{operation_type="create"\} (\d+)/m),
    ).toBeGreaterThanOrEqual(3);
    expect(value(/^kubelet_pleg_relist_duration_seconds_count (\d+)/m)).toBeGreaterThan(1);
    expect(value(/^kubelet_pleg_relist_interval_seconds_count (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^kubelet_running_pods (\d+)/m)).toBe(1);
    expect(value(/^kubelet_restarted_pods_total\{static="true"\} (\d+)/m)).toBe(1);
    expect(value(/^kubelet_running_containers\{container_state="running"\} (\d+)/m)).toBe(2);
    expect(
      value(/^kubelet_started_containers_total\{container_type="container"\} (\d+)/m),
    ).toBeGreaterThanOrEqual(4);
  });
});
