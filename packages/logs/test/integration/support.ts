// A busybox container on the shared containerd, with its log in a temp directory of this test run.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ContainerConfig,
  ImageSpec,
  NamespaceMode,
  PodSandboxConfig,
  PodSandboxFilter,
} from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import type { RuntimeService } from "@nodelet/runtime-api";
import { readTestEnv, type TestEnv } from "@nodelet/testenv";

export const runId = `logs-${process.pid}-${Date.now().toString(36)}`;
let seq = 0;

export interface Cri {
  env: TestEnv;
  runtime: RuntimeService;
  close(): Promise<void>;
}

export async function connectCri(): Promise<Cri> {
  const env = await readTestEnv();
  const runtime = await createRemoteRuntimeService(env.criEndpoint);
  const images = await createRemoteImageService(env.criEndpoint);
  await images.pullImage(ImageSpec.fromPartial({ image: env.images.busybox }), undefined, undefined);
  images.close();
  return {
    env,
    runtime,
    async close() {
      await removeTestPods(runtime);
      runtime.close();
    },
  };
}

export interface TestContainer {
  id: string;
  logPath: string;
}

/** Runs `script` (busybox sh -c) in a fresh sandbox on the host network; its log in a temp dir. */
export async function runContainer(cri: Cri, name: string, script: string): Promise<TestContainer> {
  seq += 1;
  const uid = `${runId}-${seq}`;
  const logDirectory = join(mkdtempSync(join(tmpdir(), "nodelet-logs-it-")), `ns_${name}_${uid}`);
  const sandboxConfig = PodSandboxConfig.fromPartial({
    metadata: { name: `${name}-${seq}`, uid, namespace: runId, attempt: 0 },
    logDirectory,
    labels: { "nodelet.test/run": runId, "io.kubernetes.pod.uid": uid },
    linux: {
      securityContext: {
        namespaceOptions: {
          network: NamespaceMode.NODE,
          pid: NamespaceMode.CONTAINER,
          ipc: NamespaceMode.POD,
        },
      },
    },
  });
  const sandboxId = await cri.runtime.runPodSandbox(sandboxConfig, "");
  const id = await cri.runtime.createContainer(
    sandboxId,
    ContainerConfig.fromPartial({
      metadata: { name, attempt: 0 },
      image: { image: cri.env.images.busybox },
      command: ["sh", "-c", script],
      labels: { "nodelet.test/run": runId },
      logPath: `${name}/0.log`,
    }),
    sandboxConfig,
  );
  await cri.runtime.startContainer(id);
  return { id, logPath: join(logDirectory, name, "0.log") };
}

export async function isRunning(cri: Cri, id: string): Promise<boolean> {
  return (await cri.runtime.containerStatus(id, false)).status?.state === 1;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function removeTestPods(runtime: RuntimeService): Promise<void> {
  const sandboxes = await runtime.listPodSandbox(
    PodSandboxFilter.fromPartial({ labelSelector: { "nodelet.test/run": runId } }),
  );
  for (const s of sandboxes) {
    await runtime.stopPodSandbox(s.id);
    await runtime.removePodSandbox(s.id);
  }
}
