import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The agent kills every runtime pod its sources do not describe, as the kubelet does: it must not
// share a containerd with the other packages' tests, so its integration tests get their own
// test environment (containerd, registries, CNI network) under .state/testenv-agent.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
process.env.NODELET_TESTENV_DIR ??= resolve(repoRoot, ".state/testenv-agent");

export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/*.test.ts"] } },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["@nodelet/testenv/global-setup"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One agent at a time: they would kill each other's pods.
          fileParallelism: false,
        },
      },
    ],
  },
});
