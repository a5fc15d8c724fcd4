// Timeline of one pod start through the agent: manifest write, agent log lines, gRPC calls.
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, writeFileSync, readdirSync, rmSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { up } from "@nodelet/testenv";
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const env = await up({ stateDir: join(repo, ".state/testenv-bench-agent") });
const work = mkdtempSync(join(tmpdir(), "exp-tl-"));
const manifests = join(work, "manifests");
await mkdir(manifests); await mkdir(join(work, "containers"));
const configFile = join(work, "config.yaml");
writeFileSync(configFile, `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nsyncFrequency: 1m\nserializeImagePulls: false\ncontainerLogsDir: ${join(work, "containers")}\n`);
const port = 29999;
const log = join(work, "agent.log");
const agent = spawn(process.execPath, [...(process.env.NODEFLAGS ? process.env.NODEFLAGS.split(" ") : []), ...(process.env.PROF ? ["--cpu-prof", "--cpu-prof-interval", "250", "--cpu-prof-dir", process.env.PROF] : []), join(repo, "packages/agent/dist/cli.js"), "--config", configFile, "--container-runtime-endpoint", env.criEndpoint, "--root-dir", join(work, "root"), "--pod-logs-dir", join(work, "logs"), "--pod-manifest-path", manifests, "--port", String(port), "--hostname-override", "bench", "-v", process.env.V ?? "4"], { stdio: ["ignore", "ignore", openSync(log, "a")], env: { ...process.env, GRPC_TRACE: process.env.TRACE ?? "", GRPC_VERBOSITY: "DEBUG" } });
const base = `http://127.0.0.1:${port}`;
for (;;) { try { if ((await fetch(`${base}/healthz`)).ok) break; } catch {} await sleep(100); }
const pods = async () => (await (await fetch(`${base}/pods`)).json()).items;
const marks = [];
const procCpu = () => { const st = readFileSync(`/proc/${agent.pid}/stat`, "utf8").split(") ")[1].split(" "); return (Number(st[11]) + Number(st[12])) * 10; };
const procUS = () => { const st = readFileSync(`/proc/${agent.pid}/stat`, "utf8").split(") ")[1].split(" "); return [Number(st[11]) * 10, Number(st[12]) * 10]; };
for (let rep = 0; rep < Number(process.env.BURSTS ?? (process.env.BURST ? 1 : 0)); rep++) {
  await sleep(3000);
  const n = Number(process.env.BURST);
  const ops = async () => { const t = await (await fetch(`${base}/metrics`)).text(); const o = {}; for (const m of t.matchAll(/^kubelet_runtime_operations_total\{operation_type="([^"]+)"\} (\S+)/gm)) o[m[1]] = Number(m[2]); return o; };
  const o0 = await ops();
  const us0 = procUS(); const c0 = procCpu(); const t0 = Date.now(); console.error(`burst-t0 ${t0} perf ${performance.timeOrigin + performance.now()}`);
  for (let i = 0; i < n; i++) writeFileSync(join(manifests, `b${rep}x${i}.json`), JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: `b${rep}x${i}` }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: "app", image: env.images.busybox, command: ["sleep", "3600"] }] } }));
  for (;;) { const ps = await pods(); if (ps.filter((p) => p.status?.containerStatuses?.[0]?.state?.running).length === n) break; await sleep(Number(process.env.BPOLL ?? 200)); }
  const c1 = procCpu(); const us1 = procUS(); console.error(`user ${us1[0]-us0[0]} sys ${us1[1]-us0[1]}`); const t1 = Date.now();
  const o1 = await ops(); const d = {}; for (const k in o1) if (o1[k] - (o0[k] ?? 0)) d[k] = o1[k] - (o0[k] ?? 0);
  console.error(JSON.stringify(d));
  console.error(`burst ${n}: ${t1 - t0} ms, agent cpu ${c1 - c0} ms = ${(c1 - c0) / n} ms/pod`);
  for (const f of readdirSync(manifests)) rmSync(join(manifests, f));
  for (;;) { if ((await pods()).length === 0) break; await sleep(200); }
}
for (let i = 0; i < Number(process.env.N ?? 4); i++) {
  const name = `t${i}`;
  await sleep(1500);
  marks.push({ name, write: Date.now() });
  writeFileSync(join(manifests, `${name}.json`), JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: "app", image: env.images.busybox, command: ["sleep", "3600"] }] } }));
  for (;;) { const p = (await pods()).find((p) => p.metadata.name.startsWith(name)); if (p?.status?.containerStatuses?.[0]?.state?.running) break; await sleep(Number(process.env.POLL ?? 5)); }
  marks.at(-1).running = Date.now();
  rmSync(join(manifests, `${name}.json`));
  for (;;) { if ((await pods()).length === 0) break; await sleep(50); }
}
agent.kill("SIGTERM");
await sleep(3000);
console.log(JSON.stringify(marks));
console.log(log);
