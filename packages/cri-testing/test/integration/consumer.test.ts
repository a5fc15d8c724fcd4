// A consumer outside the workspace installs @nodelet/cri-testing alone, from packed tarballs
// (npm --offline, so no registry is contacted), and runs the README's example and the cri-faults bin.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { installPackedPackage } from "@nodelet/testenv";
import { describe, expect, it } from "vitest";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The README's first ```js block. */
function readmeExample(): string {
  const readme = readFileSync(join(packageDir, "README.md"), "utf8");
  const match = /```js\n([\s\S]*?)```/.exec(readme);
  if (!match?.[1]) throw new Error("README.md has no ```js example");
  return match[1];
}

describe("a consumer that installs only @nodelet/cri-testing", () => {
  it("runs the README example and the cri-faults bin from the packed tarball", () => {
    const { appDir: app, tarballs } = installPackedPackage(packageDir);
    expect(tarballs.some((f) => f.includes("nodelet-cri-testing-"))).toBe(true);

    writeFileSync(join(app, "example.mjs"), readmeExample());
    const out = execFileSync("node", ["example.mjs"], { cwd: app, encoding: "utf8", timeout: 30_000 });
    const lines = out.trim().split("\n");
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout F hello$/);
    expect(lines[1]).toBe("Error");
    expect(lines[2]).toBe("true CreateContainer: no space left on device");
    expect(lines[3]).toMatch(/^unix:\/\/\/.*cri\.sock$/);

    const cjs = execFileSync(
      "node",
      ["-e", 'console.log(typeof require("@nodelet/cri-testing").createFakeRuntime)'],
      {
        cwd: app,
        encoding: "utf8",
      },
    );
    expect(cjs.trim()).toBe("function");
    const help = execFileSync(join(app, "node_modules/.bin/cri-faults"), ["--help"], { encoding: "utf8" });
    expect(help).toMatch(/--upstream <endpoint>/);
    // Packing and installing take 45-70 s beside the other suites on 2 cores.
  }, 180_000);
});
