// A consumer outside the workspace can install @nodelet/cri-remote alone and use it from ESM and CJS.
// Everything is installed from tarballs made here (npm --offline), so no registry is contacted.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readTestEnv } from "@nodelet/testenv";
import { describe, expect, it } from "vitest";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Finds `name` as Node would from `fromDir`: the nearest node_modules/<name> up the tree, symlinks resolved. */
function locate(name: string, fromDir: string): string {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) throw new Error(`cannot find ${name} from ${fromDir}`);
  }
}

/** Directories of every production dependency of this package, ours and third-party, as installed. */
function productionDependencyDirs(): { ours: string[]; theirs: string[] } {
  const ours = new Set<string>([packageDir]);
  const theirs = new Set<string>();
  const queue = [packageDir];
  while (queue.length > 0) {
    const dir = queue.pop() as string;
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const optional = new Set(Object.keys(manifest.optionalDependencies ?? {}));
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      let found: string;
      try {
        found = locate(name, dir);
      } catch (err) {
        if (optional.has(name)) continue; // e.g. a platform-specific binary not installed here
        throw err;
      }
      const bucket = name.startsWith("@nodelet/") ? ours : theirs;
      if (bucket.has(found)) continue;
      bucket.add(found);
      queue.push(found);
    }
  }
  return { ours: [...ours], theirs: [...theirs] };
}

describe("a consumer that installs only @nodelet/cri-remote", () => {
  it("calls Version from a plain ESM script and from a CJS one", async () => {
    const env = await readTestEnv();
    const work = mkdtempSync(join(tmpdir(), "nodelet-consumer-"));
    const tarballs = join(work, "tarballs");
    const app = join(work, "app");
    const { ours, theirs } = productionDependencyDirs();
    for (const dir of ours) {
      // pnpm pack turns workspace: ranges into real versions, as publishing does.
      execFileSync("pnpm", ["pack", "--pack-destination", tarballs], { cwd: dir, stdio: "pipe" });
    }
    // Installed third-party packages are already in their published form: tar them as npm would.
    theirs.forEach((dir, i) => {
      const out = join(tarballs, `dep-${i}.tgz`);
      execFileSync("tar", ["-czf", out, "--transform", "s,^\\.,package,", "-C", dir, "."]);
    });
    const files = readdirSync(tarballs).map((f) => join(tarballs, f));
    expect(files.some((f) => f.includes("nodelet-cri-remote-"))).toBe(true);

    execFileSync("mkdir", ["-p", app]);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "consumer", version: "1.0.0", private: true }),
    );
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", ...files], {
      cwd: app,
      stdio: "pipe",
    });

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
  });
});
