import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ContainerConfig,
  ContainerEventType,
  ContainerState,
  ImageSpec,
  PodSandboxConfig,
  PodSandboxState,
} from "@nodelet/cri-api";
import {
  CommandExitError,
  createManualClock,
  ErrorCode,
  isNodeletError,
  type NodeletError,
} from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { createFakeRuntime } from "../src/index.js";

const image = ImageSpec.fromPartial({ image: "127.0.0.1:5000/busybox:1.36" });
const T0 = Date.UTC(2026, 10, 27, 10, 0, 0, 123);

function sandboxConfig(name: string, logDirectory = ""): PodSandboxConfig {
  return PodSandboxConfig.fromPartial({
    metadata: { name, namespace: "ns", uid: `uid-${name}`, attempt: 0 },
    logDirectory,
    labels: { app: name },
    annotations: { note: "kept" },
  });
}

function containerConfig(name: string): ContainerConfig {
  return ContainerConfig.fromPartial({
    metadata: { name, attempt: 0 },
    image,
    command: ["sleep", "3600"],
    labels: { container: name },
    annotations: { hash: "abc" },
    logPath: `${name}/0.log`,
  });
}

async function setup(logDirectory = "") {
  const clock = createManualClock(T0);
  const fake = createFakeRuntime({ clock });
  await fake.pullImage(image, undefined, undefined);
  const config = sandboxConfig("pod", logDirectory);
  const sandboxId = await fake.runPodSandbox(config, "");
  return { clock, fake, config, sandboxId };
}

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as NodeletError,
  );

describe("createFakeRuntime: sandboxes", () => {
  it("runs, lists, stops and removes a sandbox, keeping labels, annotations and the clock's time", async () => {
    const { fake, sandboxId, clock } = await setup();
    expect(sandboxId).toMatch(/^[0-9a-f]{64}$/);
    const status = await fake.podSandboxStatus(sandboxId, false);
    expect(status.status).toMatchObject({
      state: PodSandboxState.SANDBOX_READY,
      createdAt: BigInt(T0) * 1_000_000n,
      labels: { app: "pod" },
      annotations: { note: "kept" },
      metadata: { name: "pod", namespace: "ns", uid: "uid-pod" },
    });
    expect(status.status?.network?.ip).toMatch(/^10\.88\./);
    expect(
      await fake.listPodSandbox({ id: "", state: undefined, labelSelector: { app: "pod" } }),
    ).toHaveLength(1);
    expect(
      await fake.listPodSandbox({ id: "", state: undefined, labelSelector: { app: "other" } }),
    ).toHaveLength(0);

    clock.advance(1000);
    await fake.stopPodSandbox(sandboxId);
    await fake.stopPodSandbox(sandboxId); // idempotent
    expect((await fake.podSandboxStatus(sandboxId, false)).status?.state).toBe(
      PodSandboxState.SANDBOX_NOTREADY,
    );
    await fake.removePodSandbox(sandboxId);
    await fake.removePodSandbox(sandboxId); // removing what is gone is not an error, as in containerd
    const gone = await rejection(fake.podSandboxStatus(sandboxId, false));
    expect(gone?.code).toBe(ErrorCode.NotFound);
    expect(gone?.message).toBe("PodSandboxStatus: an error occurred when try to find sandbox: not found");
  });

  it("rejects a second sandbox of the same name, as containerd does (UNKNOWN, name reserved)", async () => {
    const { fake, config, sandboxId } = await setup();
    const err = await rejection(fake.runPodSandbox(config, ""));
    expect(err?.code).toBe(ErrorCode.Unknown);
    expect(err?.message).toMatch(
      /^RunPodSandbox: failed to reserve sandbox name ".*": name ".*" is reserved for/,
    );
    expect(err?.message).toContain(sandboxId);
    await fake.removePodSandbox(sandboxId);
    await expect(fake.runPodSandbox(config, "")).resolves.toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("createFakeRuntime: containers", () => {
  it("goes created -> running -> exited with the exit code and reason set, times from the clock", async () => {
    const { fake, sandboxId, config, clock } = await setup();
    const id = await fake.createContainer(sandboxId, containerConfig("app"), config);
    expect((await fake.containerStatus(id, false)).status?.state).toBe(ContainerState.CONTAINER_CREATED);
    clock.advance(10);
    await fake.startContainer(id);
    clock.advance(10);
    fake.exitContainer(id, 3);
    const s = (await fake.containerStatus(id, false)).status;
    expect(s).toMatchObject({
      state: ContainerState.CONTAINER_EXITED,
      exitCode: 3,
      reason: "Error",
      createdAt: BigInt(T0) * 1_000_000n,
      startedAt: BigInt(T0 + 10) * 1_000_000n,
      finishedAt: BigInt(T0 + 20) * 1_000_000n,
      labels: { container: "app" },
      annotations: { hash: "abc" },
    });
    expect(s?.imageRef).toMatch(/@sha256:[0-9a-f]{64}$/);
    const listed = await fake.listContainers({
      id: "",
      podSandboxId: sandboxId,
      state: { state: ContainerState.CONTAINER_EXITED },
      labelSelector: {},
    });
    expect(listed.map((c) => c.id)).toEqual([id]);
  });

  it("answers wrong calls with containerd's codes and messages", async () => {
    const { fake, sandboxId, config } = await setup();
    const notFound = await rejection(fake.containerStatus("nope", false));
    expect(notFound?.code).toBe(ErrorCode.NotFound);
    expect(notFound?.message).toBe(
      'ContainerStatus: an error occurred when try to find container "nope": not found',
    );
    expect((await rejection(fake.startContainer("nope")))?.code).toBe(ErrorCode.NotFound);
    expect((await rejection(fake.stopContainer("nope", 0)))?.code).toBe(ErrorCode.NotFound);
    await fake.removeContainer("nope"); // OK
    expect((await rejection(fake.createContainer("nope", containerConfig("x"), config)))?.code).toBe(
      ErrorCode.NotFound,
    );

    const id = await fake.createContainer(sandboxId, containerConfig("app"), config);
    const dup = await rejection(fake.createContainer(sandboxId, containerConfig("app"), config));
    expect(dup?.code).toBe(ErrorCode.Unknown);
    expect(dup?.message).toMatch(/failed to reserve container name .* is reserved for/);

    const execCreated = await rejection(fake.execSync(id, ["true"], 1));
    expect(execCreated?.code).toBe(ErrorCode.Unknown);
    expect(execCreated?.message).toBe(
      "ExecSync: failed to exec in container: container is in CONTAINER_CREATED state",
    );
    await fake.stopContainer(id, 0); // a created container: nothing to stop
    await fake.startContainer(id);
    const again = await rejection(fake.startContainer(id));
    expect(again?.message).toMatch(/container is in CONTAINER_RUNNING state/);
    await fake.stopContainer(id, 2);
    expect((await fake.containerStatus(id, false)).status).toMatchObject({ exitCode: 143, reason: "Error" });
    await fake.stopContainer(id, 2); // stopping an exited container is OK
    expect((await rejection(fake.execSync(id, ["true"], 1)))?.message).toMatch(/CONTAINER_EXITED state/);
    expect((await rejection(fake.reopenContainerLog(id)))?.code).toBe(ErrorCode.Unknown);
  });

  it("removes a sandbox with its containers, stopping them, and emits container events", async () => {
    const { fake, sandboxId, config } = await setup();
    const events: ContainerEventType[] = [];
    const controller = new AbortController();
    const reading = (async () => {
      for await (const e of fake.getContainerEvents({}, { signal: controller.signal })) {
        events.push(e.containerEventType);
        if (e.containerEventType === ContainerEventType.CONTAINER_DELETED_EVENT) break;
      }
    })();
    await new Promise((r) => setImmediate(r));
    const id = await fake.createContainer(sandboxId, containerConfig("app"), config);
    await fake.startContainer(id);
    await fake.removePodSandbox(sandboxId);
    await reading;
    expect(events).toEqual([
      ContainerEventType.CONTAINER_CREATED_EVENT,
      ContainerEventType.CONTAINER_STARTED_EVENT,
      ContainerEventType.CONTAINER_STOPPED_EVENT,
      ContainerEventType.CONTAINER_DELETED_EVENT,
    ]);
    expect((await rejection(fake.containerStatus(id, false)))?.code).toBe(ErrorCode.NotFound);
  });

  it("runs scripted ExecSync: a non-zero exit is a CommandExitError, as from cri-remote", async () => {
    const { fake, sandboxId, config } = await setup();
    const id = await fake.createContainer(sandboxId, containerConfig("app"), config);
    await fake.startContainer(id);
    expect((await fake.execSync(id, ["true"], 1)).exitCode).toBe(0);
    fake.onExec(({ cmd }) => ({
      stdout: `ran ${cmd.join(" ")}\n`,
      stderr: "oops\n",
      exitCode: cmd[0] === "false" ? 1 : 0,
    }));
    expect((await fake.execSync(id, ["echo"], 1)).stdout.toString()).toBe("ran echo\n");
    const failed = await rejection(fake.execSync(id, ["false"], 1));
    expect(failed).toBeInstanceOf(CommandExitError);
    expect((failed as CommandExitError).exitCode).toBe(1);
    expect((failed as CommandExitError).stderr.toString()).toBe("oops\n");
  });

  it("writes printed output to the log path in the CRI format", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "cri-testing-logs-"));
    const { fake, sandboxId, config, clock } = await setup(logDir);
    const id = await fake.createContainer(sandboxId, containerConfig("app"), config);
    await fake.startContainer(id);
    const logPath = join(logDir, "app/0.log");
    expect((await fake.containerStatus(id, false)).status?.logPath).toBe(logPath);
    expect(readFileSync(logPath, "utf8")).toBe("");
    fake.print(id, "hello\nworld\n");
    clock.advance(1);
    fake.print(id, "oops\npartial", "stderr");
    expect(readFileSync(logPath, "utf8")).toBe(
      "2026-11-27T10:00:00.123Z stdout F hello\n" +
        "2026-11-27T10:00:00.123Z stdout F world\n" +
        "2026-11-27T10:00:00.124Z stderr F oops\n" +
        "2026-11-27T10:00:00.124Z stderr P partial\n",
    );
    fake.exitContainer(id, 0);
    expect((await fake.containerStatus(id, false)).status?.reason).toBe("Completed");
    expect(() => fake.print(id, "late\n")).toThrow(/not running|CONTAINER_EXITED/);
  });
});

describe("createFakeRuntime: images", () => {
  it("pulls, lists, inspects and removes images, and reports their size in ImageFsInfo", async () => {
    const fake = createFakeRuntime({ defaultImageSize: 1000 });
    const ref = await fake.pullImage(
      ImageSpec.fromPartial({ image: "127.0.0.1:5000/app" }),
      undefined,
      undefined,
    );
    expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
    fake.addImage({ image: "127.0.0.1:5000/big:1", size: 5000 });
    const status = await fake.imageStatus(
      ImageSpec.fromPartial({ image: "127.0.0.1:5000/app:latest" }),
      false,
    );
    expect(status.image).toMatchObject({ id: ref, repoTags: ["127.0.0.1:5000/app:latest"], size: 1000n });
    expect((await fake.imageStatus(ImageSpec.fromPartial({ image: ref }), false)).image?.id).toBe(ref);
    expect(await fake.listImages()).toHaveLength(2);
    const fs = await fake.imageFsInfo();
    expect(fs.imageFilesystems[0]?.usedBytes?.value).toBe(6000n);
    await fake.removeImage(ImageSpec.fromPartial({ image: "127.0.0.1:5000/app" }));
    await fake.removeImage(ImageSpec.fromPartial({ image: "127.0.0.1:5000/app" })); // absent: OK
    expect((await fake.imageStatus(ImageSpec.fromPartial({ image: ref }), false)).image).toBeUndefined();
  });

  it("refuses a container whose image is not present", async () => {
    const fake = createFakeRuntime();
    const config = sandboxConfig("pod");
    const sandboxId = await fake.runPodSandbox(config, "");
    const err = await rejection(fake.createContainer(sandboxId, containerConfig("app"), config));
    expect(err?.code).toBe(ErrorCode.NotFound);
    expect(err?.message).toMatch(/failed to resolve image/);
  });
});

describe("createFakeRuntime: faults", () => {
  it("fails once, n times or always, for matching requests only, and can be removed", async () => {
    const { fake, sandboxId, config } = await setup();
    const once = fake.injectFault("CreateContainer", {
      code: ErrorCode.Unknown,
      message: "no space left on device",
      times: 1,
      when: (r) => r.config?.metadata?.name === "app",
    });
    const other = await fake.createContainer(sandboxId, containerConfig("other"), config);
    expect(other).toMatch(/^[0-9a-f]{64}$/);
    const err = await rejection(fake.createContainer(sandboxId, containerConfig("app"), config));
    expect(err?.code).toBe(ErrorCode.Unknown);
    expect(err?.message).toBe("CreateContainer: no space left on device");
    expect(once.hits).toBe(1);
    expect(once.remaining).toBe(0);
    await fake.createContainer(sandboxId, containerConfig("app"), config);

    const twice = fake.injectFault("ListContainers", { code: ErrorCode.RuntimeUnavailable, times: 2 });
    expect((await rejection(fake.listContainers()))?.code).toBe(ErrorCode.RuntimeUnavailable);
    expect((await rejection(fake.listContainers()))?.code).toBe(ErrorCode.RuntimeUnavailable);
    await fake.listContainers();
    expect(twice.hits).toBe(2);

    const always = fake.injectFault("Version", { code: ErrorCode.Unimplemented });
    for (let i = 0; i < 3; i++)
      expect((await rejection(fake.version("0.1.0")))?.code).toBe(ErrorCode.Unimplemented);
    always.remove();
    expect((await fake.version("0.1.0")).runtimeApiVersion).toBe("v1");
    expect(fake.calls("Version")).toHaveLength(4);
  });

  it("delays on the injected clock, and a call's deadline or signal ends the wait", async () => {
    const { fake, clock } = await setup();
    fake.injectFault("Status", { delayMs: 5000, times: 1 });
    let done = false;
    const slow = fake.status(false).then(() => {
      done = true;
    });
    await clock.advanceAsync(4999);
    expect(done).toBe(false);
    await clock.advanceAsync(1);
    await slow;
    expect(done).toBe(true);

    fake.injectFault("ListPodSandbox", { delayMs: Number.POSITIVE_INFINITY });
    const timedOut = rejection(fake.listPodSandbox(undefined, { timeoutMs: 100 }));
    await clock.advanceAsync(100);
    expect((await timedOut)?.code).toBe(ErrorCode.DeadlineExceeded);
    const controller = new AbortController();
    const cancelled = rejection(fake.listPodSandbox(undefined, { signal: controller.signal }));
    controller.abort();
    expect((await cancelled)?.code).toBe(ErrorCode.Cancelled);
  });

  it("turns a deadline of ExecSync into CommandTimedOut, as cri-remote does", async () => {
    const { fake, sandboxId, config, clock } = await setup();
    const id = await fake.createContainer(sandboxId, containerConfig("app"), config);
    await fake.startContainer(id);
    fake.injectFault("ExecSync", { code: ErrorCode.DeadlineExceeded, times: 1 });
    expect((await rejection(fake.execSync(id, ["sleep", "9"], 1)))?.code).toBe(ErrorCode.CommandTimedOut);
    fake.onExec(({ signal }) => clock.sleep(60_000, signal).then(() => ({ exitCode: 0 })));
    const hung = rejection(fake.execSync(id, ["sleep", "60"], 0, { timeoutMs: 50 }));
    await clock.advanceAsync(50);
    expect(isNodeletError(await hung, ErrorCode.CommandTimedOut)).toBe(true);
  });

  it("rejects calls after close() with RuntimeUnavailable", async () => {
    const fake = createFakeRuntime();
    fake.close();
    expect((await rejection(fake.version("0.1.0")))?.code).toBe(ErrorCode.RuntimeUnavailable);
  });
});
