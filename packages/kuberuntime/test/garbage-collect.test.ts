// Runtime.garbageCollect's wiring on the in-memory CRI (@nodelet/cri-testing): the manager's
// ContainerGCRuntime reads the kubelet's labels, removes logs through the log manager before the
// container (kuberuntime_container.go removeContainer), stops a sandbox before removing it, and
// keeps everything of pods the pod state provider does not call gone.
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_GC_POLICY } from "@nodelet/container-gc";
import { ContainerConfig, ImageSpec, PodSandboxConfig } from "@nodelet/cri-api";
import { createFakeRuntime } from "@nodelet/cri-testing";
import { createBackoff, ErrorCode, isNodeletError, type V1Pod } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { createManagerOverFake } from "./support/fake-manager.js";

const pod: V1Pod = {
  metadata: { name: "web", namespace: "prod", uid: "uid-web" },
  spec: {
    containers: [{ name: "app", image: "busybox:1.36", command: ["false"] }],
    terminationGracePeriodSeconds: 2,
  },
};

async function setup(gone: Set<string>) {
  const fake = createFakeRuntime();
  const cleaned: string[] = [];
  const logsDir = mkdtempSync(join(tmpdir(), "nodelet-kr-gc-logs-"));
  const { manager } = await createManagerOverFake(
    {
      podLogsDirectory: logsDir,
      logManager: {
        clean: async (id) => {
          cleaned.push(id);
          // The container is still there when its logs go.
          expect((await fake.containerStatus(id, false)).status?.id).toBe(id);
        },
      },
      containerGC: {
        podStateProvider: {
          shouldPodContentBeRemoved: (uid) => gone.has(uid),
          shouldPodRuntimeBeRemoved: (uid) => gone.has(uid),
        },
      },
    },
    fake,
  );
  // A zero delay: with 1 ms, a sync within a millisecond of the exit found the container still
  // in back-off and started nothing.
  const noDelay = createBackoff({ initialMs: 0, maxMs: 0 });
  const status = () => manager.getPodStatus("uid-web", "web", "prod");
  /** Starts the next instance and lets it exit. */
  const crash = async () => {
    await manager.syncPod(pod, await status(), [], noDelay);
    const current = (await status()).containerStatuses[0];
    fake.exitContainer(current?.id.id ?? "", 1);
  };
  return { fake, manager, cleaned, status, crash, logsDir };
}

describe("Runtime.garbageCollect", () => {
  it("keeps the newest exited instance, removing the others with their logs first", async () => {
    const t = await setup(new Set());
    for (let i = 0; i < 4; i++) await t.crash();
    const before = (await t.status()).containerStatuses;
    expect(before.map((c) => c.restartCount)).toEqual([3, 2, 1, 0]);
    await t.manager.garbageCollect(DEFAULT_GC_POLICY, true, false);
    const after = (await t.status()).containerStatuses;
    expect(after.map((c) => c.restartCount)).toEqual([3]);
    expect(t.cleaned.sort()).toEqual(
      before
        .slice(1)
        .map((c) => c.id.id)
        .sort(),
    );
    await t.crash();
    expect((await t.status()).containerStatuses[0]?.restartCount).toBe(4);
  });

  it("removes a deleted pod's containers and its stopped sandbox", async () => {
    const gone = new Set<string>();
    const t = await setup(gone);
    await t.crash();
    await t.crash();
    const running = (await t.manager.getPods(true)).find((p) => p.id === "uid-web");
    if (!running) throw new Error("no pod");
    await t.manager.killPod(pod, running, 0);
    gone.add("uid-web");
    const result = await t.manager.runContainerGC(DEFAULT_GC_POLICY, true, false);
    expect(result).toMatchObject({ removedContainers: 2, removedSandboxes: 1, failures: 0 });
    expect(await t.fake.listContainers()).toEqual([]);
    expect(await t.fake.listPodSandbox()).toEqual([]);
  });

  it("leaves a container whose removal fails, for the next pass", async () => {
    const t = await setup(new Set(["uid-web"]));
    await t.crash();
    const id = (await t.status()).containerStatuses[0]?.id.id ?? "";
    t.fake.injectFault("RemoveContainer", { code: ErrorCode.Unknown, message: "device busy", times: 1 });
    const first = await t.manager.runContainerGC(DEFAULT_GC_POLICY, true, false);
    expect(first).toMatchObject({ removedContainers: 0, failures: 1 });
    expect((await t.fake.listContainers()).map((c) => c.id)).toEqual([id]);
    const second = await t.manager.runContainerGC(DEFAULT_GC_POLICY, true, false);
    expect(second).toMatchObject({ removedContainers: 1, failures: 0 });
  });

  it("never touches a pod it did not create (no ownership label), nor its log directory", async () => {
    const t = await setup(new Set(["uid-kubelet"]));
    const labels = {
      "io.kubernetes.pod.name": "etcd",
      "io.kubernetes.pod.namespace": "kube-system",
      "io.kubernetes.pod.uid": "uid-kubelet",
    };
    const sandboxConfig = PodSandboxConfig.fromPartial({
      metadata: { name: "etcd", namespace: "kube-system", uid: "uid-kubelet" },
      labels,
    });
    await t.fake.pullImage(ImageSpec.fromPartial({ image: "busybox:1.36" }), undefined, undefined);
    const sandboxId = await t.fake.runPodSandbox(sandboxConfig, "");
    for (const attempt of [0, 1]) {
      const id = await t.fake.createContainer(
        sandboxId,
        ContainerConfig.fromPartial({
          metadata: { name: "etcd", attempt },
          image: { image: "busybox:1.36" },
          labels: { ...labels, "io.kubernetes.container.name": "etcd" },
        }),
        sandboxConfig,
      );
      await t.fake.startContainer(id);
      t.fake.exitContainer(id, 1);
    }
    await t.fake.stopPodSandbox(sandboxId);
    const logDir = join(t.logsDir, "kube-system_etcd_uid-kubelet");
    mkdirSync(logDir, { recursive: true });
    const result = await t.manager.runContainerGC(DEFAULT_GC_POLICY, true, true);
    expect(result).toMatchObject({ removedContainers: 0, removedSandboxes: 0, removedLogDirectories: 0 });
    expect(await t.fake.listContainers()).toHaveLength(2);
    expect(await t.fake.listPodSandbox()).toHaveLength(1);
    expect(existsSync(logDir)).toBe(true);
  });

  it("rejects a bad policy with InvalidConfig", async () => {
    const t = await setup(new Set());
    const err = await t.manager
      .garbageCollect({ minAgeMs: -5, maxPerPodContainer: 1, maxContainers: -1 }, true, false)
      .catch((e: unknown) => e);
    expect(isNodeletError(err, ErrorCode.InvalidConfig)).toBe(true);
  });
});
