// The runtime manager over the in-memory CRI (@nodelet/cri-testing), with its directories in
// fresh temporary folders: the set-up of the unit tests that drive syncPod and the status reads.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFakeRuntime, type FakeRuntime } from "@nodelet/cri-testing";
import {
  createKubeGenericRuntimeManager,
  type KubeGenericRuntimeManager,
  type KubeGenericRuntimeManagerOptions,
} from "../../src/index.js";

export interface ManagerOverFake {
  fake: FakeRuntime;
  manager: KubeGenericRuntimeManager;
}

/** `options` are added to (or replace) the defaults: no keyring entries, cgroup v2, node "testnode". */
export async function createManagerOverFake(
  options: Partial<KubeGenericRuntimeManagerOptions> = {},
  fake: FakeRuntime = createFakeRuntime(),
): Promise<ManagerOverFake> {
  const manager = await createKubeGenericRuntimeManager({
    runtimeService: fake,
    imageService: fake,
    rootDirectory: mkdtempSync(join(tmpdir(), "nodelet-kr-root-")),
    podLogsDirectory: mkdtempSync(join(tmpdir(), "nodelet-kr-logs-")),
    keyring: { lookup: async () => [] },
    cgroupV1: false,
    nodeName: "testnode",
    ...options,
  });
  return { fake, manager };
}
