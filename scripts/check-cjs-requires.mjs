// Every package's CommonJS build, checked for a default import of an ES-module-only dependency.
// require() of an ES module (Node >= 20.19) returns its namespace, so tsup's
// `(0, import_x.default)(...)` is not a function and fails only when that code runs (p-limit did
// in container-gc and the agent). Such a dependency must be bundled into the CJS build instead
// (tsup `noExternal`, as image-manager does). Usage: node scripts/check-cjs-requires.mjs
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const root = join(dirname(new URL(import.meta.url).pathname), "..");

/** The nearest package.json's "type" decides for .js files. */
function isEsModule(file) {
  if (file.endsWith(".mjs")) return true;
  if (file.endsWith(".cjs")) return false;
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, "utf8")).type === "module";
  }
  return false;
}

const problems = [];
for (const name of readdirSync(join(root, "packages"))) {
  const dist = join(root, "packages", name, "dist");
  if (!existsSync(dist)) continue;
  const resolveFrom = createRequire(join(root, "packages", name, "package.json"));
  for (const file of readdirSync(dist).filter((f) => f.endsWith(".cjs"))) {
    const code = readFileSync(join(dist, file), "utf8");
    for (const [, binding, spec] of code.matchAll(/var (\w+) = __toESM\(require\("([^"]+)"\)/g)) {
      if (spec.startsWith("node:") || spec.startsWith(".")) continue;
      if (!code.includes(`${binding}.default`)) continue;
      let resolved;
      try {
        resolved = resolveFrom.resolve(spec);
      } catch {
        continue; // an optional dependency that is not installed: not this check's business
      }
      if (isEsModule(resolved)) {
        problems.push(
          `packages/${name}/dist/${file}: default import of "${spec}", an ES module: require() gives its ` +
            `namespace, not the function. Bundle it into the CJS build (tsup noExternal, see image-manager).`,
        );
      }
    }
  }
}
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log("CJS builds: no default import of an ES-module-only dependency");
