// A consumer outside the workspace can install @nodelet/cri-remote alone and use it from ESM and CJS.
// Everything is installed from tarballs made here (npm --offline), so no registry is contacted.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { installPackedPackage, readTestEnv } from "@nodelet/testenv";
import { describe, expect, it } from "vitest";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

describe("a consumer that installs only @nodelet/cri-remote", () => {
  it("calls Version from a plain ESM script and from a CJS one", async () => {
    const env = await readTestEnv();
    const { appDir: app, tarballs } = installPackedPackage(packageDir);
    expect(tarballs.some((f) => f.includes("nodelet-cri-remote-"))).toBe(true);

    writeFileSync(
      join(app, "esm.mjs"),
      `import { createRemoteRuntimeService } from "@nodelet/cri-remote";
const rt = await createRemoteRuntimeService(process.argv[2]);
const v = await rt.version("0.1.0");
console.log(JSON.stringify({ name: v.runtimeName, api: v.runtimeApiVersion }));
rt.close();
`,
    );
    writeFileSync(
      join(app, "cjs.cjs"),
      `const { createRemoteRuntimeService } = require("@nodelet/cri-remote");
createRemoteRuntimeService(process.argv[2]).then(async (rt) => {
  const v = await rt.version("0.1.0");
  console.log(JSON.stringify({ name: v.runtimeName, api: v.runtimeApiVersion }));
  rt.close();
});
`,
    );
    for (const script of ["esm.mjs", "cjs.cjs"]) {
      // The process must also exit by itself after close(): a kept-alive handle would hit the timeout.
      const out = execFileSync("node", [script, env.criEndpoint], {
        cwd: app,
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(JSON.parse(out.trim())).toEqual({ name: "containerd", api: "v1" });
    }
    // Packing and an offline npm install alone take 10-20 s, but 45-70 s while the other packages'
    // suites run alongside on two cores: past the 60 s integration default.
  }, 180_000);
});
