// A pod through @nodelet/cri-remote: a busybox container prints a few lines, we show them from
// its CRI log file, then remove everything we made.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ContainerConfig,
  ContainerState,
  ImageSpec,
  NamespaceMode,
  PodSandboxConfig,
} from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import { readTestEnv } from "@nodelet/testenv";

const env = await readTestEnv();
const runtime = await createRemoteRuntimeService(env.criEndpoint);
const images = await createRemoteImageService(env.criEndpoint);
const v = await runtime.version("0.1.0");
console.log(
  `runtime: ${v.runtimeName} ${v.runtimeVersion} (CRI ${v.runtimeApiVersion}) at ${env.criEndpoint}`,
);

const image = env.images.busybox;
const ref = await images.pullImage(ImageSpec.fromPartial({ image }), undefined, undefined);
console.log(`image:   ${image} -> ${ref}`);

const uid = `demo-${Date.now()}`;
const logDirectory = mkdtempSync(join(tmpdir(), "nodelet-demo-"));
const sandboxConfig = PodSandboxConfig.fromPartial({
  metadata: { name: "hello", namespace: "default", uid, attempt: 0 },
  hostname: "hello",
  logDirectory,
  linux: {
    securityContext: { namespaceOptions: { network: NamespaceMode.POD, pid: NamespaceMode.CONTAINER } },
  },
});
const sandboxId = await runtime.runPodSandbox(sandboxConfig, "");
try {
  const sandbox = await runtime.podSandboxStatus(sandboxId, false);
  console.log(`pod:     ${sandboxId.slice(0, 12)} ip ${sandbox.status?.network?.ip}`);
  const containerId = await runtime.createContainer(
    sandboxId,
    ContainerConfig.fromPartial({
      metadata: { name: "greeter", attempt: 0 },
      image: { image },
      command: ["sh", "-c", 'for i in 1 2 3 4 5; do echo "hello from $(hostname), line $i"; done; sleep 1'],
      logPath: "greeter/0.log",
    }),
    sandboxConfig,
  );
  await runtime.startContainer(containerId);
  let status = await runtime.containerStatus(containerId, false);
  for (let i = 0; i < 100 && status.status?.state !== ContainerState.CONTAINER_EXITED; i++) {
    await sleep(100);
    status = await runtime.containerStatus(containerId, false);
  }
  console.log(`container ${containerId.slice(0, 12)} exited with ${status.status?.exitCode}; its output:`);
  // CRI log lines: "<time> <stream> <F|P> <text>".
  for (const line of readFileSync(status.status?.logPath ?? "", "utf8")
    .split("\n")
    .filter(Boolean)) {
    console.log(`  | ${line.split(" ").slice(3).join(" ")}`);
  }
} finally {
  await runtime.stopPodSandbox(sandboxId);
  await runtime.removePodSandbox(sandboxId);
  console.log("cleaned up: sandbox stopped and removed");
  runtime.close();
  images.close();
}
