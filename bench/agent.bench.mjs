// nodelet, the agent as a process (issue 14's rows): manifest-to-running (seen through /watch, then
// confirmed by /pods) and pods/s against the raw CRI floor for the same pods, with the agent's CPU
// per pod started beside the runtime's (containerd and its shims), teardown against the floor's stop+remove, idle CPU and memory with 30
// pods, with 30 exec readiness probes (the agent's share of the CPU), and with 110 pods (the
// kubelet's maxPods): PLEG relist against one bare ListPodSandbox+ListContainers pair, /pods
// latency, active timers and handles over the idle window. The idle rows have a floor too: a bare
// client relisting the same pods once a second, the agent paused (relist-floor.mjs).
// `--agent-cli=PATH` runs another build of the agent (a "before" copy), `--agent-node=PATH` runs it
// (and the idle floor) on another Node binary; `--cpu-prof=DIR` adds an
// idle-loop CPU profile: an agent restarted with --cpu-prof adopts the 30 running pods and idles
// (bench/cpu-profile-summary.mjs summarises the .cpuprofile it writes); with `--start-only` it
// profiles the start rows instead (the agent is stopped while the floor runs, so the profile's
// busy time is the agent's own work for the starts). `--timeline` splits one pod's start into
// phases from the agent's traced log, beside the floor's calls (agent-timeline.mjs).
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  ContainerFilter,
  ImageSpec,
  ListContainersRequest,
  ListPodSandboxRequest,
  PodSandboxFilter,
  RuntimeServiceService as svc,
} from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import { up } from "@nodelet/testenv";
import { parseAgentLog, startPhases, TIMELINE_ENV, timelineRows } from "./agent-timeline.mjs";
import { createBareClient, createPodFloor } from "./cri-floor.mjs";
import { latencyRow, pairedRatio, quick, sized, summarize, withConcurrency } from "./harness.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const flag = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const agentCli = flag("agent-cli") ?? join(repo, "packages/agent/dist/cli.js");
/** `--agent-node=PATH`: the Node binary that runs the agent and the idle rows' floor (default: this one). */
const agentNode = flag("agent-node") ?? process.execPath;
const cpuProfDir = flag("cpu-prof");
/** `--idle-only`: skip the start and teardown rows (the long ones), for a quick before/after of the idle rows. */
const idleOnly = process.argv.includes("--idle-only");
/**
 * `--start-only`: only the start rows (one pod `--iterations=N` times, default 8, and 30 at once
 * `--burst-iterations=N` times),
 * for a before/after of the start path with `--agent-cli`.
 */
const startOnly = process.argv.includes("--start-only");
const startIterations = Number(flag("iterations") ?? 8);
/**
 * `--burst-iterations=N`: runs of the 30-at-once row (default 5). One pair of runs (ours, the
 * floor's) swings by 10-20 % on this shared machine, so a finer answer than the goal's 5 % takes
 * some 20 pairs (about 17 minutes).
 */
const burstIterations = Number(flag("burst-iterations") ?? 5);
/** `--timeline`: only the phases of one pod's start (`--iterations=N` runs), see agent-timeline.mjs. */
const timeline = process.argv.includes("--timeline");

function freePort() {
  return new Promise((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** CPU (utime + stime, ms) and RSS of a process, 0 when it is gone. */
function procStats(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    const ticks = Number(stat[11]) + Number(stat[12]); // clock ticks (100/s)
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
    return { cpuMs: ticks * 10, rss };
  } catch {
    return { cpuMs: 0, rss: 0 };
  }
}

/** The shims of this environment's containerd (their command line names its socket). */
function shimPids(socket) {
  const pids = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (cmd.includes("containerd-shim") && cmd.includes(socket)) pids.push(Number(name));
    } catch {}
  }
  return pids;
}

function manifest(name, image, probe = false) {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: "app",
          image,
          command: ["sleep", "3600"],
          ...(probe ? { readinessProbe: { exec: { command: ["true"] }, periodSeconds: 10 } } : {}),
        },
      ],
    },
  });
}

/** The kubelet's generic PLEG relist period, the idle floor's too. */
const GENERIC_RELIST_PERIOD_MS = 1000;

const metricValue = (text, name) => Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? 0);

/** CRI calls the agent made so far, by operation. */
function criCalls(text) {
  const out = {};
  for (const m of text.matchAll(/^kubelet_runtime_operations_total\{operation_type="([^"]+)"\} (\S+)/gm))
    out[m[1]] = Number(m[2]);
  return out;
}

/** nodelet_active_resources by type (timers, sockets, ...). */
function activeResources(text) {
  const out = {};
  for (const m of text.matchAll(/^nodelet_active_resources\{type="([^"]+)"\} (\S+)/gm))
    out[m[1]] = Number(m[2]);
  return out;
}

const single = (name, unit, value, extra = {}) => ({
  name,
  unit,
  ours: { median: value, p95: value },
  ...extra,
});

export async function agentSuite() {
  // Its own containerd: the agent kills pods it does not know.
  const env = await up({ stateDir: join(repo, ".state/testenv-bench-agent") });
  const socket = env.criEndpoint.replace(/^unix:\/\//, "");
  const work = mkdtempSync(join(tmpdir(), "nodelet-bench-agent-"));
  const manifests = join(work, "manifests");
  await mkdir(manifests);
  const port = await freePort();
  const configFile = join(work, "config.yaml");
  // The kubelet's defaults (fileCheckFrequency 20 s, syncFrequency 1 m): the idle rows are what a
  // user gets. Manifest changes are seen through inotify at once, whatever the rescan period.
  writeFileSync(
    configFile,
    "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nsyncFrequency: 1m\nserializeImagePulls: false\n" +
      `containerLogsDir: ${join(work, "containers")}\n`,
  );
  await mkdir(join(work, "containers"));
  const startAgent = (nodeArgs = []) =>
    spawn(
      agentNode,
      [
        ...nodeArgs,
        agentCli,
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
        ...(timeline ? ["-v", "4"] : []),
      ],
      // Its log goes to a file: the table stays readable, and the file says what went wrong.
      {
        stdio: ["ignore", "ignore", openSync(join(work, "agent.log"), "a")],
        env: timeline ? { ...process.env, ...TIMELINE_ENV } : process.env,
      },
    );
  let agent = startAgent(startOnly && cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", cpuProfDir] : []);
  const base = `http://127.0.0.1:${port}`;
  const runtime = await createRemoteRuntimeService(env.criEndpoint);
  const images = await createRemoteImageService(env.criEndpoint);
  const bare = createBareClient(env.criEndpoint);
  const call = bare.call;
  const image = env.images.busybox;
  const imageRef = await images.pullImage(ImageSpec.fromPartial({ image }), undefined, undefined);
  let seq = 0;

  const podsView = async () => (await (await fetch(`${base}/pods`)).json()).items;
  const metricsText = async () => (await fetch(`${base}/metrics`)).text();
  const waitHealthy = async () => {
    for (;;) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) return;
      } catch {}
      await sleep(100);
    }
  };
  const isRunning = (p) =>
    (p.status?.containerStatuses ?? []).length > 0 &&
    p.status.containerStatuses.every((c) => c.state?.running);
  const benchName = (p) => p.metadata.name.replace(/-bench$/, "");
  /** Until `/pods` lists every named pod with all its containers running. */
  const waitRunning = async (names) => {
    for (;;) {
      const running = (await podsView()).filter((p) => names.has(benchName(p)) && isRunning(p));
      if (running.length === names.size) return;
      await sleep(50);
    }
  };
  /**
   * A /watch stream, open and past its snapshot before the manifests are written: the agent
   * pushes each pod's status as it changes (the same v1 Pod /pods serves), so the rows see
   * Running the moment the agent has it. Polling /pods every few ms instead loaded the agent and
   * the 2-core box enough to slow the very starts it timed (by 45-75 ms a pod here).
   */
  const openWatch = async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/watch?types=pods`, { signal: controller.signal });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    // One frame at a time (a for-await loop's break would end the stream for the next loop).
    const nextFrame = async () => {
      let end = buffer.indexOf("\n\n");
      while (end < 0) {
        const { value, done } = await reader.read();
        if (done) throw new Error("the /watch stream ended");
        buffer += value;
        end = buffer.indexOf("\n\n");
      }
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      return {
        event: /^event: (.*)$/m.exec(frame)?.[1],
        data: data === undefined ? undefined : JSON.parse(data),
      };
    };
    while ((await nextFrame()).event !== "synced");
    /** The names untilRunning last saw running, for confirm(). */
    let seenRunning;
    return {
      /** Until the stream has shown every named pod running. */
      async untilRunning(names) {
        const running = new Set();
        while (running.size < names.size) {
          const f = await nextFrame();
          if (f.event !== "pod" || !names.has(benchName(f.data))) continue;
          if (isRunning(f.data)) running.add(benchName(f.data));
          else running.delete(benchName(f.data));
        }
        seenRunning = names;
      },
      /**
       * One /pods read agrees with what the stream showed. Untimed (after the row's clock stops):
       * the stream's frames are the pods /pods serves, and the floor has no such extra request;
       * timed, this fetch was 2-3 ms of a one-pod row here.
       */
      async confirm() {
        const names = seenRunning ?? new Set();
        const listed = (await podsView()).filter((p) => names.has(benchName(p)) && isRunning(p));
        if (listed.length !== names.size) throw new Error("/watch showed pods running that /pods does not");
      },
      close: () => controller.abort(),
    };
  };
  const waitGone = async () => {
    for (;;) {
      const ready = await runtime.listPodSandbox(PodSandboxFilter.fromPartial({ state: { state: 0 } }));
      if (ready.length === 0 && (await podsView()).length === 0) return;
      await sleep(10);
    }
  };
  const writeManifests = (n, probe = false) => {
    const names = new Set(Array.from({ length: n }, () => `p${seq++}`));
    for (const name of names) writeFileSync(join(manifests, `${name}.json`), manifest(name, image, probe));
    return names;
  };
  /** Writes `n` manifests and waits until they run; with a watch from `openWatch`, through it. */
  const viaAgent = async (n, probe = false, watch = undefined) => {
    const names = writeManifests(n, probe);
    if (watch) await watch.untilRunning(names);
    else await waitRunning(names);
  };
  const clearAgentPods = async () => {
    for (const f of readdirSync(manifests)) rmSync(join(manifests, f));
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
  /** For --timeline: the floor with each call's time added to `floorTimes` (ms by method name). */
  let floorTimes = {};
  const timedFloor = createPodFloor({
    call: async (method, request) => {
      const t0 = performance.now();
      try {
        return await call(method, request);
      } finally {
        const name = method.path.split("/").pop();
        floorTimes[name] = (floorTimes[name] ?? 0) + performance.now() - t0;
      }
    },
    root: join(work, "bare"),
    image,
    imageRef,
  });
  const bareSandboxes = async () =>
    (await runtime.listPodSandbox(PodSandboxFilter.fromPartial({ labelSelector: {} }))).filter(
      (s) => s.metadata?.namespace === "bench-bare",
    );
  /** The floor of a teardown: StopContainer with the pods' grace (1 s), StopPodSandbox, RemovePodSandbox. */
  const stopBare = async (sandboxes, concurrency) =>
    withConcurrency(sandboxes, concurrency, async (s) => {
      const containers = await runtime.listContainers(ContainerFilter.fromPartial({ podSandboxId: s.id }));
      await Promise.all(containers.map((c) => runtime.stopContainer(c.id, 1).catch(() => undefined)));
      await runtime.stopPodSandbox(s.id).catch(() => undefined);
      await runtime.removePodSandbox(s.id).catch(() => undefined);
    });
  const clearBarePods = async () => stopBare(await bareSandboxes(), 10);
  /**
   * Between the start rows' runs (untimed): the agent's pods are gone and their sandboxes stopped;
   * they are removed here, as the floor's are by clearBarePods, rather than by the agent's
   * container GC a minute later, whose removal of 30 sandboxes then fell inside whichever timed
   * run it met (the floor's runs never pay for their predecessors' removal). Then the agent
   * settles: its relist sees the removals and it cleans up after them before the next run.
   */
  const removeAgentLeftovers = async () => {
    await clearAgentPods();
    const stopped = await runtime.listPodSandbox(PodSandboxFilter.fromPartial({ state: { state: 1 } }));
    await stopBare(
      stopped.filter((s) => s.metadata?.namespace !== "bench-bare"),
      10,
    );
    if (!quick) await sleep(2000);
  };
  // The agent would kill the bare pods as orphans: it is paused (SIGSTOP) while they exist.
  const pauseAgent = () => agent.kill("SIGSTOP");
  const resumeAgent = () => agent.kill("SIGCONT");
  /**
   * Resumes the agent and lets it catch up before the next timed run: its overdue timers fire at
   * once (relist, sync, GC) and the relist finds the removals of the pods the last run tore down.
   * Timed right after SIGCONT, that catch-up ran alongside the next start and added ~5 ms to a
   * one-pod row here (manifest to "pod added" 9 ms, 3 ms once settled), a cost of the pause the
   * bench imposes, not of a start. Two relist periods.
   */
  const resumeAndSettle = async () => {
    resumeAgent();
    if (!quick) await sleep(2000);
  };

  /**
   * Until the agent's container GC (every minute) has removed the sandboxes earlier rows left
   * behind: an idle window is the steady state, not one pass collecting hundreds of sandboxes.
   */
  const waitCollected = async () => {
    if (quick) return;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const notReady = await runtime.listPodSandbox(PodSandboxFilter.fromPartial({ state: { state: 1 } }));
      if (notReady.length === 0) return;
      await sleep(1000);
    }
  };
  /**
   * CPU of the agent, containerd and its shims over `ms`, and the agent's RSS at the end. The
   * window opens once the pods have run for one syncFrequency (1 min: their first periodic sync
   * is behind them) and the GC has collected earlier rows' leftovers: the steady state.
   */
  const idleWindow = async (ms) => {
    const since = performance.now();
    await waitCollected();
    if (!quick) await sleep(Math.max(0, since + 60_000 - performance.now()));
    const shims = shimPids(socket);
    const sum = (pids) => pids.reduce((t, pid) => t + procStats(pid).cpuMs, 0);
    const before = {
      agent: procStats(agent.pid).cpuMs,
      containerd: procStats(env.containerdPid).cpuMs,
      shims: sum(shims),
    };
    const metricsBefore = await metricsText();
    await sleep(ms);
    const after = {
      agent: procStats(agent.pid),
      containerd: procStats(env.containerdPid).cpuMs,
      shims: sum(shims),
    };
    const metricsAfter = await metricsText();
    const pct = (a, b) => ((a - b) / ms) * 100;
    const relists =
      metricValue(metricsAfter, "kubelet_pleg_relist_duration_seconds_count") -
      metricValue(metricsBefore, "kubelet_pleg_relist_duration_seconds_count");
    const relistMs =
      ((metricValue(metricsAfter, "kubelet_pleg_relist_duration_seconds_sum") -
        metricValue(metricsBefore, "kubelet_pleg_relist_duration_seconds_sum")) /
        relists) *
      1000;
    return {
      agentCpu: pct(after.agent.cpuMs, before.agent),
      runtimeCpu: pct(after.containerd, before.containerd) + pct(after.shims, before.shims),
      rssMiB: after.agent.rss / 2 ** 20,
      relistMs,
      resources: { before: activeResources(metricsBefore), after: activeResources(metricsAfter) },
      criCalls: (() => {
        const [b, a] = [criCalls(metricsBefore), criCalls(metricsAfter)];
        const diff = Object.fromEntries(
          Object.keys(a)
            .map((k) => [k, a[k] - (b[k] ?? 0)])
            .filter(([, n]) => n > 0),
        );
        return { total: Object.values(diff).reduce((t, n) => t + n, 0), byType: diff };
      })(),
    };
  };
  /**
   * The idle rows' floor over `ms`: with the agent paused (SIGSTOP), a bare client relisting the
   * same pods once a second (relist-floor.mjs, on the agent's Node), after as many back-to-back
   * pairs as ten minutes of relists so that its code is compiled about as far as the agent's. Its
   * CPU in % of a core: what the kubelet's 1 s relist costs through grpc-js before any agent work.
   */
  const idleFloor = async (ms) => {
    agent.kill("SIGSTOP");
    const floorProcess = spawn(
      agentNode,
      [
        join(repo, "bench/relist-floor.mjs"),
        env.criEndpoint,
        String(GENERIC_RELIST_PERIOD_MS),
        String(sized(600, 20)),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise((ready, failed) => {
        floorProcess.stdout.once("data", ready);
        floorProcess.once("exit", (code) => failed(new Error(`bench/relist-floor.mjs exited with ${code}`)));
      });
      await sleep(sized(5_000, 500));
      const before = procStats(floorProcess.pid).cpuMs;
      await sleep(ms);
      return ((procStats(floorProcess.pid).cpuMs - before) / ms) * 100;
    } finally {
      floorProcess.kill("SIGKILL");
      agent.kill("SIGCONT");
    }
  };
  /** The agent's idle CPU beside the floor's (idleFloor) over a window of the same length. */
  const idleFloorRow = (label, agentCpu, floorCpu) => ({
    name: `${label}: agent CPU vs a bare relist (a list pair a second, same pods)`,
    unit: "% of a core",
    ours: { median: agentCpu, p95: agentCpu },
    bare: { median: floorCpu, p95: floorCpu },
    ratio: agentCpu / floorCpu,
    target: null,
  });
  /** Median/p95 of `n` runs of `fn` (ms). */
  const timeMany = async (n, fn) => {
    const samples = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await fn();
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return summarize(samples);
  };
  const listPair = () =>
    Promise.all([
      call(svc.listPodSandbox, ListPodSandboxRequest.fromPartial({})),
      call(svc.listContainers, ListContainersRequest.fromPartial({})),
    ]);
  /** CRI calls per minute of an idle window, all and those that are not the relist's two lists. */
  const criRows = (label, w, ms) => {
    const perMin = (n) => (n * 60_000) / ms;
    const lists = (w.criCalls.byType.list_podsandbox ?? 0) + (w.criCalls.byType.list_containers ?? 0);
    const others = Object.entries(w.criCalls.byType)
      .filter(([k]) => k !== "list_podsandbox" && k !== "list_containers")
      .map(([k, n]) => `${k} ${Math.round(perMin(n))}`)
      .join(", ");
    return [
      single(`${label}: CRI calls per minute, all`, "calls/min", perMin(w.criCalls.total)),
      single(
        `${label}: CRI calls per minute besides the relist's lists (${others || "none"})`,
        "calls/min",
        perMin(w.criCalls.total - lists),
      ),
    ];
  };
  const resourceRows = (label, r) => {
    const types = [...new Set([...Object.keys(r.before), ...Object.keys(r.after)])].sort();
    return types.map((t) =>
      single(`${label}: active ${t} (start of window → end)`, "count", r.after[t] ?? 0, {
        bare: { median: r.before[t] ?? 0, p95: r.before[t] ?? 0 },
      }),
    );
  };

  const rows = [];
  let completed = false;
  try {
    await waitHealthy();
    const many = sized(30, 2);
    const most = sized(110, 3);
    const idleMs = sized(60_000, 2_000);
    const suffix = (n) => `${n} pod${n > 1 ? "s" : ""}`;
    if (timeline) {
      // One pod at a time, ours then the floor's, the first pair a warmup.
      const ours = [];
      const floorRuns = [];
      for (let i = 0; i <= (quick ? 1 : startIterations); i++) {
        const watch = await openWatch();
        const written = Date.now();
        const names = writeManifests(1);
        await watch.untilRunning(names);
        const seen = Date.now();
        await watch.confirm();
        watch.close();
        await removeAgentLeftovers();
        const [prepared] = await prepareBare(1);
        pauseAgent();
        const times = {};
        floorTimes = times;
        const t0 = performance.now();
        await timedFloor.run(prepared);
        times.total = performance.now() - t0;
        times.sandboxToCreate = (times.PodSandboxStatus ?? 0) + (times.ImageStatus ?? 0);
        await clearBarePods();
        await resumeAndSettle();
        if (i === 0) continue;
        ours.push({ pod: `default/${[...names][0]}-bench`, written, seen });
        floorRuns.push(times);
      }
      await sleep(500); // the agent's last lines reach its log
      const events = parseAgentLog(readFileSync(join(work, "agent.log"), "utf8"));
      const phases = ours.map((run) => startPhases(events, run)).filter((p) => p !== undefined);
      if (phases.length === 0)
        throw new Error("bench agent --timeline: no run could be read from the agent's log");
      rows.push(...timelineRows(phases, floorRuns));
      completed = true;
      return rows;
    }
    for (const n of idleOnly ? [] : [1, many]) {
      // CPU of each of our runs (read untimed, around it): the agent's, and the runtime's
      // (containerd and the shims, which the run's pods started, so all of theirs is this run's).
      const cpu = { agent: [], runtime: [] };
      let cpuBefore;
      const runtimeCpu = () =>
        procStats(env.containerdPid).cpuMs + shimPids(socket).reduce((t, pid) => t + procStats(pid).cpuMs, 0);
      // Five of the 30-pod runs by default: with three, one disturbed run of either side moved the median.
      const iterations = n === 1 ? startIterations : burstIterations;
      const row = await latencyRow(`manifest to Running in /pods (seen through /watch), ${suffix(n)}`, {
        iterations,
        warmup: 1,
        ours: (watch) => viaAgent(n, false, watch),
        bare: (prepared) => viaBare(prepared),
        setup: async (which) => {
          if (which !== "bare") {
            const watch = await openWatch();
            cpuBefore = { agent: procStats(agent.pid).cpuMs, runtime: procStats(env.containerdPid).cpuMs };
            return watch;
          }
          const prepared = await prepareBare(n);
          pauseAgent();
          return prepared;
        },
        teardown: async (ctx, which) => {
          if (which === "ours") {
            cpu.agent.push((procStats(agent.pid).cpuMs - cpuBefore.agent) / n);
            cpu.runtime.push((runtimeCpu() - cpuBefore.runtime) / n);
            await ctx.confirm();
            ctx.close();
            return removeAgentLeftovers();
          }
          await clearBarePods();
          await resumeAndSettle();
        },
      });
      rows.push(row);
      // The warmup's run is left out, as latencyRow leaves out its time (--quick has none).
      const measured = quick ? Math.min(iterations, 2) : iterations;
      const agentCpu = summarize(cpu.agent.slice(-measured));
      const runtimeCpuPerPod = summarize(cpu.runtime.slice(-measured));
      rows.push({
        name: `${suffix(n)} to Running: CPU per pod, the agent vs containerd and its shims (/proc, 10 ms ticks)`,
        unit: "ms/pod",
        ours: agentCpu,
        bare: runtimeCpuPerPod,
        ratio: agentCpu.median / runtimeCpuPerPod.median,
        target: null,
      });
      if (n > 1) {
        // The same runs as pods/s; the goal is ours ≥ 0.95 × the floor's.
        const rate = (ms) => (n * 1000) / ms;
        rows.push({
          name: `${n} manifests at once: pods/s (ratio ours/floor, goal ≥ 0.95)`,
          unit: "pods/s",
          ours: { median: rate(row.ours.median), p95: rate(row.ours.p95) },
          bare: { median: rate(row.bare.median), p95: rate(row.bare.p95) },
          ratio: row.bare.median / row.ours.median,
          paired: pairedRatio(row.samples.bare, row.samples.ours),
          target: null,
        });
      }
    }

    if (startOnly) {
      completed = true;
      return rows;
    }

    // Teardown of 30 pods (grace 1 s) against the floor's StopContainer + StopPodSandbox + RemovePodSandbox.
    if (!idleOnly)
      rows.push(
        await latencyRow(`teardown of ${suffix(many)} (grace 1 s; goal ≤ grace + 1.1 × floor)`, {
          iterations: sized(2, 1),
          warmup: 0,
          ours: async () => {
            for (const f of readdirSync(manifests)) rmSync(join(manifests, f));
            await waitGone();
          },
          bare: async () => stopBare(await bareSandboxes(), many),
          setup: async (which) => {
            if (which === "ours") {
              await viaAgent(many);
              return undefined;
            }
            const prepared = await prepareBare(many);
            pauseAgent();
            await viaBare(prepared);
            return undefined;
          },
          teardown: async (_ctx, which) => {
            if (which === "bare") resumeAgent();
          },
        }),
      );

    // 30 pods, then idling.
    await viaAgent(many);
    const idle30 = await idleWindow(idleMs);
    rows.push(
      single(
        `agent idle ${idleMs / 1000} s with ${suffix(many)}: CPU (goal < 1)`,
        "% of a core",
        idle30.agentCpu,
      ),
    );
    rows.push(
      single(`agent idle ${idleMs / 1000} s with ${suffix(many)}: RSS (goal < 100)`, "MiB", idle30.rssMiB),
    );
    rows.push(idleFloorRow(`idle with ${suffix(many)}`, idle30.agentCpu, await idleFloor(idleMs)));
    rows.push(...criRows(`idle with ${suffix(many)}`, idle30, idleMs));
    const pair30 = await timeMany(sized(200, 5), listPair);
    rows.push({
      name: `PLEG relist (${suffix(many)}) vs one bare ListPodSandbox+ListContainers pair`,
      unit: "ms",
      ours: { median: idle30.relistMs, p95: idle30.relistMs },
      bare: pair30,
      ratio: idle30.relistMs / pair30.median,
      target: null,
    });

    if (cpuProfDir) {
      // The idle loop's profile: a new agent adopts the running pods and idles under --cpu-prof.
      agent.kill("SIGTERM");
      await new Promise((r) => agent.once("exit", r));
      agent = startAgent(["--cpu-prof", "--cpu-prof-dir", cpuProfDir]);
      await waitHealthy();
      await sleep(5_000); // adoption syncs
      await sleep(idleMs);
      agent.kill("SIGTERM");
      await new Promise((r) => agent.once("exit", r));
      agent = startAgent();
      await waitHealthy();
    }
    await clearAgentPods();

    // 30 pods with an exec readiness probe every 10 s: what the agent spends, and the runtime.
    await viaAgent(many, true);
    const probed = await idleWindow(idleMs);
    rows.push(
      single(
        `${suffix(many)} with exec readiness probes (10 s), ${idleMs / 1000} s: agent CPU`,
        "% of a core",
        probed.agentCpu,
      ),
    );
    rows.push(...criRows(`${suffix(many)} with exec readiness probes`, probed, idleMs));
    rows.push(
      single(
        `${suffix(many)} with exec readiness probes: containerd + shims CPU`,
        "% of a core",
        probed.runtimeCpu,
      ),
    );
    rows.push(
      single(
        `${suffix(many)} with exec readiness probes: the agent's share of agent + runtime`,
        "%",
        (probed.agentCpu / (probed.agentCpu + probed.runtimeCpu)) * 100,
      ),
    );
    await clearAgentPods();

    // 110 pods (the kubelet's default maxPods).
    await viaAgent(most);
    const idle110 = await idleWindow(idleMs);
    const pair110 = await timeMany(sized(200, 5), listPair);
    rows.push({
      name: `PLEG relist (${suffix(most)}) vs one bare ListPodSandbox+ListContainers pair (goal < 3)`,
      unit: "ms",
      ours: { median: idle110.relistMs, p95: idle110.relistMs },
      bare: pair110,
      ratio: idle110.relistMs / pair110.median,
      target: 3,
    });
    const podsLatency = await timeMany(sized(100, 5), podsView);
    const healthLatency = await timeMany(sized(100, 5), () => fetch(`${base}/healthz`).then((r) => r.text()));
    rows.push({
      name: `/pods with ${suffix(most)} (goal < 20 ms; floor: /healthz)`,
      unit: "ms",
      ours: podsLatency,
      bare: healthLatency,
      ratio: podsLatency.median / healthLatency.median,
      target: null,
    });
    rows.push(
      single(
        `agent idle ${idleMs / 1000} s with ${suffix(most)}: CPU (goal < 2)`,
        "% of a core",
        idle110.agentCpu,
      ),
    );
    rows.push(single(`agent idle ${idleMs / 1000} s with ${suffix(most)}: RSS`, "MiB", idle110.rssMiB));
    rows.push(idleFloorRow(`idle with ${suffix(most)}`, idle110.agentCpu, await idleFloor(idleMs)));
    rows.push(...criRows(`idle with ${suffix(most)}`, idle110, idleMs));
    rows.push(...resourceRows(`idle with ${suffix(most)}`, idle110.resources));
    await clearAgentPods();
    completed = true;
  } finally {
    agent.kill("SIGCONT");
    agent.kill("SIGTERM");
    await new Promise((r) => (agent.exitCode === null ? agent.once("exit", r) : r()));
    await clearBarePods();
    runtime.close();
    images.close();
    bare.close();
    // The agent's log stays when something failed: it says what.
    if (completed) rmSync(work, { recursive: true, force: true });
    else console.error(`bench agent: its log is ${join(work, "agent.log")}`);
  }
  return rows;
}
