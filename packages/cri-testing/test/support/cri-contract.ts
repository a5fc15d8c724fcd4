// The CRI contract both the fake and a real runtime must keep: the runtime-agnostic part of what
// cri-remote checks against containerd. One suite, several targets (the fake over gRPC, containerd,
// containerd through the fault proxy), each reached through cri-remote's client.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
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
  type NodeletError,
  type RuntimeService,
} from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecHandler } from "../../src/index.js";

export interface CriContractClients {
  runtime: RuntimeService;
  images: ImageManagerService;
  /** An image the runtime can pull and run `sh`, `sleep` and `echo` in. */
  image: string;
  /** A second pullable image, removed by the image test. */
  spareImage: string;
  /** What Version answers as runtime_name. */
  runtimeName: string;
  close(): Promise<void>;
}

export interface CriContractTarget {
  name: string;
  connect(): Promise<CriContractClients>;
}

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as NodeletError,
  );

/**
 * ExecSync for the fake that behaves like `sh -c` for the commands this suite runs: `echo X`,
 * `echo X >&2`, `exit N`, `sleep N` (until cancelled), joined by `;`.
 */
export const contractExec: ExecHandler = async ({ cmd, signal }) => {
  const script = cmd[0] === "sh" && cmd[1] === "-c" ? (cmd[2] ?? "") : cmd.join(" ");
  let stdout = "";
  let stderr = "";
  for (const step of script.split(";").map((s) => s.trim())) {
    const echo = /^echo (.*?)( >&2)?$/.exec(step);
    if (echo) {
      if (echo[2]) stderr += `${echo[1]}\n`;
      else stdout += `${echo[1]}\n`;
    } else if (/^exit \d+$/.test(step)) {
      return { stdout, stderr, exitCode: Number(step.slice(5)) };
    } else if (/^sleep \d+$/.test(step)) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, Number(step.slice(6)) * 1000);
        signal.addEventListener("abort", () => reject(clearTimeout(t) ?? signal.reason), { once: true });
      });
    }
  }
  return { stdout, stderr, exitCode: 0 };
};

export function describeCriContract(target: CriContractTarget): void {
  describe(`CRI contract: ${target.name}`, () => {
    let c: CriContractClients;
    const runId = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const logRoot = mkdtempSync(join(tmpdir(), "nodelet-contract-logs-"));

    beforeAll(async () => {
      c = await target.connect();
      await c.images.pullImage(ImageSpec.fromPartial({ image: c.image }), undefined, undefined);
    });

    afterAll(async () => {
      if (!c) return;
      // Leave nothing behind in a shared runtime, even after a failed test.
      const sandboxes = await c.runtime.listPodSandbox(
        PodSandboxFilter.fromPartial({ labelSelector: { "nodelet.test/run": runId } }),
      );
      for (const s of sandboxes) {
        await c.runtime.stopPodSandbox(s.id);
        await c.runtime.removePodSandbox(s.id);
      }
      await c.close();
    });

    function sandboxConfig(name: string): PodSandboxConfig {
      const uid = `${name}-${runId}`;
      return PodSandboxConfig.fromPartial({
        metadata: { name, uid, namespace: "cri-contract", attempt: 0 },
        hostname: name,
        logDirectory: join(logRoot, uid),
        labels: { "nodelet.test/run": runId, "io.kubernetes.pod.uid": uid },
        annotations: { "nodelet.test/note": name },
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
        image: { image: c.image },
        command,
        labels: { "nodelet.test/run": runId, "nodelet.test/container": name },
        annotations: { "nodelet.test/hash": "1234" },
        logPath: `${name}/0.log`,
      });
    }

    async function runningContainer(podName: string) {
      const config = sandboxConfig(podName);
      const sandboxId = await c.runtime.runPodSandbox(config, "");
      const containerId = await c.runtime.createContainer(
        sandboxId,
        containerConfig("app", ["sleep", "3600"]),
        config,
      );
      await c.runtime.startContainer(containerId);
      return { config, sandboxId, containerId };
    }

    it("answers Version and Status", async () => {
      const v = await c.runtime.version("0.1.0");
      expect(v).toMatchObject({ version: "0.1.0", runtimeApiVersion: "v1", runtimeName: c.runtimeName });
      const s = await c.runtime.status(true);
      const conditions = Object.fromEntries(s.status?.conditions.map((x) => [x.type, x.status]) ?? []);
      expect(conditions).toMatchObject({ RuntimeReady: true, NetworkReady: true });
    });

    it("runs a pod through its whole lifecycle", async () => {
      const config = sandboxConfig("lifecycle");
      const sandboxId = await c.runtime.runPodSandbox(config, "");
      expect(sandboxId).toMatch(/^[0-9a-f]{64}$/);

      const sandbox = await c.runtime.podSandboxStatus(sandboxId, true);
      expect(sandbox.status?.state).toBe(PodSandboxState.SANDBOX_READY);
      expect(sandbox.status?.metadata?.uid).toBe(config.metadata?.uid);
      expect(sandbox.status?.annotations).toMatchObject({ "nodelet.test/note": "lifecycle" });
      expect(sandbox.status?.network?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(Object.keys(sandbox.info)).toContain("info");

      const listed = await c.runtime.listPodSandbox(
        PodSandboxFilter.fromPartial({
          labelSelector: { "io.kubernetes.pod.uid": config.metadata?.uid ?? "" },
        }),
      );
      expect(listed.map((s) => s.id)).toEqual([sandboxId]);

      const containerId = await c.runtime.createContainer(
        sandboxId,
        containerConfig("app", ["sleep", "3600"]),
        config,
      );
      expect((await c.runtime.containerStatus(containerId, false)).status?.state).toBe(
        ContainerState.CONTAINER_CREATED,
      );
      await c.runtime.startContainer(containerId);

      const byLabel = await c.runtime.listContainers(
        ContainerFilter.fromPartial({
          labelSelector: { "nodelet.test/container": "app", "nodelet.test/run": runId },
        }),
      );
      expect(byLabel.map((x) => x.id)).toEqual([containerId]);
      expect(byLabel[0]?.state).toBe(ContainerState.CONTAINER_RUNNING);

      const status = await c.runtime.containerStatus(containerId, true);
      expect(status.status?.state).toBe(ContainerState.CONTAINER_RUNNING);
      expect(status.status?.logPath).toBe(join(logRoot, config.metadata?.uid ?? "", "app/0.log"));
      expect(status.status?.startedAt).toBeGreaterThan(0n);
      expect(status.status?.annotations).toMatchObject({ "nodelet.test/hash": "1234" });
      expect(JSON.parse(status.info.info ?? "{}").pid).toBeGreaterThan(0);

      const exec = await c.runtime.execSync(containerId, ["sh", "-c", "echo hello; echo oops >&2"], 10);
      expect(exec.stdout.toString()).toBe("hello\n");
      expect(exec.stderr.toString()).toBe("oops\n");
      const failing = await rejection(c.runtime.execSync(containerId, ["sh", "-c", "exit 7"], 10));
      expect(failing).toBeInstanceOf(CommandExitError);
      expect((failing as unknown as CommandExitError).exitCode).toBe(7);

      await c.runtime.updateContainerResources(containerId, {
        linux: LinuxContainerResources.fromPartial({
          cpuShares: 512n,
          memoryLimitInBytes: 64n * 1024n * 1024n,
        }),
      });
      const spec = JSON.parse(
        (await c.runtime.containerStatus(containerId, true)).info.info ?? "{}",
      ).runtimeSpec;
      expect(spec.linux.resources.memory.limit).toBe(64 * 1024 * 1024);
      expect(spec.linux.resources.cpu.shares).toBe(512);

      const stats = await c.runtime.listContainerStats(
        ContainerStatsFilter.fromPartial({ podSandboxId: sandboxId }),
      );
      expect(stats.map((s) => s.attributes?.id)).toContain(containerId);

      expect((await c.runtime.exec({ containerId, cmd: ["sh"], stdout: true })).url).toMatch(
        /^http:\/\/127\.0\.0\.1:\d+\/exec\//,
      );
      expect((await c.runtime.attach({ containerId, stdout: true })).url).toMatch(/\/attach\//);
      expect((await c.runtime.portForward({ podSandboxId: sandboxId, port: [80] })).url).toMatch(
        /\/portforward\//,
      );

      await c.runtime.stopContainer(containerId, 1);
      const stopped = (await c.runtime.containerStatus(containerId, false)).status;
      expect(stopped?.state).toBe(ContainerState.CONTAINER_EXITED);
      expect(stopped?.finishedAt).toBeGreaterThan(0n);
      expect(stopped?.exitCode).not.toBe(0);
      await c.runtime.stopContainer(containerId, 1); // stopping an exited container is not an error
      await c.runtime.removeContainer(containerId);
      expect((await rejection(c.runtime.containerStatus(containerId, false)))?.code).toBe(ErrorCode.NotFound);

      await c.runtime.stopPodSandbox(sandboxId);
      expect((await c.runtime.podSandboxStatus(sandboxId, false)).status?.state).toBe(
        PodSandboxState.SANDBOX_NOTREADY,
      );
      await c.runtime.removePodSandbox(sandboxId);
      expect((await rejection(c.runtime.podSandboxStatus(sandboxId, false)))?.code).toBe(ErrorCode.NotFound);
    });

    it("answers wrong calls with the runtime's codes", async () => {
      const unknown = "0".repeat(64);
      for (const call of [
        () => c.runtime.containerStatus(unknown, false),
        () => c.runtime.startContainer(unknown),
        () => c.runtime.stopContainer(unknown, 0),
        () => c.runtime.execSync(unknown, ["true"], 1),
        () => c.runtime.podSandboxStatus(unknown, false),
        () => c.runtime.stopPodSandbox(unknown),
      ]) {
        expect((await rejection(call()))?.code).toBe(ErrorCode.NotFound);
      }
      await c.runtime.removeContainer(unknown); // removals of what is not there succeed
      await c.runtime.removePodSandbox(unknown);

      const { config, sandboxId, containerId } = await runningContainer("wrong-calls");
      const dupSandbox = await rejection(c.runtime.runPodSandbox(config, ""));
      expect(dupSandbox?.code).toBe(ErrorCode.Unknown);
      expect(dupSandbox?.message).toMatch(/is reserved for/);
      const dupContainer = await rejection(
        c.runtime.createContainer(sandboxId, containerConfig("app", ["sleep", "1"]), config),
      );
      expect(dupContainer?.message).toMatch(/is reserved for/);
      expect((await rejection(c.runtime.startContainer(containerId)))?.message).toMatch(
        /container is in CONTAINER_RUNNING state/,
      );
      const created = await c.runtime.createContainer(
        sandboxId,
        containerConfig("idle", ["sleep", "1"]),
        config,
      );
      const execCreated = await rejection(c.runtime.execSync(created, ["true"], 1));
      expect(execCreated?.code).toBe(ErrorCode.Unknown);
      expect(execCreated?.message).toMatch(/container is in CONTAINER_CREATED state/);

      // Removing a sandbox takes its containers with it, running or not.
      await c.runtime.removePodSandbox(sandboxId);
      expect((await rejection(c.runtime.containerStatus(containerId, false)))?.code).toBe(ErrorCode.NotFound);
    });

    it("cancels a running call with an AbortSignal", async () => {
      const { containerId } = await runningContainer("cancel");
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const err = await rejection(
        c.runtime.execSync(containerId, ["sleep", "30"], 0, { signal: controller.signal }),
      );
      expect(isNodeletError(err, ErrorCode.Cancelled)).toBe(true);
    });

    it("serves GetContainerEvents or says Unimplemented (containerd 1.6)", async () => {
      const err = await (async () => {
        for await (const _ of c.runtime.getContainerEvents({}, { timeoutMs: 200 })) break;
      })().catch((e: unknown) => e as NodeletError);
      if (err !== undefined)
        expect([ErrorCode.Unimplemented, ErrorCode.DeadlineExceeded]).toContain(err.code);
    });

    it("pulls, lists, inspects and removes images, and reports filesystem usage", async () => {
      const spec = ImageSpec.fromPartial({ image: c.spareImage });
      const ref = await c.images.pullImage(spec, undefined, undefined);
      expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect((await c.images.listImages()).some((i) => i.repoTags.includes(c.spareImage))).toBe(true);
      const status = await c.images.imageStatus(spec, true);
      expect(status.image?.repoTags).toContain(c.spareImage);
      expect(status.image?.size).toBeGreaterThan(0n);
      await c.images.removeImage(spec);
      expect((await c.images.imageStatus(spec, false)).image).toBeUndefined();
      await c.images.removeImage(spec); // absent: not an error
      const fs = await c.images.imageFsInfo();
      expect(fs.imageFilesystems[0]?.fsId?.mountpoint).not.toBe("");
      expect(fs.imageFilesystems[0]?.usedBytes).toBeDefined();
    });
  });
}
