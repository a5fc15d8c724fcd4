// What the lifecycle integration tests share: a busybox pod on the real containerd, a CommandRunner
// over the CRI, and waiting for a port in the pod.
import { mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ContainerConfig,
  ImageSpec,
  NamespaceMode,
  PodSandboxConfig,
  PodSandboxFilter,
} from "@nodelet/cri-api";
import type { CommandRunner, ContainerID, ImageManagerService, RuntimeService } from "@nodelet/runtime-api";
import type { TestEnv } from "@nodelet/testenv";

/** kuberuntime's RunInContainer over the CRI: stdout then stderr; a non-zero exit or a timeout rejects. */
export function commandRunnerFor(service: RuntimeService): CommandRunner {
  return {
    async runInContainer(id, cmd, timeoutSeconds) {
      const result = await service.execSync(id.id, cmd, timeoutSeconds);
      return Buffer.concat([result.stdout, result.stderr]);
    },
  };
}

export async function waitForPort(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface TestPod {
  containerId: ContainerID;
  podIP: string;
}

/** Runs one busybox container in a fresh sandbox labelled with `runId` (see removeTestPods). */
export async function startBusyboxPod(options: {
  env: TestEnv;
  runtime: RuntimeService;
  images: ImageManagerService;
  runId: string;
  name: string;
  uid: string;
  namespace: string;
  containerName: string;
  command: string[];
}): Promise<TestPod> {
  const { env, runtime, images, runId, uid } = options;
  await images.pullImage(ImageSpec.fromPartial({ image: env.images.busybox }), undefined, undefined);
  const sandboxConfig = PodSandboxConfig.fromPartial({
    metadata: { name: options.name, uid, namespace: options.namespace, attempt: 0 },
    hostname: options.name.slice(0, 63),
    logDirectory: join(mkdtempSync(join(tmpdir(), "nodelet-lifecycle-logs-")), uid),
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
  const sandboxId = await runtime.runPodSandbox(sandboxConfig, "");
  const id = await runtime.createContainer(
    sandboxId,
    ContainerConfig.fromPartial({
      metadata: { name: options.containerName, attempt: 0 },
      image: { image: env.images.busybox },
      command: options.command,
      labels: { "nodelet.test/run": runId },
      logPath: `${options.containerName}/0.log`,
    }),
    sandboxConfig,
  );
  await runtime.startContainer(id);
  const status = await runtime.podSandboxStatus(sandboxId, false);
  return { containerId: { type: "containerd", id }, podIP: status.status?.network?.ip ?? "" };
}

/** Leaves nothing behind in the shared containerd, even after a failed test. */
export async function removeTestPods(runtime: RuntimeService | undefined, runId: string): Promise<void> {
  if (!runtime) return;
  const sandboxes = await runtime.listPodSandbox(
    PodSandboxFilter.fromPartial({ labelSelector: { "nodelet.test/run": runId } }),
  );
  for (const s of sandboxes) {
    await runtime.stopPodSandbox(s.id);
    await runtime.removePodSandbox(s.id);
  }
}
