// readPodStatus with the status memo (issue 14): a pod's status read asks the runtime only about
// sandboxes and containers that are new or changed state since the last read; what it returns is
// what a full read returns.
import { createFakeRuntime } from "@nodelet/cri-testing";
import { createBackoff, findContainerStatusByName, KUBELET_BACKOFF, type V1Pod } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { createStatusMemo } from "../src/status-memo.js";
import { createManagerOverFake } from "./support/fake-manager.js";

const pod: V1Pod = {
  metadata: { name: "web", namespace: "prod", uid: "uid-web" },
  spec: {
    containers: [{ name: "app", image: "busybox:1.36", command: ["sleep", "3600"] }],
    terminationGracePeriodSeconds: 2,
  },
};

async function setup() {
  const fake = createFakeRuntime();
  const { manager } = await createManagerOverFake({}, fake);
  const read = () => manager.getPodStatus("uid-web", "web", "prod");
  const statusCalls = () => ({
    sandbox: fake.calls("PodSandboxStatus").length,
    container: fake.calls("ContainerStatus").length,
  });
  return { fake, manager, read, statusCalls };
}

describe("readPodStatus with the status memo", () => {
  it("reads each object's status once while its state holds, and again once it changes", async () => {
    const { fake, manager, read, statusCalls } = await setup();
    const backOff = createBackoff(KUBELET_BACKOFF);
    await manager.syncPod(pod, await read(), [], backOff);
    // The sync read the new sandbox's status itself: the memo has it.
    const afterSync = statusCalls();
    const first = await read();
    expect(statusCalls()).toEqual({ sandbox: afterSync.sandbox, container: afterSync.container + 1 });
    const again = await read();
    expect(statusCalls()).toEqual({ sandbox: afterSync.sandbox, container: afterSync.container + 1 });
    expect(again.containerStatuses).toEqual(first.containerStatuses);
    expect(again.ips).toEqual(first.ips);
    expect(again.ips.length).toBeGreaterThan(0);

    // The container exits: the list shows a new state, so its status is read again.
    const id = findContainerStatusByName(first, "app")?.id.id ?? "";
    fake.exitContainer(id, 3);
    const exited = await read();
    expect(statusCalls().container).toBe(afterSync.container + 2);
    expect(findContainerStatusByName(exited, "app")).toMatchObject({ state: "exited", exitCode: 3 });
    await read();
    expect(statusCalls().container).toBe(afterSync.container + 2);
  });

  it("asks about a container the sync started or stopped together with the list, not after it", async () => {
    const { fake, manager, read } = await setup();
    const backOff = createBackoff(KUBELET_BACKOFF);
    await manager.syncPod(pod, await read(), [], backOff);
    const methodsOf = async () => {
      const from = fake.calls().length;
      const status = await read();
      return {
        status,
        methods: fake
          .calls()
          .slice(from)
          .map((c) => c.method),
      };
    };
    const started = await methodsOf();
    expect(started.methods).toEqual(["ContainerStatus", "ListPodSandbox", "ListContainers"]);
    expect(findContainerStatusByName(started.status, "app")?.state).toBe("running");
    // Asked once: the next read keeps it (running, listed running).
    expect((await methodsOf()).methods).toEqual(["ListPodSandbox", "ListContainers"]);

    const running = (await manager.getPods(false)).find((p) => p.id === "uid-web");
    if (!running) throw new Error("the pod is not running");
    await manager.killPod(pod, running, 0);
    const stopped = await methodsOf();
    expect(stopped.methods.slice(0, 1)).toEqual(["ContainerStatus"]);
    expect(findContainerStatusByName(stopped.status, "app")?.state).toBe("exited");
  });

  it("forgets removed objects and pods, and keeps at most maxPods pods", () => {
    const memo = createStatusMemo(2);
    const sandbox = (id: string) => ({ id, state: 0 }) as never;
    memo.store("a", [sandbox("s1")], []);
    expect(memo.sandbox("a", "s1", 0)).toBeDefined();
    expect(memo.sandbox("a", "s1", 1)).toBeUndefined(); // listed NOTREADY now: read again
    memo.store("a", [], []);
    expect(memo.size()).toBe(0);
    memo.store("a", [sandbox("s1")], []);
    memo.store("b", [sandbox("s2")], []);
    memo.store("c", [sandbox("s3")], []);
    expect(memo.size()).toBe(2);
    expect(memo.sandbox("a", "s1", 0)).toBeUndefined();
    expect(memo.sandbox("c", "s3", 0)).toBeDefined();
  });
});
