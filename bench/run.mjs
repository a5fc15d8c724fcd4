// `pnpm bench`: runs every suite against the project's containerd, prints one table, writes JSON.
import { cpus } from "node:os";
import { readTestEnv } from "@nodelet/testenv";
import { agentSuite } from "./agent.bench.mjs";
import { criRemoteSuite } from "./cri-remote.bench.mjs";
import { printTable, writeResults } from "./harness.mjs";
import { imageManagerSuite } from "./image-manager.bench.mjs";
import { kuberuntimeSuite } from "./kuberuntime.bench.mjs";

const env = await readTestEnv();
const rows = [];
for (const suite of [criRemoteSuite, kuberuntimeSuite, imageManagerSuite, agentSuite])
  rows.push(...(await suite(env)));
printTable(rows);
const file = writeResults(rows, {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
});
console.log(`\nresults: ${file}`);
