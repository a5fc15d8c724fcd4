import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PodSandboxFilter } from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import { createFaultProxy } from "@nodelet/cri-testing";
import {
  type Backoff,
  createBackoff,
  type EventRecorder,
  type ImageManagerService,
  KUBELET_BACKOFF,
  type PodStatus,
  type PodSyncResult,
  type RuntimeService,
  type V1Container,
  type V1Pod,
} from "@nodelet/runtime-api";
import { readTestEnv, type TestEnv } from "@nodelet/testenv";
import {
  createKubeGenericRuntimeManager,
  type KubeGenericRuntimeManager,
  type KubeGenericRuntimeManagerOptions,
} from "../../src/index.js";

export interface RecordedEvent {
  pod: string;
  container: string | undefined;
  type: string;
  reason: string;
  message: string;
}

export interface Harness {
  env: TestEnv;
  runtime: RuntimeService;
  images: ImageManagerService;
  manager: KubeGenericRuntimeManager;
  events: RecordedEvent[];
  rootDir: string;
  podLogsDir: string;
  newManager(extra?: Partial<KubeGenericRuntimeManagerOptions>): Promise<KubeGenericRuntimeManager>;
  pod(name: string, containers: V1Container[], spec?: Partial<V1Pod["spec"]>): V1Pod;
  status(pod: V1Pod, manager?: KubeGenericRuntimeManager): Promise<PodStatus>;
  sync(pod: V1Pod, backoff?: Backoff, manager?: KubeGenericRuntimeManager): Promise<PodSyncResult>;
  waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
  cleanup(): Promise<void>;
}

/** Namespace that marks this run's pods, so cleanup removes exactly them. */
const namespace = `kr-${process.pid}-${Date.now().toString(36)}`;

export async function createHarness(): Promise<Harness> {
  const env = await readTestEnv();
  // NODELET_CRI_FAULT_PROXY=1 runs the suite through a fault proxy without rules: it must change nothing.
  const proxy =
    process.env.NODELET_CRI_FAULT_PROXY === "1"
      ? await createFaultProxy({
          upstream: env.criEndpoint,
          listen: join(mkdtempSync(join(tmpdir(), "nodelet-kr-proxy-")), "cri.sock"),
          rules: [],
        })
      : undefined;
  const endpoint = proxy?.endpoint ?? env.criEndpoint;
  const runtime = await createRemoteRuntimeService(endpoint);
  const images = await createRemoteImageService(endpoint);
  const rootDir = mkdtempSync(join(tmpdir(), "nodelet-kr-root-"));
  const podLogsDir = mkdtempSync(join(tmpdir(), "nodelet-kr-logs-"));
  const events: RecordedEvent[] = [];
  const recorder: EventRecorder = {
    event: (object, type, reason, message) =>
      events.push({
        pod: object.name,
        container: /\{(.+)\}/.exec(object.fieldPath ?? "")?.[1],
        type,
        reason,
        message,
      }),
  };
  const newManager = (extra: Partial<KubeGenericRuntimeManagerOptions> = {}) =>
    createKubeGenericRuntimeManager({
      runtimeService: runtime,
      imageService: images,
      rootDirectory: rootDir,
      podLogsDirectory: podLogsDir,
      eventRecorder: recorder,
      nodeName: "testnode",
      ...extra,
    });
  const manager = await newManager();
  let seq = 0;
  const backoff = createBackoff(KUBELET_BACKOFF);

  const harness: Harness = {
    env,
    runtime,
    images,
    manager,
    events,
    rootDir,
    podLogsDir,
    newManager,
    pod(name, containers, spec = {}) {
      seq++;
      return {
        metadata: { name, namespace, uid: `${namespace}-${name}-${seq}` },
        spec: { containers, terminationGracePeriodSeconds: 2, ...spec },
      };
    },
    status: (pod, m = manager) =>
      m.getPodStatus(pod.metadata.uid ?? "", pod.metadata.name ?? "", pod.metadata.namespace ?? ""),
    async sync(pod, b = backoff, m = manager) {
      return m.syncPod(pod, await harness.status(pod, m), [], b);
    },
    async waitFor(what, probe, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe();
        if (value !== undefined && value !== false) return value as never;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(100);
      }
    },
    async cleanup() {
      const pods = await manager.getPods(true);
      for (const p of pods.filter((x) => x.namespace === namespace)) {
        await manager.killPod(undefined, p, 0).catch(() => undefined);
      }
      const sandboxes = await runtime.listPodSandbox(
        PodSandboxFilter.fromPartial({ labelSelector: { "io.kubernetes.pod.namespace": namespace } }),
      );
      for (const s of sandboxes) {
        await runtime.stopPodSandbox(s.id).catch(() => undefined);
        await runtime.removePodSandbox(s.id);
      }
      runtime.close();
      images.close();
      await proxy?.close();
    },
  };
  return harness;
}

export function busybox(
  env: TestEnv,
  name: string,
  command: string[],
  extra: Partial<V1Container> = {},
): V1Container {
  return { name, image: env.images.busybox, imagePullPolicy: "IfNotPresent", command, ...extra };
}
