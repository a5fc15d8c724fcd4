// What resourceFieldRef reports for a limit the container does not set: the node's allocatable,
// from getNodeAllocatable when given (both cpu and memory), else the machine's capacity.
import { availableParallelism, totalmem } from "node:os";
import type { ContainerConfig } from "@nodelet/cri-api";
import { createBackoff, KUBELET_BACKOFF, type V1Pod } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import type { KubeGenericRuntimeManagerOptions } from "../src/index.js";
import { createManagerOverFake } from "./support/fake-manager.js";

const pod: V1Pod = {
  metadata: { name: "web", namespace: "prod", uid: "uid-web" },
  spec: {
    containers: [
      {
        name: "app",
        image: "busybox:1.36",
        env: [
          { name: "CPU_LIMIT", valueFrom: { resourceFieldRef: { resource: "limits.cpu", divisor: "1m" } } },
          { name: "MEMORY_LIMIT", valueFrom: { resourceFieldRef: { resource: "limits.memory" } } },
        ],
      },
    ],
  },
};

async function envOfCreatedContainer(options: Partial<KubeGenericRuntimeManagerOptions>) {
  const { fake, manager } = await createManagerOverFake(options);
  await manager.syncPod(
    pod,
    await manager.getPodStatus("uid-web", "web", "prod"),
    [],
    createBackoff(KUBELET_BACKOFF),
  );
  const [create] = fake.calls("CreateContainer");
  expect(create).toBeDefined();
  const { config } = (create as { request: { config: ContainerConfig } }).request;
  return Object.fromEntries(config.envs.map((e) => [e.key, Buffer.from(e.value).toString("utf8")]));
}

describe("node allocatable in resourceFieldRef", () => {
  it("comes from getNodeAllocatable, cpu and memory both", async () => {
    const env = await envOfCreatedContainer({
      getNodeAllocatable: () => ({ cpuMilli: 3500, memoryBytes: 2 * 1024 ** 3 }),
    });
    expect(env.CPU_LIMIT).toBe("3500");
    expect(env.MEMORY_LIMIT).toBe(String(2 * 1024 ** 3));
  });

  it("is the machine's capacity without it", async () => {
    const env = await envOfCreatedContainer({});
    expect(env.CPU_LIMIT).toBe(String(availableParallelism() * 1000));
    expect(env.MEMORY_LIMIT).toBe(String(totalmem()));
  });
});
