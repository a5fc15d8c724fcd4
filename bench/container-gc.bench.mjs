// container GC: one pass over dead containers of deleted pods (Runtime.garbageCollect's collector
// over the runtime manager's removal path) against the bare floor of the same work in the same run:
// list containers and sandboxes, RemoveContainer of each dead container, then StopPodSandbox and
// RemovePodSandbox of each sandbox, at the collector's concurrency (2), through a bare grpc-js client.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContainerGC, DEFAULT_GC_POLICY } from "@nodelet/container-gc";
import {
  ContainerConfig,
  ImageSpec,
  ListContainersRequest,
  ListPodSandboxRequest,
  PodSandboxConfig,
  RemoveContainerRequest,
  RemovePodSandboxRequest,
  StopPodSandboxRequest,
  RuntimeServiceService as svc,
} from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import { createKubeGenericRuntimeManager } from "@nodelet/kuberuntime";
import { createBareClient } from "./cri-floor.mjs";
import { sized, throughputRow, withConcurrency } from "./harness.mjs";

const NS = `bench-gc-${process.pid}`;
const CONCURRENCY = 2;

export async function containerGCSuite(env) {
  const runtime = await createRemoteRuntimeService(env.criEndpoint);
  const images = await createRemoteImageService(env.criEndpoint);
  const root = mkdtempSync(join(tmpdir(), "nodelet-bench-gc-"));
  const manager = await createKubeGenericRuntimeManager({
    runtimeService: runtime,
    imageService: images,
    rootDirectory: join(root, "root"),
    // Empty: the pass finds no log directory to remove, as the floor removes none.
    podLogsDirectory: join(root, "logs"),
    nodeName: "bench",
  });
  const bare = createBareClient(env.criEndpoint);
  const image = ImageSpec.fromPartial({ image: env.images.busybox });
  await images.pullImage(image, undefined, undefined);
  const pods = sized(30, 3);
  const perPod = sized(10, 2);
  const items = pods * perPod;
  const mine = (uid) => uid.startsWith(`${NS}-`);
  let seq = 0;

  // Only this suite's pods: the shared containerd may hold others'.
  const gcRuntime = {
    ...manager.containerGCRuntime,
    listContainers: async () =>
      (await manager.containerGCRuntime.listContainers()).filter((c) => mine(c.podUid)),
    listSandboxes: async () =>
      (await manager.containerGCRuntime.listSandboxes()).filter((s) => mine(s.podUid)),
  };
  const gc = createContainerGC({
    runtime: gcRuntime,
    podState: { shouldPodContentBeRemoved: mine, shouldPodRuntimeBeRemoved: mine },
    podLogsDirectory: join(root, "logs"),
    concurrency: CONCURRENCY,
  });

  /** Untimed: `pods` stopped sandboxes of deleted pods, each with `perPod` dead (created) containers. */
  const setup = async () => {
    await withConcurrency(Array.from({ length: pods }), 4, async () => {
      const uid = `${NS}-${seq++}`;
      const config = PodSandboxConfig.fromPartial({
        metadata: { name: uid, namespace: NS, uid, attempt: 0 },
        labels: {
          "io.kubernetes.pod.uid": uid,
          "io.kubernetes.pod.namespace": NS,
          "io.kubernetes.pod.name": uid,
        },
        logDirectory: join(root, "sandbox-logs", uid),
        linux: {},
      });
      const sandboxId = await runtime.runPodSandbox(config, "");
      for (let attempt = 0; attempt < perPod; attempt++) {
        await runtime.createContainer(
          sandboxId,
          ContainerConfig.fromPartial({
            metadata: { name: "app", attempt },
            image,
            command: ["true"],
            logPath: `app/${attempt}.log`,
            labels: {
              "io.kubernetes.pod.uid": uid,
              "io.kubernetes.pod.namespace": NS,
              "io.kubernetes.pod.name": uid,
              "io.kubernetes.container.name": "app",
            },
          }),
          config,
        );
      }
      await runtime.stopPodSandbox(sandboxId);
    });
  };

  const ours = async () => {
    const result = await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    if (result.removedContainers !== items || result.removedSandboxes !== pods || result.failures > 0) {
      throw new Error(
        `the pass removed ${JSON.stringify(result)}, expected ${items} containers and ${pods} sandboxes`,
      );
    }
  };
  const floor = async () => {
    const byNs = { labelSelector: { "io.kubernetes.pod.namespace": NS } };
    const { containers } = await bare.call(
      svc.listContainers,
      ListContainersRequest.fromPartial({ filter: byNs }),
    );
    await withConcurrency(containers, CONCURRENCY, (c) =>
      bare.call(svc.removeContainer, RemoveContainerRequest.fromPartial({ containerId: c.id })),
    );
    const { items: sandboxes } = await bare.call(
      svc.listPodSandbox,
      ListPodSandboxRequest.fromPartial({ filter: byNs }),
    );
    await withConcurrency(sandboxes, CONCURRENCY, async (s) => {
      await bare.call(svc.stopPodSandbox, StopPodSandboxRequest.fromPartial({ podSandboxId: s.id }));
      await bare.call(svc.removePodSandbox, RemovePodSandboxRequest.fromPartial({ podSandboxId: s.id }));
    });
    if (containers.length !== items || sandboxes.length !== pods) {
      throw new Error(`the floor found ${containers.length} containers and ${sandboxes.length} sandboxes`);
    }
  };

  const rows = [];
  try {
    const row = await throughputRow(`container GC pass: ${items} dead containers in ${pods} deleted pods`, {
      rounds: 2,
      items,
      setup,
      ours,
      bare: floor,
    });
    rows.push({ ...row, target: 1.1 });
  } finally {
    const left = (await runtime.listPodSandbox()).filter((s) => mine(s.metadata?.uid ?? ""));
    for (const s of left) {
      await runtime.stopPodSandbox(s.id).catch(() => undefined);
      await runtime.removePodSandbox(s.id).catch(() => undefined);
    }
    runtime.close();
    images.close();
    bare.close();
  }
  return rows;
}
