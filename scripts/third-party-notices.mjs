// Writes dist/THIRD_PARTY_NOTICES.md for the package in the current directory: the name, version,
// licence and licence text of every third-party package whose code a build copied into dist (an
// ESM-only dependency bundled into the CJS build, a tsup shim). It reads the build's source maps, so
// nothing bundled is missed and nothing merely imported is listed. Run by tsup's onSuccess; removes
// a stale notice when nothing is bundled. Fails when a bundled package ships no licence file.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const out = join("dist", "THIRD_PARTY_NOTICES.md");
const maps = process.argv.length > 2 ? process.argv.slice(2) : listMaps("dist");

function listMaps(dir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".map"))
    .map((f) => join(dir, f));
}

/** The directory of the package a bundled file belongs to: the nearest package.json with a name. */
function packageRoot(file) {
  for (let dir = dirname(file); dir.includes(`${sep}node_modules${sep}`); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name) return dir;
  }
  throw new Error(`${file}: no package.json above it inside node_modules`);
}

function licenceText(dir, name) {
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)([.-]|$)/i.test(f));
  if (file === undefined) throw new Error(`${name} is bundled into dist but ships no licence file (${dir})`);
  return readFileSync(join(dir, file), "utf8").trim();
}

/** package dir -> bundled outputs and files */
const bundled = new Map();
for (const map of maps) {
  const { sources, sourceRoot = "" } = JSON.parse(readFileSync(map, "utf8"));
  for (const source of sources) {
    const file = resolve(dirname(map), sourceRoot, source);
    if (!file.includes(`${sep}node_modules${sep}`)) continue;
    const root = packageRoot(file);
    const entry = bundled.get(root) ?? { outputs: new Set(), files: new Set() };
    entry.outputs.add(relative(".", map).replace(/\.map$/, ""));
    entry.files.add(relative(root, file));
    bundled.set(root, entry);
  }
}

if (bundled.size === 0) {
  rmSync(out, { force: true });
} else {
  const self = JSON.parse(readFileSync("package.json", "utf8")).name;
  const sections = [...bundled]
    .map(([root, { outputs, files }]) => {
      const { name, version, license } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
      return { name, version, license, outputs, files, text: licenceText(root, name) };
    })
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) =>
      [
        `## ${p.name} ${p.version} (${p.license ?? "see below"})`,
        "",
        `Copied into ${[...p.outputs].sort().join(", ")} from ${[...p.files].sort().join(", ")}.`,
        "",
        "```text",
        p.text,
        "```",
        "",
      ].join("\n"),
    );
  const header = [
    `# Third-party notices for ${self}`,
    "",
    `${self} is licensed under Apache-2.0 (LICENSE). Its build copies code of the packages`,
    "below into dist/; each keeps its own licence, reproduced here.",
    "",
  ].join("\n");
  writeFileSync(out, `${header}\n${sections.join("\n")}`);
}
