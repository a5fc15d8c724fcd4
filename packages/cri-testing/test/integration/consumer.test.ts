// A consumer outside the workspace installs @nodelet/cri-testing alone, from packed tarballs
// (npm --offline, so no registry is contacted), and runs the README's example and the cri-faults bin.
// The packing follows cri-remote's consumer test; both could share one testenv helper.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function locate(name: string, fromDir: string): string {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) throw new Error(`cannot find ${name} from ${fromDir}`);
  }
}

/** This package and its production dependencies, ours (to pack) and third-party (to tar as installed). */
function dependencyDirs(): { ours: string[]; theirs: string[] } {
  const ours = new Set([packageDir]);
  const theirs = new Set<string>();
  const queue = [packageDir];
  for (let dir = queue.pop(); dir !== undefined; dir = queue.pop()) {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const optional = new Set(Object.keys(manifest.optionalDependencies ?? {}));
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      let found: string;
      try {
        found = locate(name, dir);
      } catch (err) {
        if (optional.has(name)) continue;
        throw err;
      }
      const bucket = name.startsWith("@nodelet/") ? ours : theirs;
      if (!bucket.has(found)) {
        bucket.add(found);
        queue.push(found);
      }
    }
  }
  return { ours: [...ours], theirs: [...theirs] };
}

/** The README's first ```js block. */
function readmeExample(): string {
  const readme = readFileSync(join(packageDir, "README.md"), "utf8");
  const match = /```js\n([\s\S]*?)```/.exec(readme);
  if (!match?.[1]) throw new Error("README.md has no ```js example");
  return match[1];
}

describe("a consumer that installs only @nodelet/cri-testing", () => {
  it("runs the README example and the cri-faults bin from the packed tarball", () => {
    const work = mkdtempSync(join(tmpdir(), "nodelet-cri-testing-consumer-"));
    const tarballs = join(work, "tarballs");
    const app = join(work, "app");
    const { ours, theirs } = dependencyDirs();
    for (const dir of ours) {
      execFileSync("pnpm", ["pack", "--pack-destination", tarballs], { cwd: dir, stdio: "pipe" });
    }
    theirs.forEach((dir, i) => {
      // Identical files in pnpm's store are hard links, which npm does not extract: store copies.
      execFileSync("tar", [
        "-czf",
        join(tarballs, `dep-${i}.tgz`),
        "--hard-dereference",
        "--transform",
        "s,^\\.,package,",
        "-C",
        dir,
        ".",
      ]);
    });
    const files = readdirSync(tarballs).map((f) => join(tarballs, f));
    expect(files.some((f) => f.includes("nodelet-cri-testing-"))).toBe(true);
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "consumer", version: "1.0.0", private: true }),
    );
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", ...files], {
      cwd: app,
      stdio: "pipe",
    });

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
  });
});
