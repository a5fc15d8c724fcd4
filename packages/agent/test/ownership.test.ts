import type { Container, PodSandbox } from "@nodelet/cri-api";
import type { Pod } from "@nodelet/runtime-api";
import { describe, expect, it, vi } from "vitest";
import { createOrphanFilter, podOwner } from "../src/ownership.js";

const identity = (uid: string) => ({
  "io.kubernetes.pod.name": `p-${uid}`,
  "io.kubernetes.pod.namespace": "default",
  "io.kubernetes.pod.uid": uid,
});
const owned = { "io.nodelet.managed-by": "nodelet" };
const staticAnnotations = (uid: string) => ({
  "kubernetes.io/config.source": "file",
  "kubernetes.io/config.hash": uid,
});

describe("podOwner", () => {
  it("a pod whose containers carry the label is nodelet's", () => {
    expect(
      podOwner(
        "u",
        [{ labels: { ...identity("u"), ...owned } }],
        [{ labels: { ...identity("u"), ...owned } }],
      ),
    ).toBe("nodelet");
  });

  it("a sandbox label alone counts only while the pod has no container", () => {
    expect(podOwner("u", [{ labels: { ...identity("u"), ...owned } }], [])).toBe("nodelet");
    // A kubelet copies pod labels onto the sandbox, never onto containers: a pod labelled by its
    // author cannot pass for nodelet's.
    expect(podOwner("u", [{ labels: { ...identity("u"), ...owned } }], [{ labels: identity("u") }])).toBe(
      "foreign",
    );
  });

  it("a kubelet's pod (no label) is foreign; one that looks like a nodelet static pod is legacy", () => {
    expect(
      podOwner("u", [{ labels: identity("u"), annotations: { "kubernetes.io/config.source": "api" } }], []),
    ).toBe("foreign");
    expect(
      podOwner(
        "u",
        [{ labels: identity("u"), annotations: staticAnnotations("u") }],
        [{ labels: identity("u") }],
      ),
    ).toBe("legacy");
    expect(podOwner("u", [{ labels: {}, annotations: staticAnnotations("u") }], [])).toBe("foreign");
  });
});

function runtimePod(uid: string): Pod {
  return { id: uid, name: `p-${uid}`, namespace: "default", createdAt: 0, containers: [], sandboxes: [] };
}

function sandbox(
  uid: string,
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
): PodSandbox {
  return {
    id: `sb-${uid}`,
    metadata: { name: `p-${uid}`, uid, namespace: "default", attempt: 0 },
    state: 0,
    createdAt: 0,
    labels,
    annotations,
    runtimeHandler: "",
  } as unknown as PodSandbox;
}

function container(uid: string, labels: Record<string, string>): Container {
  return { id: `c-${uid}`, podSandboxId: `sb-${uid}`, labels, annotations: {} } as unknown as Container;
}

describe("createOrphanFilter", () => {
  const sandboxes = [
    sandbox("mine", { ...identity("mine"), ...owned }),
    sandbox("kubelet", identity("kubelet"), { "kubernetes.io/config.source": "api" }),
    sandbox("old", identity("old"), staticAnnotations("old")),
  ];
  const containers = [
    container("mine", { ...identity("mine"), ...owned }),
    container("kubelet", identity("kubelet")),
    container("old", identity("old")),
  ];
  const runtimeService = {
    listPodSandbox: vi.fn(async () => sandboxes),
    listContainers: vi.fn(async () => containers),
  };
  const candidates = [runtimePod("mine"), runtimePod("kubelet"), runtimePod("old")];

  it("kills only nodelet's pods and warns once per other pod (namespace, name, UID)", async () => {
    const warn = vi.fn();
    const logger = { warn, info: vi.fn(), debug: vi.fn(), error: vi.fn() };
    const filter = createOrphanFilter({ runtimeService, logger: logger as never });
    expect((await filter.killable(candidates)).map((p) => p.id)).toEqual(["mine"]);
    expect((await filter.killable(candidates)).map((p) => p.id)).toEqual(["mine"]);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls.map((c) => c[0])).toEqual([
      expect.objectContaining({ namespace: "default", name: "p-kubelet", uid: "kubelet", owner: "foreign" }),
      expect.objectContaining({ namespace: "default", name: "p-old", uid: "old", owner: "legacy" }),
    ]);
    expect(warn.mock.calls[1]?.[1]).toMatch(/adoptUnlabelledPods/);
  });

  it("with adoptUnlabelledPods, an earlier nodelet's pods are killable too, a kubelet's still not", async () => {
    const logger = { warn: vi.fn(), info: vi.fn(), debug: vi.fn(), error: vi.fn() };
    const filter = createOrphanFilter({ runtimeService, logger: logger as never, adoptUnlabelledPods: true });
    expect((await filter.killable(candidates)).map((p) => p.id)).toEqual(["mine", "old"]);
  });

  it("asks the runtime nothing when there is no candidate", async () => {
    runtimeService.listPodSandbox.mockClear();
    const filter = createOrphanFilter({ runtimeService, logger: { warn: vi.fn() } as never });
    expect(await filter.killable([])).toEqual([]);
    expect(runtimeService.listPodSandbox).not.toHaveBeenCalled();
  });
});
