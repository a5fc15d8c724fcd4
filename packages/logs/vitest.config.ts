import { defineConfig } from "vitest/config";
import { testProjects } from "../../vitest.shared.ts";

// `load`: the 10 MB/s writer followed across rotations; heavy, so scripts/test.sh runs it alone
// (pnpm --filter @nodelet/logs run test:load) instead of beside every other suite.
export default defineConfig({
  test: {
    projects: [
      ...testProjects(),
      {
        test: {
          name: "load",
          include: ["test/load/**/*.test.ts"],
          globalSetup: ["@nodelet/testenv/global-setup"],
          testTimeout: 300_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
