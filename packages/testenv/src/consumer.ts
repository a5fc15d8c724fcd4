// A consumer outside the workspace: a package and its production dependencies packed into
// tarballs and installed with npm --offline into a fresh directory, so no registry is contacted.
// Consumer tests use it to check that a package works installed alone, as published.
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
import { dirname, join } from "node:path";

/** Finds `name` as Node would from `fromDir`: the nearest node_modules/<name> up the tree, symlinks resolved. */
function locate(name: string, fromDir: string): string {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) throw new Error(`cannot find ${name} from ${fromDir}`);
  }
}

/** Directories of every production dependency of a package, ours and third-party, as installed. */
function productionDependencyDirs(packageDir: string): { ours: string[]; theirs: string[] } {
  const ours = new Set<string>([packageDir]);
  const theirs = new Set<string>();
  const queue = [packageDir];
  for (let dir = queue.pop(); dir !== undefined; dir = queue.pop()) {
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

export interface PackedInstall {
  /** The consumer's directory: a package.json and node_modules with the package installed. */
  appDir: string;
  /** The tarballs installed. */
  tarballs: string[];
}

/** Packs `packageDir` (a workspace package) with its production dependencies and installs them in a new app. */
export function installPackedPackage(packageDir: string): PackedInstall {
  const work = mkdtempSync(join(tmpdir(), "nodelet-consumer-"));
  const tarballDir = join(work, "tarballs");
  const appDir = join(work, "app");
  const { ours, theirs } = productionDependencyDirs(packageDir);
  for (const dir of ours) {
    // pnpm pack turns workspace: ranges into real versions, as publishing does.
    execFileSync("pnpm", ["pack", "--pack-destination", tarballDir], { cwd: dir, stdio: "pipe" });
  }
  // Installed third-party packages are already in their published form: tar them as npm would.
  // Identical files in pnpm's store are hard links, which npm does not extract: store copies.
  theirs.forEach((dir, i) => {
    const out = join(tarballDir, `dep-${i}.tgz`);
    execFileSync("tar", [
      "-czf",
      out,
      "--hard-dereference",
      "--transform",
      "s,^\\.,package,",
      "-C",
      dir,
      ".",
    ]);
  });
  const tarballs = readdirSync(tarballDir).map((f) => join(tarballDir, f));
  mkdirSync(appDir);
  writeFileSync(
    join(appDir, "package.json"),
    JSON.stringify({ name: "consumer", version: "1.0.0", private: true }),
  );
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", ...tarballs], {
    cwd: appDir,
    stdio: "pipe",
  });
  return { appDir, tarballs };
}
