import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { testProjects } from "../../vitest.shared.ts";

// The agent kills every runtime pod its sources do not describe, as the kubelet does: it must not
// share a containerd with the other packages' tests, so its integration tests get their own
// test environment (containerd, registries, CNI network) under .state/testenv-agent.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
process.env.NODELET_TESTENV_DIR ??= resolve(repoRoot, ".state/testenv-agent");

export default defineConfig({
  // One agent at a time: they would kill each other's pods.
  test: { projects: testProjects({ testTimeout: 120_000, hookTimeout: 180_000, fileParallelism: false }) },
});
