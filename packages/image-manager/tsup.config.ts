import { execFileSync } from "node:child_process";
import { defineConfig } from "tsup";

const common = {
  entry: ["src/index.ts"],
  dts: true,
  sourcemap: true,
  target: "node20",
} as const;

export default defineConfig([
  // The two builds run at once: each cleans only its own files.
  { ...common, format: ["esm"], clean: ["!**/*.cjs", "!**/*.cjs.map"] },
  {
    ...common,
    format: ["cjs"],
    clean: ["!**/*.js", "!**/*.js.map"],
    // p-limit is ESM-only: require(esm) hands CJS the module namespace, not the function, so the
    // CJS build carries its own copy (p-limit and yocto-queue, both MIT).
    noExternal: ["p-limit", "yocto-queue"],
    // Their licences ship with it: dist/THIRD_PARTY_NOTICES.md, from the build's source map.
    onSuccess: async () => {
      execFileSync(process.execPath, ["../../scripts/third-party-notices.mjs", "dist/index.cjs.map"], {
        stdio: "inherit",
      });
    },
  },
]);
