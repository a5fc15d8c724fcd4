// `pnpm bench`: runs the suites against the project's containerd, prints one table, writes JSON.
// `node bench/run.mjs [--quick] [suite...]`: only the named suites (all by default); --quick is the
// smoke run CI does (harness.mjs).
import { cpus } from "node:os";
import { readTestEnv } from "@nodelet/testenv";
import { agentSuite } from "./agent.bench.mjs";
import { containerGCSuite } from "./container-gc.bench.mjs";
import { criRemoteSuite } from "./cri-remote.bench.mjs";
import { printTable, quick, writeResults } from "./harness.mjs";
import { imageManagerSuite } from "./image-manager.bench.mjs";
import { kuberuntimeSuite } from "./kuberuntime.bench.mjs";
import { logsSuite } from "./logs.bench.mjs";
import { streamingSuite } from "./streaming.bench.mjs";

/** Every suite by name, in the order they run. Each takes the testenv and returns rows. */
const suites = {
  "cri-remote": criRemoteSuite,
  kuberuntime: kuberuntimeSuite,
  "container-gc": containerGCSuite,
  "image-manager": imageManagerSuite,
  logs: logsSuite,
  agent: agentSuite,
  streaming: streamingSuite,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const unknown = wanted.filter((name) => !(name in suites));
if (unknown.length > 0) {
  console.error(`bench: unknown suite ${unknown.join(", ")}; known: ${Object.keys(suites).join(", ")}`);
  process.exit(2);
}
const env = await readTestEnv();
const rows = [];
for (const [name, suite] of Object.entries(suites)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.error(`bench: ${name}${quick ? " (quick)" : ""}`);
  rows.push(...(await suite(env)));
}
printTable(rows);
const file = writeResults(rows, {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  quick,
});
console.log(`\nresults: ${file}`);
