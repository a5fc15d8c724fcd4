// The raw CRI floor of starting a one-container pod: the very requests kuberuntime's syncPod sends
// (configs generated beforehand, untimed), issued straight through a bare grpc-js client.
import { mkdir } from "node:fs/promises";
import { totalmem } from "node:os";
import { join } from "node:path";
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import {
  CreateContainerRequest,
  ImageStatusRequest,
  ImageServiceService as imageSvc,
  PodSandboxStatusRequest,
  RunPodSandboxRequest,
  StartContainerRequest,
  RuntimeServiceService as svc,
} from "@nodelet/cri-api";
import { generateContainerConfig, generatePodSandboxConfig } from "@nodelet/kuberuntime";

/** A bare unary caller with the kubelet's default deadline, as the floor of every row. */
export function createBareClient(endpoint) {
  const client = new Client(endpoint, credentials.createInsecure(), {
    "grpc.default_authority": "localhost",
  });
  const call = (method, request) =>
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
  return { call, close: () => client.close() };
}

export function createPodFloor({ call, root, image, imageRef }) {
  return {
    /** Untimed: the configs syncPod would generate for `pod`. */
    async prepare(pod) {
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
    },
    /** Timed: run the sandbox, read its status, check the image twice (policy, image user), create, start. */
    async run({ sandboxConfig, containerConfig }) {
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
    },
  };
}
