import { defineConfig } from "vitest/config";
import { testProjects } from "../../vitest.shared.ts";

export default defineConfig({ test: { projects: testProjects() } });
