// listPods converts a CRI container or sandbox once when the runtime service shares it between
// answers (frozen, as cri-remote does for unchanged items), and freshly otherwise.
import type { Container as CriContainer, PodSandbox } from "@nodelet/cri-api";
import { createFakeRuntime } from "@nodelet/cri-testing";
import { createBackoff, KUBELET_BACKOFF, type V1Pod } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { createManagerOverFake } from "./support/fake-manager.js";

const pod: V1Pod = {
  metadata: { name: "web", namespace: "prod", uid: "uid-web" },
  spec: { containers: [{ name: "app", image: "busybox:1.36", command: ["sleep", "3600"] }] },
};

/** Makes the fake answer like cri-remote: one frozen object per unchanged item. */
function shareUnchanged<T extends CriContainer | PodSandbox>(list: (...a: never[]) => Promise<T[]>) {
  const shared = new Map<string, T>();
  return async (...args: never[]) =>
    (await list(...args)).map((item) => {
      const key = JSON.stringify(item, (_k, v) => (typeof v === "bigint" ? String(v) : v));
      const known = shared.get(key) ?? Object.freeze(structuredClone(item));
      shared.set(key, known);
      return known;
    });
}

async function setup(shared: boolean) {
  const fake = createFakeRuntime();
  if (shared) {
    fake.listContainers = shareUnchanged(fake.listContainers.bind(fake));
    fake.listPodSandbox = shareUnchanged(fake.listPodSandbox.bind(fake));
  }
  const { manager } = await createManagerOverFake({}, fake);
  await manager.syncPod(
    pod,
    await manager.getPodStatus("uid-web", "web", "prod"),
    [],
    createBackoff(KUBELET_BACKOFF),
  );
  return { fake, manager };
}

describe("listPods and shared CRI objects", () => {
  it("reuses the conversion of a shared item, frozen, and converts a changed one again", async () => {
    const { fake, manager } = await setup(true);
    const [first] = await manager.getPods(true);
    const [second] = await manager.getPods(true);
    expect(second?.containers[0]).toBe(first?.containers[0]);
    expect(second?.sandboxes[0]).toBe(first?.sandboxes[0]);
    expect(Object.isFrozen(first?.containers[0])).toBe(true);

    fake.exitContainer(first?.containers[0]?.id.id ?? "", 1);
    const [third] = await manager.getPods(true);
    expect(third?.containers[0]).not.toBe(first?.containers[0]);
    expect(third?.containers[0]?.state).toBe("exited");
  });

  it("converts items that are not shared afresh on every list", async () => {
    const { manager } = await setup(false);
    const [first] = await manager.getPods(true);
    const [second] = await manager.getPods(true);
    expect(second?.containers[0]).toEqual(first?.containers[0]);
    expect(second?.containers[0]).not.toBe(first?.containers[0]);
  });
});
