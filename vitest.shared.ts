import type { TestProjectInlineConfiguration } from "vitest/config";

/**
 * Every package's two test projects: `unit` (test/*.test.ts) and `integration`
 * (test/integration/**), the latter against the project's real containerd and registries, brought
 * up (or reused) by the testenv global setup — never mocked, never skipped.
 */
export function testProjects(
  integration: { testTimeout?: number; hookTimeout?: number; fileParallelism?: boolean } = {},
): TestProjectInlineConfiguration[] {
  return [
    { test: { name: "unit", include: ["test/*.test.ts"] } },
    {
      test: {
        name: "integration",
        include: ["test/integration/**/*.test.ts"],
        globalSetup: ["@nodelet/testenv/global-setup"],
        // scripts/test.sh (CI) allows one retry of a failed integration test: every package's suites
        // run at once on a 2-core machine, three times (Node 20, 22, 24), and one slow runtime call
        // must not throw a whole run away. A test that fails twice still fails the run.
        retry: Number(process.env.NODELET_TEST_RETRY ?? 0),
        testTimeout: integration.testTimeout ?? 60_000,
        hookTimeout: integration.hookTimeout ?? 120_000,
        ...(integration.fileParallelism === undefined
          ? {}
          : { fileParallelism: integration.fileParallelism }),
      },
    },
  ];
}
