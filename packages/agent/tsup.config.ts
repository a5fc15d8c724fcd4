import { execFileSync } from "node:child_process";
import { defineConfig } from "tsup";

export default defineConfig([
  {
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    // import.meta.url (logging.ts finds the optional pino-pretty from here) in the CJS build too.
    shims: true,
    // p-limit is ESM-only: require(esm) hands CJS the module namespace, not the function, so the
    // builds carry their own copy (p-limit and yocto-queue, both MIT; scripts/check-cjs-requires.mjs).
    noExternal: ["p-limit", "yocto-queue"],
    // tsup's shim code and p-limit are copied into the builds: their licences go in
    // dist/THIRD_PARTY_NOTICES.md.
    onSuccess: async () => {
      execFileSync(
        process.execPath,
        ["../../scripts/third-party-notices.mjs", "dist/index.cjs.map", "dist/index.js.map"],
        { stdio: "inherit" },
      );
    },
    dts: true,
    sourcemap: true,
    target: "node20",
  },
  {
    entry: { cli: "src/cli.ts" },
    format: ["esm"],
    sourcemap: true,
    target: "node20",
    banner: { js: "#!/usr/bin/env node" },
  },
]);
