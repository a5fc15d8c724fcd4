// Summarises a V8 .cpuprofile (node --cpu-prof): where the process spent its samples, by function
// (self time) and by package, most first. `node bench/cpu-profile-summary.mjs FILE [top] [--from=S]`:
// `--from` leaves out the first S seconds (start-up, adoption) to see the idle loop alone.
import { readFileSync } from "node:fs";

const fromArg = process.argv.find((a) => a.startsWith("--from="));
const fromUs = fromArg ? Number(fromArg.slice(7)) * 1e6 : 0;
const [file, topArg] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
if (!file) {
  console.error("usage: node bench/cpu-profile-summary.mjs FILE.cpuprofile [top]");
  process.exit(2);
}
const top = Number(topArg ?? 20);
const profile = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// Self time per node: each sample's delta goes to the node sampled.
const self = new Map();
let at = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  at += profile.timeDeltas[i] ?? 0;
  if (at < fromUs) continue;
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const totalUs = profile.endTime - profile.startTime - fromUs;
const where = (url) => {
  if (!url) return "(native)";
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith("node:")) return "node core";
  const ours = /packages\/([^/]+)\//.exec(url);
  return ours ? `@nodelet/${ours[1]}` : url.replace(/^file:\/\//, "");
};
const fns = new Map();
const pkgs = new Map();
for (const [id, us] of self) {
  const { callFrame } = byId.get(id);
  const name = callFrame.functionName || "(anonymous)";
  const key = `${name}  ${where(callFrame.url)}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ""}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
  const pkg = ["(idle)", "(program)", "(garbage collector)"].includes(name) ? name : where(callFrame.url);
  pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
}
const busyUs = totalUs - (pkgs.get("(idle)") ?? 0);
const pct = (us) => `${((us / totalUs) * 100).toFixed(2)}%`.padStart(7);
console.log(
  `${file}: ${(totalUs / 1e6).toFixed(1)} s profiled, busy ${(busyUs / 1e6).toFixed(2)} s (${pct(busyUs).trim()} of one core)`,
);
console.log("\nby package (self time, % of the profiled time):");
for (const [k, us] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
console.log("\nby function:");
for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
