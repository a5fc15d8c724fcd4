// The tsup builds of a package whose CommonJS build must carry its own copy of ESM-only
// dependencies: require(esm) hands CJS the module namespace, not the default export
// (scripts/check-cjs-requires.mjs finds those). Their licences go in dist/THIRD_PARTY_NOTICES.md.
import { execFileSync } from "node:child_process";
import type { Options } from "tsup";

export function esmAndCjsBuilds(bundledInCjs: string[]): Options[] {
  const common = {
    entry: ["src/index.ts"],
    dts: true,
    sourcemap: true,
    target: "node20",
  } as const;
  return [
    // The two builds run at once: each cleans only its own files.
    { ...common, format: ["esm"], clean: ["!**/*.cjs", "!**/*.cjs.map"] },
    {
      ...common,
      format: ["cjs"],
      clean: ["!**/*.js", "!**/*.js.map"],
      noExternal: bundledInCjs,
      onSuccess: async () => {
        execFileSync(process.execPath, ["../../scripts/third-party-notices.mjs", "dist/index.cjs.map"], {
          stdio: "inherit",
        });
      },
    },
  ];
}
