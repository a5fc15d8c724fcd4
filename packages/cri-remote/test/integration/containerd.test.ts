import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthConfig,
  ContainerConfig,
  ContainerFilter,
  ContainerState,
  ContainerStatsFilter,
  ImageSpec,
  LinuxContainerResources,
  NamespaceMode,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxState,
} from "@nodelet/cri-api";
import {
  CommandExitError,
  ErrorCode,
  type ImageManagerService,
  isNodeletError,
  isRegistryUnauthorized,
  NodeletError,
  type RuntimeService,
} from "@nodelet/runtime-api";
import { readTestEnv, type TestEnv } from "@nodelet/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRemoteImageService, createRemoteRuntimeService } from "../../src/index.js";

let env: TestEnv;
let runtime: RuntimeService;
let images: ImageManagerService;
const runId = `${process.pid}-${Date.now().toString(36)}`;
const logRoot = mkdtempSync(join(tmpdir(), "nodelet-cri-logs-"));

beforeAll(async () => {
  env = await readTestEnv();
  runtime = await createRemoteRuntimeService(env.criEndpoint);
  images = await createRemoteImageService(env.criEndpoint);
  await images.pullImage(ImageSpec.fromPartial({ image: env.images.busybox }), undefined, undefined);
});

afterAll(async () => {
  // Leave nothing behind in the shared containerd, even after a failed test.
  const sandboxes = await runtime.listPodSandbox(
    PodSandboxFilter.fromPartial({ labelSelector: { "nodelet.test/run": runId } }),
  );
  for (const s of sandboxes) {
    await runtime.stopPodSandbox(s.id);
    await runtime.removePodSandbox(s.id);
  }
  runtime.close();
  images.close();
});

function sandboxConfig(name: string): PodSandboxConfig {
  const uid = `${name}-${runId}`;
  return PodSandboxConfig.fromPartial({
    metadata: { name, uid, namespace: "cri-remote-test", attempt: 0 },
    hostname: name,
    logDirectory: join(logRoot, uid),
    labels: { "nodelet.test/run": runId, "io.kubernetes.pod.uid": uid },
    linux: {
      securityContext: {
        namespaceOptions: {
          network: NamespaceMode.POD,
          pid: NamespaceMode.CONTAINER,
          ipc: NamespaceMode.POD,
        },
      },
    },
  });
}

function containerConfig(name: string, command: string[]): ContainerConfig {
  return ContainerConfig.fromPartial({
    metadata: { name, attempt: 0 },
    image: { image: env.images.busybox },
    command,
    labels: { "nodelet.test/run": runId, "nodelet.test/container": name },
    logPath: `${name}/0.log`,
  });
}

describe("cri-remote against containerd", () => {
  it("answers Version and Status", async () => {
    const v = await runtime.version("0.1.0");
    expect(v.runtimeName).toBe("containerd");
    expect(v.runtimeApiVersion).toBe("v1");
    const s = await runtime.status(true);
    const conditions = Object.fromEntries(s.status?.conditions.map((c) => [c.type, c.status]) ?? []);
    expect(conditions).toMatchObject({ RuntimeReady: true, NetworkReady: true });
  });

  it("runs a pod through its whole lifecycle", async () => {
    const config = sandboxConfig("lifecycle");
    const sandboxId = await runtime.runPodSandbox(config, "");
    expect(sandboxId).toMatch(/^[0-9a-f]{64}$/);

    const sandbox = await runtime.podSandboxStatus(sandboxId, true);
    expect(sandbox.status?.state).toBe(PodSandboxState.SANDBOX_READY);
    expect(sandbox.status?.metadata?.uid).toBe(config.metadata?.uid);
    expect(sandbox.status?.network?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(Object.keys(sandbox.info)).toContain("info"); // verbose

    const listed = await runtime.listPodSandbox(
      PodSandboxFilter.fromPartial({
        labelSelector: { "io.kubernetes.pod.uid": config.metadata?.uid ?? "" },
      }),
    );
    expect(listed.map((s) => s.id)).toEqual([sandboxId]);

    const containerId = await runtime.createContainer(
      sandboxId,
      containerConfig("app", ["sleep", "3600"]),
      config,
    );
    await runtime.startContainer(containerId);

    const byLabel = await runtime.listContainers(
      ContainerFilter.fromPartial({
        labelSelector: { "nodelet.test/container": "app", "nodelet.test/run": runId },
      }),
    );
    expect(byLabel.map((c) => c.id)).toEqual([containerId]);
    expect(byLabel[0]?.state).toBe(ContainerState.CONTAINER_RUNNING);

    const status = await runtime.containerStatus(containerId, true);
    expect(status.status?.state).toBe(ContainerState.CONTAINER_RUNNING);
    expect(status.status?.logPath).toBe(join(logRoot, config.metadata?.uid ?? "", "app/0.log"));
    expect(status.status?.startedAt).toBeGreaterThan(0n);
    expect(JSON.parse(status.info.info ?? "{}").pid).toBeGreaterThan(0);

    const exec = await runtime.execSync(containerId, ["sh", "-c", "echo hello; echo oops >&2"], 10);
    expect(exec.stdout.toString()).toBe("hello\n");
    expect(exec.stderr.toString()).toBe("oops\n");
    const failing = await runtime.execSync(containerId, ["sh", "-c", "exit 7"], 10).catch((e: unknown) => e);
    expect(failing).toBeInstanceOf(CommandExitError);
    expect((failing as CommandExitError).exitCode).toBe(7);

    await runtime.updateContainerResources(containerId, {
      linux: LinuxContainerResources.fromPartial({
        cpuShares: 512n,
        memoryLimitInBytes: 64n * 1024n * 1024n,
      }),
    });
    const updated = await runtime.containerStatus(containerId, true);
    const spec = JSON.parse(updated.info.info ?? "{}").runtimeSpec;
    expect(spec.linux.resources.memory.limit).toBe(64 * 1024 * 1024);
    expect(spec.linux.resources.cpu.shares).toBe(512);

    const stats = await runtime.listContainerStats(
      ContainerStatsFilter.fromPartial({ podSandboxId: sandboxId }),
    );
    expect(stats.map((s) => s.attributes?.id)).toContain(containerId);

    const execUrl = await runtime.exec({ containerId, cmd: ["sh"], stdout: true });
    expect(execUrl.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/exec\//);
    const attachUrl = await runtime.attach({ containerId, stdout: true });
    expect(attachUrl.url).toMatch(/\/attach\//);
    const pfUrl = await runtime.portForward({ podSandboxId: sandboxId, port: [80] });
    expect(pfUrl.url).toMatch(/\/portforward\//);

    await runtime.stopContainer(containerId, 1);
    const stopped = await runtime.containerStatus(containerId, false);
    expect(stopped.status?.state).toBe(ContainerState.CONTAINER_EXITED);
    await runtime.removeContainer(containerId);

    const gone = await runtime.containerStatus(containerId, false).catch((e: unknown) => e);
    expect(isNodeletError(gone, ErrorCode.NotFound)).toBe(true);

    await runtime.stopPodSandbox(sandboxId);
    await runtime.removePodSandbox(sandboxId);
    const sandboxGone = await runtime.podSandboxStatus(sandboxId, false).catch((e: unknown) => e);
    expect(isNodeletError(sandboxGone, ErrorCode.NotFound)).toBe(true);
  });

  it("cancels a running call with an AbortSignal", async () => {
    const config = sandboxConfig("cancel");
    const sandboxId = await runtime.runPodSandbox(config, "");
    const containerId = await runtime.createContainer(
      sandboxId,
      containerConfig("app", ["sleep", "3600"]),
      config,
    );
    await runtime.startContainer(containerId);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const err = await runtime
      .execSync(containerId, ["sleep", "30"], 0, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeletError);
    expect((err as NodeletError).code).toBe(ErrorCode.Cancelled);
  });

  it("reports GetContainerEvents as Unimplemented on containerd 1.6", async () => {
    const err = await (async () => {
      for await (const _ of runtime.getContainerEvents()) break;
    })().catch((e: unknown) => e);
    // containerd >= 1.7 implements it; then the stream simply opens.
    if (err !== undefined) expect((err as NodeletError).code).toBe(ErrorCode.Unimplemented);
  });
});

describe("images against the registries", () => {
  it("pulls from the auth registry only with credentials, keeping the runtime's 401 message", async () => {
    const image = ImageSpec.fromPartial({ image: env.images.authBusybox });
    const anonymous = await images.pullImage(image, undefined, undefined).catch((e: unknown) => e);
    expect(anonymous).toBeInstanceOf(NodeletError);
    expect((anonymous as NodeletError).message).toMatch(/401 Unauthorized/);
    expect(isRegistryUnauthorized(anonymous)).toBe(true);

    const wrong = await images
      .pullImage(image, AuthConfig.fromPartial({ username: env.auth.username, password: "wrong" }), undefined)
      .catch((e: unknown) => e);
    expect(isRegistryUnauthorized(wrong)).toBe(true);

    const ref = await images.pullImage(
      image,
      AuthConfig.fromPartial({ username: env.auth.username, password: env.auth.password }),
      undefined,
    );
    expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("lists, inspects and removes images, and reports filesystem usage", async () => {
    const ref = env.images.bench[0] as string;
    const spec = ImageSpec.fromPartial({ image: ref });
    await images.pullImage(spec, undefined, undefined);
    const listed = await images.listImages();
    expect(listed.some((i) => i.repoTags.includes(ref))).toBe(true);

    const status = await images.imageStatus(spec, true);
    expect(status.image?.repoTags).toContain(ref);
    expect(status.image?.size).toBeGreaterThan(0n);

    await images.removeImage(spec);
    const after = await images.imageStatus(spec, false);
    expect(after.image).toBeUndefined();

    const fs = await images.imageFsInfo();
    // containerd samples usage periodically (0 on a just-started runtime), so check where, not how much.
    expect(fs.imageFilesystems[0]?.fsId?.mountpoint).toContain(env.stateDir);
    expect(fs.imageFilesystems[0]?.usedBytes).toBeDefined();
  });
});
