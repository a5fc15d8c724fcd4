// syncPod's failure branches on the in-memory CRI (@nodelet/cri-testing): one scripted fault each,
// the kubelet's step result and event (pkg/kubelet/kuberuntime/kuberuntime_manager.go SyncPod,
// kuberuntime_container.go startContainer), then the next sync, fault gone, recovering.
import { type CriMethod, createFakeRuntime, type FakeRuntime } from "@nodelet/cri-testing";
import {
  createBackoff,
  ErrorCode,
  type EventRecorder,
  findContainerStatusByName,
  KUBELET_BACKOFF,
  type PodSyncResult,
  type V1Container,
  type V1Pod,
} from "@nodelet/runtime-api";
import { beforeEach, describe, expect, it } from "vitest";
import type { KubeGenericRuntimeManager } from "../src/index.js";
import { createManagerOverFake } from "./support/fake-manager.js";

type RecordedEvent = Parameters<EventRecorder["event"]>[0] & {
  type: string;
  reason: string;
  message: string;
};

interface Harness {
  fake: FakeRuntime;
  manager: KubeGenericRuntimeManager;
  events: RecordedEvent[];
  sync(pod: V1Pod): Promise<PodSyncResult>;
  state(pod: V1Pod, name: string): Promise<string | undefined>;
}

async function createHarness(): Promise<Harness> {
  const fake = createFakeRuntime();
  const events: RecordedEvent[] = [];
  const { manager } = await createManagerOverFake(
    {
      eventRecorder: {
        event: (object, type, reason, message) => events.push({ ...object, type, reason, message }),
      },
    },
    fake,
  );
  const backOff = createBackoff(KUBELET_BACKOFF);
  const status = (pod: V1Pod) =>
    manager.getPodStatus(pod.metadata.uid ?? "", pod.metadata.name ?? "", pod.metadata.namespace ?? "");
  return {
    fake,
    manager,
    events,
    sync: async (pod) => manager.syncPod(pod, await status(pod), [], backOff),
    state: async (pod, name) => findContainerStatusByName(await status(pod), name)?.state,
  };
}

const app: V1Container = { name: "app", image: "busybox:1.36", command: ["sleep", "3600"] };

function podOf(containers: V1Container[], spec: Partial<V1Pod["spec"]> = {}): V1Pod {
  return {
    metadata: { name: "web", namespace: "prod", uid: "uid-web" },
    spec: { containers, terminationGracePeriodSeconds: 2, ...spec },
  };
}

const podRef = { kind: "Pod", namespace: "prod", name: "web", uid: "uid-web" };

/** A recorded event as expected: about the pod, or about the container at `fieldPath`. */
function event(type: string, reason: string, message: unknown, fieldPath?: string) {
  return { ...podRef, ...(fieldPath ? { fieldPath } : {}), type, reason, message };
}

function failedSteps(result: PodSyncResult) {
  return result.syncResults
    .filter((r) => r.error !== undefined)
    .map((r) => ({ action: r.action, target: r.target, error: r.error }));
}

function warnings(h: Harness) {
  return h.events.filter((e) => e.type === "Warning");
}

/** The next sync does what the failed one could not, and the one after that has nothing left to do. */
async function expectRecovery(h: Harness, pod: V1Pod, container = "app"): Promise<void> {
  h.events.length = 0;
  const next = await h.sync(pod);
  expect(next.error()).toBeUndefined();
  expect(await h.state(pod, container)).toBe("running");
  expect(warnings(h)).toEqual([]);
  const settled = await h.sync(pod);
  expect(settled.error()).toBeUndefined();
  expect(settled.syncResults.filter((r) => r.action === "StartContainer")).toEqual([]);
}

let h: Harness;

/** The next call of `method` fails as containerd answers an internal error (gRPC UNKNOWN). */
function failOnce(method: CriMethod, message: string): void {
  h.fake.injectFault(method, { code: ErrorCode.Unknown, message, times: 1 });
}

beforeEach(async () => {
  h = await createHarness();
});

describe("syncPod failure branches on the fake CRI", () => {
  it("CreatePodSandboxError: FailedCreatePodSandBox on the pod, nothing started", async () => {
    failOnce("RunPodSandbox", "failed to setup network");
    const pod = podOf([app]);
    const result = await h.sync(pod);
    expect(failedSteps(result)).toEqual([
      { action: "CreatePodSandbox", target: "web_prod(uid-web)", error: ErrorCode.CreatePodSandboxError },
    ]);
    expect(result.error()?.code).toBe(ErrorCode.CreatePodSandboxError);
    expect(warnings(h)).toEqual([
      event(
        "Warning",
        "FailedCreatePodSandBox",
        expect.stringMatching(/^Failed to create pod sandbox: .*failed to setup network/),
      ),
    ]);
    expect(h.fake.calls("CreateContainer")).toHaveLength(0);
    await expectRecovery(h, pod);
  });

  it("ConfigPodSandboxError: a sandbox config that cannot be built fails the step, without an event", async () => {
    const pod = podOf([app]);
    expect((await h.sync(pod)).error()).toBeUndefined();
    // The kubelet builds the sandbox config again on every sync; a 63-character hostname and
    // subdomain make an FQDN longer than 64 characters, which only the kubelet (not validation) refuses.
    const longName = "a".repeat(63);
    const broken = podOf([app], { hostname: longName, subdomain: longName, setHostnameAsFQDN: true });
    // The container exits, so this sync would restart it if the config could be built.
    const running = (await h.manager.getPods(false))[0]?.containers[0];
    h.fake.exitContainer(running?.id.id ?? "", 1);
    h.events.length = 0;
    const result = await h.sync(broken);
    expect(failedSteps(result)).toEqual([
      { action: "ConfigPodSandbox", target: expect.any(String), error: ErrorCode.ConfigPodSandboxError },
    ]);
    expect(result.syncResults.find((r) => r.error)?.message).toMatch(
      /^GeneratePodSandboxConfig for pod "web_prod\(uid-web\)" failed: .*FQDN .* is too long/,
    );
    expect(warnings(h)).toEqual([]);
    expect(await h.state(pod, "app")).toBe("exited"); // not restarted
    await expectRecovery(h, pod);
  });

  it("CreateContainerError: Failed on the container, the step carries the runtime's message", async () => {
    failOnce("CreateContainer", "no space left on device");
    const pod = podOf([app]);
    const result = await h.sync(pod);
    expect(failedSteps(result)).toEqual([
      { action: "StartContainer", target: "app", error: ErrorCode.CreateContainerError },
    ]);
    expect(result.syncResults.find((r) => r.error)?.message).toMatch(/no space left on device/);
    expect(warnings(h)).toEqual([
      event(
        "Warning",
        "Failed",
        expect.stringMatching(/^Error: .*no space left on device/),
        "spec.containers{app}",
      ),
    ]);
    expect(await h.state(pod, "app")).toBeUndefined();
    await expectRecovery(h, pod);
  });

  it("RunContainerError: an init container that fails to start names spec.initContainers and holds the pod", async () => {
    const init: V1Container = { name: "setup", image: "busybox:1.36", command: ["true"] };
    failOnce("StartContainer", "exec format error");
    const pod = podOf([app], { initContainers: [init] });
    const result = await h.sync(pod);
    expect(failedSteps(result)).toEqual([
      { action: "StartContainer", target: "setup", error: ErrorCode.RunContainerError },
    ]);
    expect(result.syncResults.filter((r) => r.action === "StartContainer").map((r) => r.target)).toEqual([
      "setup",
    ]);
    expect(warnings(h)).toEqual([
      event(
        "Warning",
        "Failed",
        expect.stringMatching(/^Error: .*exec format error/),
        "spec.initContainers{setup}",
      ),
    ]);
    expect(await h.state(pod, "setup")).toBe("created");

    // Recovery: the init container starts (and is made to finish), then the app container.
    h.events.length = 0;
    expect((await h.sync(pod)).error()).toBeUndefined();
    expect(await h.state(pod, "setup")).toBe("running");
    const setupId = (await h.manager.getPods(false))[0]?.containers.find((c) => c.name === "setup")?.id.id;
    h.fake.exitContainer(setupId ?? "", 0);
    await expectRecovery(h, pod);
  });

  it("KillContainerError: a failed stop ends the sync before the replacement starts", async () => {
    const pod = podOf([app]);
    expect((await h.sync(pod)).error()).toBeUndefined();
    const changed = podOf([{ ...app, image: "busybox:1.37" }]);
    failOnce("StopContainer", "container is stuck");
    h.events.length = 0;
    const result = await h.sync(changed);
    expect(failedSteps(result)).toEqual([
      { action: "KillContainer", target: "app", error: ErrorCode.KillContainerError },
    ]);
    expect(result.syncResults.find((r) => r.error)?.message).toMatch(/container is stuck/);
    expect(result.syncResults.some((r) => r.action === "StartContainer")).toBe(false);
    // The kubelet records only the Normal Killing event; the failure is in the sync result.
    expect(h.events).toEqual([
      event(
        "Normal",
        "Killing",
        "Container app definition changed, will be restarted",
        "spec.containers{app}",
      ),
    ]);
    expect(await h.state(changed, "app")).toBe("running");
    await expectRecovery(h, changed);
    expect((await h.manager.getPods(false))[0]?.containers).toHaveLength(1); // the old one is stopped
  });

  it("PostStartHookError: FailedPostStartHook without the hook's output, the container killed", async () => {
    const hooked: V1Container = {
      ...app,
      lifecycle: { postStart: { exec: { command: ["sh", "-c", "echo secret; exit 3"] } } },
    };
    h.fake.onExec(() => ({ stdout: "secret\n", exitCode: 3 }));
    const pod = podOf([hooked]);
    const result = await h.sync(pod);
    expect(failedSteps(result)).toEqual([
      { action: "StartContainer", target: "app", error: ErrorCode.PostStartHookError },
    ]);
    const hookEvents = h.events.filter((e) => e.reason === "FailedPostStartHook");
    expect(hookEvents).toContainEqual(
      event("Warning", "FailedPostStartHook", "PostStartHook failed", "spec.containers{app}"),
    );
    expect(h.events.some((e) => e.message.includes("secret") && e.reason === "FailedPostStartHook")).toBe(
      false,
    );
    expect(await h.state(pod, "app")).toBe("exited");

    h.fake.onExec(); // the hook succeeds from now on; the first restart is not backed off
    await expectRecovery(h, pod);
  });

  it("CreateContainerConfigError: runAsNonRoot against an image without a user", async () => {
    const pod = podOf([{ ...app, securityContext: { runAsNonRoot: true } }]);
    const result = await h.sync(pod);
    expect(failedSteps(result)).toEqual([
      { action: "StartContainer", target: "app", error: ErrorCode.CreateContainerConfigError },
    ]);
    expect(warnings(h)).toEqual([
      event(
        "Warning",
        "Failed",
        expect.stringMatching(/^Error: container has runAsNonRoot and image will run as root/),
        "spec.containers{app}",
      ),
    ]);
    expect(h.fake.calls("CreateContainer")).toHaveLength(0);
    await expectRecovery(h, podOf([{ ...app, securityContext: { runAsNonRoot: true, runAsUser: 1000 } }]));
  });
});
