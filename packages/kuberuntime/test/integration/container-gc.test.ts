// Runtime.garbageCollect's collector against the real containerd. The shared containerd also runs
// other suites' pods, so every pass here sees only this file's pods: the manager's
// ContainerGCRuntime filtered to the test's own pod UIDs (the collector is the one garbageCollect uses).
import { mkdtempSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ContainerGC, createContainerGC, DEFAULT_GC_POLICY } from "@nodelet/container-gc";
import {
  ContainerConfig,
  ContainerFilter,
  ImageSpec,
  PodSandboxConfig,
  PodSandboxFilter,
} from "@nodelet/cri-api";
import { createRemoteRuntimeService } from "@nodelet/cri-remote";
import { createFaultProxy } from "@nodelet/cri-testing";
import {
  type ContainerGCRuntime,
  createBackoff,
  type GCPolicy,
  type Logger,
  type PodStateProvider,
  type V1Pod,
} from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from "../../src/index.js";
import { busybox, createHarness, type Harness } from "./support.js";

let h: Harness;
let namespace: string;
beforeAll(async () => {
  h = await createHarness();
  namespace = h.pod("namespace-of-this-run", []).metadata.namespace ?? "";
});
afterAll(async () => {
  await h.cleanup();
});

/** Pods this test says still exist; every other pod of this run is gone. */
function podsThatExist(...pods: V1Pod[]): PodStateProvider {
  const uids = new Set(pods.map((p) => p.metadata.uid));
  return {
    shouldPodContentBeRemoved: (uid) => !uids.has(uid),
    shouldPodRuntimeBeRemoved: (uid) => !uids.has(uid),
  };
}

/** The manager's GC runtime, seeing only the given pods. */
function scoped(runtime: ContainerGCRuntime, pods: readonly V1Pod[]): ContainerGCRuntime {
  const uids = new Set(pods.map((p) => p.metadata.uid));
  const mine = (uid: string) => uids.has(uid);
  return {
    ...runtime,
    listContainers: async () => (await runtime.listContainers()).filter((c) => mine(c.podUid)),
    listSandboxes: async () => (await runtime.listSandboxes()).filter((s) => mine(s.podUid)),
  };
}

/** A collector over the test's pods (`scope`), of which `alive` still exist. */
function collector(
  scope: readonly V1Pod[],
  alive: readonly V1Pod[],
  extra: { logger?: Logger; runtime?: ContainerGCRuntime } = {},
): ContainerGC {
  return createContainerGC({
    runtime: scoped(extra.runtime ?? h.manager.containerGCRuntime, scope),
    podState: podsThatExist(...alive),
    podLogsDirectory: h.podLogsDir,
    ...(extra.logger ? { logger: extra.logger } : {}),
  });
}

async function containersOf(pod: V1Pod) {
  return h.runtime.listContainers(
    ContainerFilter.fromPartial({ labelSelector: { [LABEL_POD_UID]: pod.metadata.uid ?? "" } }),
  );
}

async function sandboxesOf(pod: V1Pod) {
  return h.runtime.listPodSandbox(
    PodSandboxFilter.fromPartial({ labelSelector: { [LABEL_POD_UID]: pod.metadata.uid ?? "" } }),
  );
}

/**
 * `count` dead (created, never started) instances of container `name` in a sandbox of `pod`,
 * labelled as the kubelet labels them: quicker than crash loops, and the same to the collector.
 */
async function deadInstances(pod: V1Pod, name: string, count: number): Promise<string[]> {
  const image = ImageSpec.fromPartial({ image: h.env.images.busybox });
  await h.images.pullImage(image, undefined, undefined);
  const config = PodSandboxConfig.fromPartial({
    metadata: { name: pod.metadata.name ?? "", namespace, uid: pod.metadata.uid ?? "", attempt: 0 },
    labels: {
      [LABEL_POD_NAME]: pod.metadata.name ?? "",
      [LABEL_POD_NAMESPACE]: namespace,
      [LABEL_POD_UID]: pod.metadata.uid ?? "",
    },
    logDirectory: join(h.podLogsDir, `${namespace}_${pod.metadata.name}_${pod.metadata.uid}`),
    linux: {},
  });
  const existing = await sandboxesOf(pod);
  const sandboxId = existing[0]?.id ?? (await h.runtime.runPodSandbox(config, ""));
  const ids: string[] = [];
  const already = (await containersOf(pod)).filter((c) => c.metadata?.name === name).length;
  for (let i = 0; i < count; i++) {
    const attempt = already + i;
    const id = await h.runtime.createContainer(
      sandboxId,
      ContainerConfig.fromPartial({
        metadata: { name, attempt },
        image,
        command: ["true"],
        logPath: `${name}/${attempt}.log`,
        labels: {
          [LABEL_POD_NAME]: pod.metadata.name ?? "",
          [LABEL_POD_NAMESPACE]: namespace,
          [LABEL_POD_UID]: pod.metadata.uid ?? "",
          [LABEL_CONTAINER_NAME]: name,
        },
      }),
      config,
    );
    ids.push(id);
  }
  return ids;
}

describe("container garbage collection against containerd", () => {
  it("keeps exactly the newest exited instance of a crash-looping container, whose restart count keeps rising", async () => {
    const pod = h.pod("crashloop", [busybox(h.env, "app", ["sh", "-c", "exit 3"])], {
      restartPolicy: "Always",
    });
    // A zero delay: with 1 ms, a sync within a millisecond of the exit found the container still
    // in back-off and started nothing.
    const noDelay = createBackoff({ initialMs: 0, maxMs: 0 });
    const gc = collector([pod], [pod]);
    const counts: number[] = [];
    for (let round = 0; round < 5; round++) {
      await h.sync(pod, noDelay);
      const newest = await h.waitFor(
        `round ${round}: the newest instance exits`,
        async () => {
          const status = await h.status(pod);
          const first = status.containerStatuses[0];
          return first?.state === "exited" ? first : undefined;
        },
        60_000,
      );
      counts.push(newest.restartCount);
      await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
      const left = await containersOf(pod);
      expect(left.map((c) => c.id)).toEqual([newest.id.id]);
    }
    expect(counts).toEqual([0, 1, 2, 3, 4]);
    const status = await h.status(pod);
    expect(status.containerStatuses.length).toBe(1);
  }, 180_000);

  it("removes every container, sandbox and the log directory of a deleted pod", async () => {
    const pod = h.pod("deleted", [busybox(h.env, "app", ["sleep", "3600"])]);
    await h.sync(pod);
    await deadInstances(pod, "old", 2);
    const running = (await h.manager.getPods(true)).find((p) => p.id === pod.metadata.uid);
    if (!running) throw new Error("the pod does not run");
    // Alive, nothing of it goes but the older dead instance.
    const gc = collector([pod], [pod]);
    expect(await gc.garbageCollect(DEFAULT_GC_POLICY, true, false)).toMatchObject({
      removedContainers: 1,
      removedSandboxes: 0,
    });
    expect((await containersOf(pod)).length).toBe(2);
    await h.manager.killPod(pod, running, 0);
    const gone = collector([pod], []);
    const result = await gone.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(result).toMatchObject({
      removedContainers: 2,
      removedSandboxes: 1,
      removedLogDirectories: 1,
      failures: 0,
    });
    expect(await containersOf(pod)).toEqual([]);
    expect(await sandboxesOf(pod)).toEqual([]);
    expect((await readdir(h.podLogsDir)).filter((d) => d.endsWith(`_${pod.metadata.uid}`))).toEqual([]);
  }, 180_000);

  it("shares maxContainers fairly between pods", async () => {
    const [a, b, c] = ["fair-a", "fair-b", "fair-c"].map((n) => h.pod(n, []));
    if (!a || !b || !c) throw new Error("pods");
    await deadInstances(a, "app", 6);
    await deadInstances(b, "app", 2);
    await deadInstances(c, "app", 2);
    const policy: GCPolicy = { minAgeMs: 0, maxPerPodContainer: -1, maxContainers: 6 };
    await collector([a, b, c], [a, b, c]).garbageCollect(policy, true, false);
    expect((await containersOf(a)).length).toBe(2);
    expect((await containersOf(b)).length).toBe(2);
    expect((await containersOf(c)).length).toBe(2);
    for (const pod of [a, b, c]) for (const s of await sandboxesOf(pod)) await h.runtime.stopPodSandbox(s.id);
    await collector([a, b, c], []).garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect([...(await containersOf(a)), ...(await sandboxesOf(b))]).toEqual([]);
  }, 180_000);

  it("respects minAge", async () => {
    const pod = h.pod("min-age", []);
    const [older] = await deadInstances(pod, "app", 3);
    const gc = collector([pod], [pod]);
    expect(
      (await gc.garbageCollect({ ...DEFAULT_GC_POLICY, minAgeMs: 3_600_000 }, true, false)).removedContainers,
    ).toBe(0);
    expect((await containersOf(pod)).length).toBe(3);
    await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    const left = await containersOf(pod);
    expect(left.length).toBe(1);
    expect(left[0]?.id).not.toBe(older);
    for (const s of await sandboxesOf(pod)) await h.runtime.stopPodSandbox(s.id);
    await collector([pod], []).garbageCollect(DEFAULT_GC_POLICY, true, false);
  });

  it("retries a removal that fails on the next pass and logs it once", async () => {
    const proxy = await createFaultProxy({
      upstream: h.env.criEndpoint,
      listen: join(mkdtempSync(join(tmpdir(), "nodelet-gc-proxy-")), "cri.sock"),
      rules: [{ method: "RemoveContainer", code: "UNKNOWN", message: "device or resource busy" }],
    });
    const runtime = await createRemoteRuntimeService(proxy.endpoint);
    try {
      const manager = await h.newManager({ runtimeService: runtime });
      const pod = h.pod("stuck", []);
      await deadInstances(pod, "app", 2);
      const warnings: object[] = [];
      const logger: Logger = {
        debug() {},
        info() {},
        error() {},
        warn: (fields) => void warnings.push(fields as object),
      };
      const gc = collector([pod], [], { logger, runtime: manager.containerGCRuntime });
      const first = await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
      const second = await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
      expect(first).toMatchObject({ removedContainers: 0, failures: 2 });
      expect(second).toMatchObject({ removedContainers: 0, failures: 2 });
      expect(warnings.length).toBe(2); // one per container, not one per pass
      expect(warnings[0]).toMatchObject({ object: "container", podUid: pod.metadata.uid, container: "app" });
      expect((await containersOf(pod)).length).toBe(2);
      proxy.setRules([]);
      for (const s of await sandboxesOf(pod)) await h.runtime.stopPodSandbox(s.id);
      const third = await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
      expect(third).toMatchObject({ removedContainers: 2, removedSandboxes: 1, failures: 0 });
      expect(gc.failing()).toEqual([]);
    } finally {
      runtime.close();
      await proxy.close();
    }
  });

  it("removes nothing of a pod recreated with the same name while it collects the old one", async () => {
    const old = h.pod("same-name", [busybox(h.env, "app", ["sleep", "3600"])]);
    await h.sync(old);
    const running = (await h.manager.getPods(true)).find((p) => p.id === old.metadata.uid);
    if (!running) throw new Error("the old pod does not run");
    await h.manager.killPod(old, running, 0);
    const fresh = h.pod("same-name", [busybox(h.env, "app", ["sleep", "3600"])]);
    expect(fresh.metadata.uid).not.toBe(old.metadata.uid);
    const gc = collector([old, fresh], [fresh]);
    // The new pod starts while passes run over the old one's leftovers.
    const passes = (async () => {
      for (let i = 0; i < 3; i++) await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    })();
    await h.sync(fresh);
    await passes;
    await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(await containersOf(old)).toEqual([]);
    expect(await sandboxesOf(old)).toEqual([]);
    const status = await h.status(fresh);
    expect(status.containerStatuses.map((c) => c.state)).toEqual(["running"]);
    expect(status.sandboxStatuses.length).toBe(1);
  }, 180_000);
});
