import { ContainerFilter, PodSandboxFilter } from "@nodelet/cri-api";
import {
  type ContainerStatus,
  createBackoff,
  createManualClock,
  findContainerStatusByName,
  KUBELET_BACKOFF,
} from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busybox, createHarness, type Harness } from "./support.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});

const state = (s: ContainerStatus | undefined) => s?.state;

describe("syncPod against containerd", () => {
  it("brings up a two-container pod with the labels crictl shows", async () => {
    const pod = h.pod("two", [
      busybox(h.env, "web", ["sleep", "3600"]),
      busybox(h.env, "side", ["sleep", "3600"]),
    ]);
    const result = await h.sync(pod);
    expect(result.error()).toBeUndefined();
    expect(result.syncResults.map((r) => `${r.action}:${r.target}`)).toEqual([
      // As the kubelet: a new sandbox starts with killing whatever the pod had (here nothing).
      `KillPodSandbox:${pod.metadata.uid}`,
      `CreatePodSandbox:${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
      expect.stringMatching(/^ConfigPodSandbox:[0-9a-f]{64}$/),
      "StartContainer:web",
      "StartContainer:side",
    ]);
    const status = await h.status(pod);
    expect(status.containerStatuses.map((c) => c.state)).toEqual(["running", "running"]);
    expect(status.ips[0]).toMatch(/^10\./);

    const [sandbox] = await h.runtime.listPodSandbox(
      PodSandboxFilter.fromPartial({ labelSelector: { "io.kubernetes.pod.uid": pod.metadata.uid ?? "" } }),
    );
    expect(sandbox?.labels).toMatchObject({
      "io.kubernetes.pod.name": "two",
      "io.kubernetes.pod.namespace": pod.metadata.namespace,
      "io.kubernetes.pod.uid": pod.metadata.uid,
      "io.nodelet.managed-by": "nodelet",
    });
    const containers = await h.runtime.listContainers(
      ContainerFilter.fromPartial({ labelSelector: { "io.kubernetes.pod.uid": pod.metadata.uid ?? "" } }),
    );
    const web = containers.find((c) => c.metadata?.name === "web");
    expect(Object.keys(web?.labels ?? {}).sort()).toEqual([
      "io.kubernetes.container.name",
      "io.kubernetes.pod.name",
      "io.kubernetes.pod.namespace",
      "io.kubernetes.pod.uid",
      "io.nodelet.managed-by",
    ]);
    expect(web?.annotations).toMatchObject({
      "io.kubernetes.container.restartCount": "0",
      "io.kubernetes.container.terminationMessagePath": "/dev/termination-log",
      "io.kubernetes.container.hash": expect.stringMatching(/^[0-9a-f]+$/),
    });
    // A second sync of a healthy pod changes nothing.
    const again = await h.sync(pod);
    expect(
      again.syncResults.filter((r) => r.action === "StartContainer" || r.action === "CreatePodSandbox"),
    ).toEqual([]);
  });

  it("runs init containers in order before the app container", async () => {
    const pod = h.pod("inits", [busybox(h.env, "app", ["sleep", "3600"])], {
      volumes: [{ name: "work", emptyDir: {} }],
      initContainers: [
        busybox(h.env, "first", ["sh", "-c", "echo first >> /work/order"], {
          volumeMounts: [{ name: "work", mountPath: "/work" }],
        }),
        busybox(h.env, "second", ["sh", "-c", "echo second >> /work/order"], {
          volumeMounts: [{ name: "work", mountPath: "/work" }],
        }),
      ],
    });
    pod.spec.containers = [
      busybox(h.env, "app", ["sleep", "3600"], { volumeMounts: [{ name: "work", mountPath: "/work" }] }),
    ];
    const app = await h.waitFor("the app container to run", async () => {
      await h.sync(pod);
      const s = findContainerStatusByName(await h.status(pod), "app");
      return s?.state === "running" ? s : undefined;
    });
    const out = await h.manager.runInContainer(app.id, ["cat", "/work/order"], 10);
    expect(out.toString()).toBe("first\nsecond\n");
  });

  it("fails the pod when an init container fails under Never", async () => {
    const pod = h.pod("init-fails", [busybox(h.env, "app", ["sleep", "3600"])], {
      restartPolicy: "Never",
      initContainers: [busybox(h.env, "broken", ["sh", "-c", "exit 3"])],
    });
    await h.sync(pod);
    await h.waitFor(
      "the init container to exit",
      async () => state(findContainerStatusByName(await h.status(pod), "broken")) === "exited",
    );
    await h.sync(pod); // sees the failure: kills the pod
    const status = await h.status(pod);
    expect(findContainerStatusByName(status, "broken")?.exitCode).toBe(3);
    expect(findContainerStatusByName(status, "app")).toBeUndefined();
    expect(status.sandboxStatuses[0]?.state).toBe(1); // SANDBOX_NOTREADY
    await h.sync(pod); // and does not come back
    expect(findContainerStatusByName(await h.status(pod), "app")).toBeUndefined();
  });

  it("keeps a sidecar running while the app containers start", async () => {
    const pod = h.pod("sidecar", [busybox(h.env, "app", ["sleep", "3600"])], {
      initContainers: [busybox(h.env, "proxy", ["sleep", "3600"], { restartPolicy: "Always" })],
    });
    await h.waitFor("app and sidecar to run", async () => {
      await h.sync(pod);
      const s = await h.status(pod);
      return (
        state(findContainerStatusByName(s, "app")) === "running" &&
        state(findContainerStatusByName(s, "proxy")) === "running"
      );
    });
    const s = await h.status(pod);
    expect(findContainerStatusByName(s, "proxy")?.containerType).toBe("init");
  });

  it("restarts a container whose image changed", async () => {
    const pod = h.pod("image-change", [busybox(h.env, "app", ["sleep", "3600"])]);
    await h.sync(pod);
    const before = findContainerStatusByName(await h.status(pod), "app");
    // A different image (busybox:latest is the same content as 1.36, so containerd would name either).
    const other = h.env.images.bench[1] as string;
    const changed = {
      ...pod,
      spec: { ...pod.spec, containers: [busybox(h.env, "app", ["sleep", "3600"], { image: other })] },
    };
    const result = await h.sync(changed);
    expect(result.syncResults.map((r) => r.action)).toEqual([
      "KillContainer",
      "ConfigPodSandbox",
      "StartContainer",
    ]);
    const after = findContainerStatusByName(await h.status(pod), "app");
    expect(after?.id.id).not.toBe(before?.id.id);
    expect(after?.image).toBe(other);
    expect(after?.restartCount).toBe(1);
    expect(
      h.events.some(
        (e) =>
          e.pod === "image-change" && e.message === "Container app definition changed, will be restarted",
      ),
    ).toBe(true);
  });

  it("does not restart a completed container of a Never pod", async () => {
    const pod = h.pod("never", [busybox(h.env, "job", ["true"])], { restartPolicy: "Never" });
    await h.sync(pod);
    await h.waitFor(
      "the job to finish",
      async () => state(findContainerStatusByName(await h.status(pod), "job")) === "exited",
    );
    await h.sync(pod);
    await h.sync(pod);
    const status = await h.status(pod);
    expect(status.containerStatuses.filter((c) => c.name === "job")).toHaveLength(1);
  });

  it("restarts only failures under OnFailure", async () => {
    const pod = h.pod(
      "onfailure",
      [busybox(h.env, "ok", ["true"]), busybox(h.env, "bad", ["sh", "-c", "exit 1"])],
      {
        restartPolicy: "OnFailure",
      },
    );
    await h.sync(pod);
    await h.waitFor("both to exit", async () => {
      const s = await h.status(pod);
      return (
        state(findContainerStatusByName(s, "ok")) === "exited" &&
        state(findContainerStatusByName(s, "bad")) === "exited"
      );
    });
    const result = await h.sync(pod);
    expect(result.syncResults.filter((r) => r.action === "StartContainer").map((r) => r.target)).toEqual([
      "bad",
    ]);
    const s = await h.status(pod);
    expect(s.containerStatuses.filter((c) => c.name === "ok")).toHaveLength(1);
    expect(s.containerStatuses.filter((c) => c.name === "bad")).toHaveLength(2);
  });

  it("backs off a crashing container: the first restart is immediate, the next waits", async () => {
    const clock = createManualClock(Date.now());
    const backoff = createBackoff({ ...KUBELET_BACKOFF, clock });
    const pod = h.pod("crash", [busybox(h.env, "crash", ["sh", "-c", "exit 2"])]);
    await h.sync(pod, backoff);
    await h.waitFor(
      "the first crash",
      async () => state(findContainerStatusByName(await h.status(pod), "crash")) === "exited",
    );
    clock.set(Date.now());
    const first = await h.sync(pod, backoff); // first crash: restarted at once (real time)
    expect(first.syncResults.find((r) => r.action === "StartContainer")?.error).toBeUndefined();
    await h.waitFor("the second crash", async () => {
      const s = await h.status(pod);
      return s.containerStatuses.filter((c) => c.name === "crash" && c.state === "exited").length === 2;
    });
    const newest = findContainerStatusByName(await h.status(pod), "crash");
    const finishedAt = newest?.finishedAt?.getTime() ?? 0;
    clock.set(finishedAt + 1000);
    const blocked = await h.sync(pod, backoff);
    const step = blocked.syncResults.find((r) => r.action === "StartContainer");
    expect(step?.error).toBe("CrashLoopBackOff");
    expect(step?.message).toMatch(/^back-off 10s restarting failed container=crash pod=crash_/);
    clock.set(finishedAt + 10_000);
    const allowed = await h.sync(pod, backoff);
    expect(allowed.syncResults.find((r) => r.action === "StartContainer")?.error).toBeUndefined();
    await h.waitFor("the third crash", async () => {
      const s = await h.status(pod);
      return s.containerStatuses.filter((c) => c.name === "crash" && c.state === "exited").length === 3;
    });
    const third = findContainerStatusByName(await h.status(pod), "crash");
    clock.set((third?.finishedAt?.getTime() ?? 0) + 19_999);
    const doubled = await h.sync(pod, backoff);
    expect(doubled.syncResults.find((r) => r.action === "StartContainer")?.message).toMatch(/^back-off 20s/);
    expect(third?.restartCount).toBe(2);
  });

  it("restarts a crash-looping container at once when its image is fixed under the same UID", async () => {
    const clock = createManualClock(Date.now());
    const backoff = createBackoff({ ...KUBELET_BACKOFF, clock });
    const pod = h.pod("fixed", [busybox(h.env, "app", ["sh", "-c", "exit 2"])]);
    const exited = async (n: number) =>
      h.waitFor(`crash ${n}`, async () => {
        const s = await h.status(pod);
        return s.containerStatuses.filter((c) => c.name === "app" && c.state === "exited").length === n;
      });
    await h.sync(pod, backoff);
    await exited(1);
    clock.set(Date.now());
    await h.sync(pod, backoff); // the first crash restarts at once
    await exited(2);
    const newest = findContainerStatusByName(await h.status(pod), "app");
    clock.set((newest?.finishedAt?.getTime() ?? 0) + 1000);
    const blocked = await h.sync(pod, backoff);
    expect(blocked.syncResults.find((r) => r.action === "StartContainer")?.error).toBe("CrashLoopBackOff");

    // The same pod (same UID) with another image: a new spec hash, so a new backoff key.
    const fixed = {
      ...pod,
      spec: {
        ...pod.spec,
        containers: [busybox(h.env, "app", ["sleep", "3600"], { image: h.env.images.busyboxLatest })],
      },
    };
    const restarted = await h.sync(fixed, backoff);
    const step = restarted.syncResults.find((r) => r.action === "StartContainer");
    expect(step?.error).toBeUndefined();
    await h.waitFor(
      "the fixed container to run",
      async () => state(findContainerStatusByName(await h.status(pod), "app")) === "running",
    );
  });
});
