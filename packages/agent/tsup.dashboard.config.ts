import { execFileSync } from "node:child_process";
import { appendFileSync, copyFileSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defineConfig } from "tsup";

// The dashboard (dashboard/*.ts, xterm.js bundled in): built into dist/dashboard/ at package build
// time and shipped in the package, so the page needs no CDN and works offline. Runs after the main
// build (package.json), then rewrites dist/THIRD_PARTY_NOTICES.md with every bundle's sources.
const require = createRequire(import.meta.url);

export default defineConfig({
  entry: { app: "dashboard/app.ts" },
  outDir: "dist/dashboard",
  format: ["iife"],
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: true,
  noExternal: [/.*/],
  outExtension: () => ({ js: ".js" }),
  onSuccess: async () => {
    copyFileSync("dashboard/index.html", "dist/dashboard/index.html");
    copyFileSync("dashboard/app.css", "dist/dashboard/app.css");
    copyFileSync(require.resolve("@xterm/xterm/css/xterm.css"), "dist/dashboard/xterm.css");
    execFileSync(
      process.execPath,
      [
        "../../scripts/third-party-notices.mjs",
        "dist/index.cjs.map",
        "dist/index.js.map",
        "dist/dashboard/app.js.map",
      ],
      { stdio: "inherit" },
    );
    // xterm.js ships source maps that name webpack:// sources, which the notices script cannot
    // trace to a package: its two packages are added here.
    for (const name of ["@xterm/xterm", "@xterm/addon-fit"]) {
      const root = dirname(require.resolve(`${name}/package.json`));
      const { version, license } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
      const text = readFileSync(join(root, "LICENSE"), "utf8").trim();
      appendFileSync(
        "dist/THIRD_PARTY_NOTICES.md",
        `\n## ${name} ${version} (${license})\n\nCopied into dist/dashboard/app.js.\n\n\`\`\`text\n${text}\n\`\`\`\n`,
      );
    }
  },
});
