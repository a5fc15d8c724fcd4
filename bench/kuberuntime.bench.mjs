// kuberuntime: syncPod and runInContainer against the raw CRI calls they issue, in the same run.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExecSyncRequest, ImageSpec, PodSandboxFilter, RuntimeServiceService as svc } from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import { createKubeGenericRuntimeManager } from "@nodelet/kuberuntime";
import { createBackoff, KUBELET_BACKOFF } from "@nodelet/runtime-api";
import { createBareClient, createPodFloor } from "./cri-floor.mjs";
import { latencyRow, throughputRow, withConcurrency } from "./harness.mjs";

const NS = `bench-kr-${process.pid}`;

export async function kuberuntimeSuite(env) {
  const runtime = await createRemoteRuntimeService(env.criEndpoint);
  const images = await createRemoteImageService(env.criEndpoint);
  const root = mkdtempSync(join(tmpdir(), "nodelet-bench-kr-"));
  const manager = await createKubeGenericRuntimeManager({
    runtimeService: runtime,
    imageService: images,
    rootDirectory: join(root, "root"),
    podLogsDirectory: join(root, "logs"),
    nodeName: "bench",
  });
  const bare = createBareClient(env.criEndpoint);
  const image = env.images.busybox;
  const imageRef = await images.pullImage(ImageSpec.fromPartial({ image }), undefined, undefined);
  const floor = createPodFloor({ call: bare.call, root, image, imageRef });
  const backoff = createBackoff(KUBELET_BACKOFF);
  let seq = 0;

  const newPod = () => {
    const uid = `${NS}-${seq++}`;
    return {
      metadata: { name: uid, namespace: NS, uid },
      spec: {
        containers: [{ name: "app", image, imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }],
        terminationGracePeriodSeconds: 1,
      },
    };
  };
  const viaManager = async () => {
    const pod = newPod();
    const status = {
      id: pod.metadata.uid,
      name: pod.metadata.name,
      namespace: NS,
      ips: [],
      containerStatuses: [],
      sandboxStatuses: [],
      timestamp: Date.now(),
    };
    const err = (await manager.syncPod(pod, status, [], backoff)).error();
    if (err) throw err;
  };
  const removeAll = async () => {
    const sandboxes = await runtime.listPodSandbox(
      PodSandboxFilter.fromPartial({ labelSelector: { "io.kubernetes.pod.namespace": NS } }),
    );
    await withConcurrency(sandboxes, 10, async (s) => {
      await runtime.stopPodSandbox(s.id);
      await runtime.removePodSandbox(s.id);
    });
  };

  const rows = [];
  try {
    rows.push(
      await latencyRow("syncPod, one container (image present)", {
        iterations: 12,
        warmup: 2,
        ours: viaManager,
        bare: floor.run,
        setup: (which) => (which === "bare" ? floor.prepare(newPod()) : undefined),
        teardown: removeAll,
      }),
    );
    const twenty = Array.from({ length: 20 });
    rows.push(
      await throughputRow("20 pods synced concurrently", {
        items: 20,
        rounds: 2,
        ours: () => withConcurrency(twenty, 20, viaManager),
        bare: (prepared) => withConcurrency(prepared, 20, floor.run),
        setup: (which) =>
          which === "bare" ? Promise.all(twenty.map(() => floor.prepare(newPod()))) : undefined,
        teardown: removeAll,
      }),
    );
    await viaManager();
    const [pod] = (await manager.getPods(false)).filter((p) => p.namespace === NS);
    const container = pod.containers[0];
    rows.push(
      await latencyRow("runInContainer `true`", {
        iterations: 120,
        ours: () => manager.runInContainer(container.id, ["true"], 10),
        bare: () =>
          bare.call(
            svc.execSync,
            ExecSyncRequest.fromPartial({ containerId: container.id.id, cmd: ["true"], timeout: 10n }),
          ),
      }),
    );
  } finally {
    await removeAll();
    runtime.close();
    images.close();
    bare.close();
  }
  return rows;
}
