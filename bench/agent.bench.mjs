// nodelet, the agent as a process: manifest-to-running against the raw CRI floor for the same pods,
// idle CPU and memory with 30 pods, and the PLEG relist against one bare ListContainers.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  ImageSpec,
  ListContainersRequest,
  PodSandboxFilter,
  RuntimeServiceService as svc,
} from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import { up } from "@nodelet/testenv";
import { createBareClient, createPodFloor } from "./cri-floor.mjs";
import { latencyRow, sized, summarize, withConcurrency } from "./harness.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function freePort() {
  return new Promise((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime, in clock ticks (100/s)
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;
  return { cpuMs: ticks * 10, rss };
}

function manifest(name, image) {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "app", image, command: ["sleep", "3600"] }],
    },
  });
}

export async function agentSuite() {
  // Its own containerd: the agent kills pods it does not know.
  const env = await up({ stateDir: join(repo, ".state/testenv-bench-agent") });
  const work = mkdtempSync(join(tmpdir(), "nodelet-bench-agent-"));
  const manifests = join(work, "manifests");
  await mkdir(manifests);
  const port = await freePort();
  const configFile = join(work, "config.yaml");
  writeFileSync(
    configFile,
    "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nfileCheckFrequency: 1s\nsyncFrequency: 1m\nserializeImagePulls: false\n",
  );
  const agent = spawn(
    process.execPath,
    [
      join(repo, "packages/agent/dist/cli.js"),
      "--config",
      configFile,
      "--container-runtime-endpoint",
      env.criEndpoint,
      "--root-dir",
      join(work, "root"),
      "--pod-logs-dir",
      join(work, "logs"),
      "--pod-manifest-path",
      manifests,
      "--port",
      String(port),
      "--hostname-override",
      "bench",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const base = `http://127.0.0.1:${port}`;
  const runtime = await createRemoteRuntimeService(env.criEndpoint);
  const images = await createRemoteImageService(env.criEndpoint);
  const bare = createBareClient(env.criEndpoint);
  const call = bare.call;
  const image = env.images.busybox;
  const imageRef = await images.pullImage(ImageSpec.fromPartial({ image }), undefined, undefined);
  let seq = 0;

  const podsView = async () => (await (await fetch(`${base}/pods`)).json()).items;
  const waitRunning = async (names) => {
    for (;;) {
      const items = await podsView();
      const running = items.filter(
        (p) =>
          names.has(p.metadata.name.replace(/-bench$/, "")) &&
          (p.status?.containerStatuses ?? []).every((c) => c.state?.running),
      );
      if (
        running.length === names.size &&
        running.every((p) => (p.status?.containerStatuses ?? []).length > 0)
      )
        return;
      await sleep(10);
    }
  };
  const waitGone = async () => {
    for (;;) {
      const ready = await runtime.listPodSandbox(PodSandboxFilter.fromPartial({ state: { state: 0 } }));
      if (ready.length === 0 && (await podsView()).length === 0) return;
      await sleep(50);
    }
  };
  const viaAgent = async (n) => {
    const names = new Set(Array.from({ length: n }, () => `p${seq++}`));
    for (const name of names) writeFileSync(join(manifests, `${name}.json`), manifest(name, image));
    await waitRunning(names);
  };
  const clearAgentPods = async () => {
    for (const f of (await import("node:fs")).readdirSync(manifests)) rmSync(join(manifests, f));
    await waitGone();
  };
  // The floor: the CRI calls kuberuntime makes for these pods, configs prepared untimed.
  const floor = createPodFloor({ call, root: join(work, "bare"), image, imageRef });
  const prepareBare = (n) =>
    Promise.all(
      Array.from({ length: n }, () => {
        const uid = `bare-${seq++}`;
        return floor.prepare({
          metadata: { name: uid, namespace: "bench-bare", uid },
          spec: { containers: [{ name: "app", image, command: ["sleep", "3600"] }] },
        });
      }),
    );
  const viaBare = (prepared) => withConcurrency(prepared, prepared.length, floor.run);
  const clearBarePods = async () => {
    const left = await runtime.listPodSandbox(PodSandboxFilter.fromPartial({ labelSelector: {} }));
    await withConcurrency(
      left.filter((s) => s.metadata?.namespace === "bench-bare"),
      10,
      async (s) => {
        await runtime.stopPodSandbox(s.id).catch(() => undefined);
        await runtime.removePodSandbox(s.id).catch(() => undefined);
      },
    );
  };

  const rows = [];
  try {
    for (;;) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) break;
      } catch {}
      await sleep(100);
    }
    const many = sized(30, 3);
    const idleMs = sized(60_000, 2_000);
    for (const n of [1, many]) {
      rows.push(
        await latencyRow(`manifest to running (/pods), ${n} pod${n > 1 ? "s" : ""}`, {
          iterations: n === 1 ? 8 : 3,
          warmup: 1,
          ours: () => viaAgent(n),
          bare: (prepared) => viaBare(prepared),
          // The agent would kill the bare pods as orphans: it is paused (SIGSTOP) while they exist.
          setup: async (which) => {
            if (which !== "bare") return undefined;
            const prepared = await prepareBare(n);
            agent.kill("SIGSTOP");
            return prepared;
          },
          teardown: async (_ctx, which) => {
            if (which === "ours") return clearAgentPods();
            await clearBarePods();
            agent.kill("SIGCONT");
          },
        }),
      );
    }
    // 30 pods, then 60 s of idling.
    await viaAgent(many);
    const before = procStats(agent.pid);
    const metricsBefore = await (await fetch(`${base}/metrics`)).text();
    await sleep(idleMs);
    const after = procStats(agent.pid);
    const metricsAfter = await (await fetch(`${base}/metrics`)).text();
    const idleCpu = ((after.cpuMs - before.cpuMs) / idleMs) * 100;
    rows.push({
      name: `agent idle ${idleMs / 1000} s with ${many} pods: CPU`,
      unit: "% of a core",
      ours: { median: idleCpu, p95: idleCpu },
    });
    rows.push({
      name: `agent idle ${idleMs / 1000} s with ${many} pods: RSS`,
      unit: "MiB",
      ours: { median: after.rss / 2 ** 20, p95: after.rss / 2 ** 20 },
    });
    const read = (text, suffix) =>
      Number(new RegExp(`^kubelet_pleg_relist_duration_seconds_${suffix} (\\S+)`, "m").exec(text)?.[1] ?? 0);
    const relistMs =
      ((read(metricsAfter, "sum") - read(metricsBefore, "sum")) /
        (read(metricsAfter, "count") - read(metricsBefore, "count"))) *
      1000;
    const bareList = [];
    for (let i = 0; i < sized(200, 5); i++) {
      const t0 = process.hrtime.bigint();
      await call(svc.listContainers, ListContainersRequest.fromPartial({}));
      bareList.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const bare = summarize(bareList);
    rows.push({
      name: `PLEG relist (${many} pods) vs one bare ListContainers`,
      unit: "ms",
      ours: { median: relistMs, p95: relistMs },
      bare,
      ratio: relistMs / bare.median,
      target: null,
    });
    await clearAgentPods();
  } finally {
    agent.kill("SIGCONT");
    agent.kill("SIGTERM");
    await new Promise((r) => agent.once("exit", r));
    await clearBarePods();
    runtime.close();
    images.close();
    bare.close();
  }
  return rows;
}
