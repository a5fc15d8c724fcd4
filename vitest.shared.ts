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
        testTimeout: integration.testTimeout ?? 60_000,
        hookTimeout: integration.hookTimeout ?? 120_000,
        ...(integration.fileParallelism === undefined
          ? {}
          : { fileParallelism: integration.fileParallelism }),
      },
    },
  ];
}
