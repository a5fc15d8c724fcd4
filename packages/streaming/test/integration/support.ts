// What the streaming integration tests share: busybox pods on the real containerd (labelled with
// the run id, removed afterwards), fresh streaming URLs from the runtime, and reading a stream.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import {
  ContainerConfig,
  ImageSpec,
  NamespaceMode,
  PodSandboxConfig,
  PodSandboxFilter,
} from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import type { RuntimeService } from "@nodelet/runtime-api";
import { readTestEnv } from "@nodelet/testenv";

export interface Runtime {
  service: RuntimeService;
  busybox: string;
}

export async function connectRuntime(): Promise<Runtime> {
  const env = await readTestEnv();
  const service = await createRemoteRuntimeService(env.criEndpoint);
  const images = await createRemoteImageService(env.criEndpoint);
  await images.pullImage(ImageSpec.fromPartial({ image: env.images.busybox }), undefined, undefined);
  return { service, busybox: env.images.busybox };
}

export interface TestPod {
  sandboxId: string;
  containerId: string;
}

/** One busybox container running `command` in a fresh sandbox labelled with `runId`. */
export async function startPod(
  rt: Runtime,
  runId: string,
  name: string,
  command: string[],
  options: { stdin?: boolean; tty?: boolean } = {},
): Promise<TestPod> {
  const uid = `${name}-uid`;
  const sandboxConfig = PodSandboxConfig.fromPartial({
    metadata: { name, uid, namespace: "streaming-test", attempt: 0 },
    hostname: name.slice(0, 63),
    logDirectory: join(mkdtempSync(join(tmpdir(), "nodelet-streaming-logs-")), uid),
    labels: { "nodelet.test/run": runId },
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
  const sandboxId = await rt.service.runPodSandbox(sandboxConfig, "");
  const containerId = await rt.service.createContainer(
    sandboxId,
    ContainerConfig.fromPartial({
      metadata: { name: "main", attempt: 0 },
      image: { image: rt.busybox },
      command,
      stdin: options.stdin ?? false,
      tty: options.tty ?? false,
      labels: { "nodelet.test/run": runId },
      logPath: "main/0.log",
    }),
    sandboxConfig,
  );
  await rt.service.startContainer(containerId);
  return { sandboxId, containerId };
}

export async function removePods(rt: Runtime | undefined, runId: string): Promise<void> {
  if (!rt) return;
  const sandboxes = await rt.service.listPodSandbox(
    PodSandboxFilter.fromPartial({ labelSelector: { "nodelet.test/run": runId } }),
  );
  for (const s of sandboxes) {
    await rt.service.stopPodSandbox(s.id);
    await rt.service.removePodSandbox(s.id);
  }
}

export async function execUrl(
  rt: Runtime,
  containerId: string,
  cmd: string[],
  streams: { stdin?: boolean; stdout?: boolean; stderr?: boolean; tty?: boolean } = {},
): Promise<string> {
  const res = await rt.service.exec({
    containerId,
    cmd,
    stdin: streams.stdin ?? false,
    stdout: streams.stdout ?? true,
    stderr: streams.stderr ?? !streams.tty,
    tty: streams.tty ?? false,
  });
  return res.url;
}

export async function readAll(stream: Readable | null): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
