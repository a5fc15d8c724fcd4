// kuberuntime: syncPod and runInContainer against the raw CRI calls they issue, in the same run.
import { mkdtempSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import {
  CreateContainerRequest,
  ExecSyncRequest,
  ImageSpec,
  ImageStatusRequest,
  ImageServiceService as imageSvc,
  PodSandboxFilter,
  PodSandboxStatusRequest,
  RunPodSandboxRequest,
  StartContainerRequest,
  RuntimeServiceService as svc,
} from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import {
  createKubeGenericRuntimeManager,
  generateContainerConfig,
  generatePodSandboxConfig,
} from "@nodelet/kuberuntime";
import { createBackoff, KUBELET_BACKOFF } from "@nodelet/runtime-api";
import { latencyRow, throughputRow, withConcurrency } from "./harness.mjs";

const NS = `bench-kr-${process.pid}`;

function bareCall(client) {
  return (method, request) =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new Metadata(),
        { deadline: Date.now() + 240_000 },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
}

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
  const client = new Client(env.criEndpoint, credentials.createInsecure(), {
    "grpc.default_authority": "localhost",
  });
  const call = bareCall(client);
  const image = env.images.busybox;
  const imageRef = await images.pullImage(ImageSpec.fromPartial({ image }), undefined, undefined);
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
  const emptyStatus = (pod) => ({
    id: pod.metadata.uid,
    name: pod.metadata.name,
    namespace: NS,
    ips: [],
    containerStatuses: [],
    sandboxStatuses: [],
    timestamp: Date.now(),
  });
  const viaManager = async () => {
    const pod = newPod();
    const result = await manager.syncPod(pod, emptyStatus(pod), [], backoff);
    const err = result.error();
    if (err) throw err;
  };
  // The floor: the same CRI requests syncPod sends for this pod (configs generated beforehand,
  // untimed), issued straight through grpc-js: run the sandbox, read its status, check the image
  // (pull policy, then the image user), create and start the container.
  const prepareBare = async () => {
    const pod = newPod();
    const sandboxConfig = generatePodSandboxConfig(pod, 0, {
      podLogsDir: join(root, "logs"),
      seccompDefault: false,
    });
    await mkdir(sandboxConfig.logDirectory, { recursive: true });
    const containerConfig = await generateContainerConfig({
      pod,
      container: pod.spec.containers[0],
      containerType: "container",
      restartCount: 0,
      imageRef,
      userSpecifiedImage: image,
      podIPs: [],
      hostIPs: [],
      nodeName: "bench",
      rootDir: join(root, "root"),
      podLogsDir: join(root, "logs"),
      cpuCFSQuota: true,
      cpuCFSQuotaPeriodUs: 100_000,
      seccompDefault: false,
      memorySwapBehavior: "NoSwap",
      memoryCapacityBytes: totalmem(),
      cgroupV1: true,
    });
    return { sandboxConfig, containerConfig };
  };
  const viaBare = async ({ sandboxConfig, containerConfig }) => {
    const { podSandboxId } = await call(
      svc.runPodSandbox,
      RunPodSandboxRequest.fromPartial({ config: sandboxConfig }),
    );
    await call(svc.podSandboxStatus, PodSandboxStatusRequest.fromPartial({ podSandboxId }));
    await call(imageSvc.imageStatus, ImageStatusRequest.fromPartial({ image: { image } }));
    await call(imageSvc.imageStatus, ImageStatusRequest.fromPartial({ image: { image: imageRef } }));
    const { containerId } = await call(
      svc.createContainer,
      CreateContainerRequest.fromPartial({ podSandboxId, config: containerConfig, sandboxConfig }),
    );
    await call(svc.startContainer, StartContainerRequest.fromPartial({ containerId }));
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
        bare: viaBare,
        setup: (which) => (which === "bare" ? prepareBare() : undefined),
        teardown: removeAll,
      }),
    );
    const twenty = Array.from({ length: 20 });
    rows.push(
      await throughputRow("20 pods synced concurrently", {
        items: 20,
        rounds: 2,
        ours: () => withConcurrency(twenty, 20, viaManager),
        bare: (prepared) => withConcurrency(prepared, 20, viaBare),
        setup: (which) => (which === "bare" ? Promise.all(twenty.map(prepareBare)) : undefined),
        teardown: removeAll,
      }),
    );
    await viaManager();
    const [pod] = (await manager.getPods(false)).filter((p) => p.namespace === NS);
    const container = pod.containers[0];
    rows.push(
      await latencyRow("runInContainer `true`", {
        iterations: 80,
        ours: () => manager.runInContainer(container.id, ["true"], 10),
        bare: () =>
          call(
            svc.execSync,
            ExecSyncRequest.fromPartial({ containerId: container.id.id, cmd: ["true"], timeout: 10n }),
          ),
      }),
    );
  } finally {
    await removeAll();
    runtime.close();
    images.close();
    client.close();
  }
  return rows;
}
