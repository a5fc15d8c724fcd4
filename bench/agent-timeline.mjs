// `bench agent --timeline`: where one pod's start goes, phase by phase, from the agent's own log.
// The agent runs with grpc-js's call tracing (each CRI call's start and the status it received,
// with millisecond timestamps) and debug logging ("pod added", "synced pod"); the bench notes when
// it wrote the manifest and when /watch showed the pod running. Each run is one pod alone, so the
// calls in its window are its own (the PLEG's lists are left out by name). The floor's run times
// the same CRI calls one by one. Tracing and debug logging cost the agent a little time of their
// own: the phases show where the time goes, the start rows say how much there is.
import { summarize } from "./harness.mjs";

/** What the agent's environment gets: grpc-js traces each call's creation and its status. */
export const TIMELINE_ENV = { GRPC_TRACE: "channel,resolving_call", GRPC_VERBOSITY: "DEBUG" };

/**
 * The agent's log as events: `call`/`done` for CRI calls (grpc-js trace lines), `log` for the
 * agent's JSON lines. Times are epoch ms, as Date.now() in the bench.
 */
export function parseAgentLog(text) {
  const events = [];
  const methods = new Map();
  for (const line of text.split("\n")) {
    if (line.startsWith("{")) {
      try {
        const j = JSON.parse(line);
        events.push({ t: j.time, kind: "log", msg: j.msg, pod: j.pod, phase: j.phase });
      } catch {}
      continue;
    }
    const trace = /^D (\S+) \| [^|]+\| \S+ \| (.*)$/.exec(line);
    if (!trace) continue;
    const t = Date.parse(trace[1]);
    const created = /createResolvingCall \[(\d+)\] method="[^"]*\/([^/"]+)"/.exec(trace[2]);
    if (created) {
      methods.set(created[1], created[2]);
      events.push({ t, kind: "call", id: created[1], method: created[2] });
      continue;
    }
    const ended = /\[(\d+)\] Received status/.exec(trace[2]);
    // The status is traced twice (the resolving call and the channel): the first one counts.
    if (ended && methods.has(ended[1])) {
      events.push({ t, kind: "done", id: ended[1], method: methods.get(ended[1]) });
      methods.delete(ended[1]);
    }
  }
  return events.sort((a, b) => a.t - b.t);
}

/** The CRI calls of a window: method → [{start, end}] in the order they started. */
function callsIn(events) {
  const byId = new Map();
  for (const e of events) {
    if (e.kind === "call") byId.set(e.id, { method: e.method, start: e.t, end: undefined });
    else if (e.kind === "done" && byId.has(e.id)) byId.get(e.id).end = e.t;
  }
  const out = {};
  for (const c of byId.values()) {
    if (c.end === undefined) continue;
    out[c.method] ??= [];
    out[c.method].push(c);
  }
  return out;
}

/**
 * One run's phases (ms) from its window of events: `pod` is the static pod's full name as the
 * agent logs it ("default/p3-bench"), `written`/`seen` the bench's Date.now() around the run.
 */
export function startPhases(events, { pod, written, seen }) {
  const window = events.filter((e) => e.t >= written && e.t <= seen);
  const calls = callsIn(window);
  const first = (method) => calls[method]?.[0];
  const added = window.find((e) => e.kind === "log" && e.msg === "pod added" && e.pod === pod);
  const run = first("RunPodSandbox");
  const create = first("CreateContainer");
  const start = first("StartContainer");
  const synced =
    start &&
    window.find(
      (e) =>
        e.kind === "log" &&
        e.msg === "synced pod" &&
        e.pod === pod &&
        e.phase === "Running" &&
        e.t >= start.end,
    );
  if (!added || !run || !create || !start || !synced) return undefined;
  const between = (from, to) =>
    ["PodSandboxStatus", "ImageStatus"]
      .flatMap((m) => calls[m] ?? [])
      .filter((c) => c.start >= from && c.end <= to)
      .reduce((t, c) => t + c.end - c.start, 0);
  return {
    added: added.t - written,
    toSandbox: run.start - added.t,
    runPodSandbox: run.end - run.start,
    sandboxToCreate: create.start - run.end,
    sandboxToCreateCri: between(run.end, create.start),
    createContainer: create.end - create.start,
    createToStart: start.start - create.end,
    startContainer: start.end - start.start,
    startToRunning: synced.t - start.end,
    runningToSeen: seen - synced.t,
    total: seen - written,
  };
}

/** The rows: each phase's median and p95 over the runs, beside the floor's where it has one. */
export function timelineRows(ours, floor) {
  const s = (runs, key) => summarize(runs.map((r) => r[key]));
  const row = (label, key, floorKey) => ({
    name: `1 pod start, timeline: ${label}`,
    unit: "ms",
    ours: s(ours, key),
    ...(floorKey ? { bare: s(floor, floorKey) } : {}),
  });
  return [
    row("manifest written → pod added (inotify, read, parse, validate)", "added"),
    row("pod added → RunPodSandbox sent", "toSandbox"),
    row("RunPodSandbox", "runPodSandbox", "RunPodSandbox"),
    row(
      "sandbox → CreateContainer sent (sandbox status, image checks, container config)",
      "sandboxToCreate",
      "sandboxToCreate",
    ),
    row(
      "  of which the CRI calls (PodSandboxStatus, ImageStatus ×2)",
      "sandboxToCreateCri",
      "sandboxToCreate",
    ),
    row("CreateContainer", "createContainer", "CreateContainer"),
    row("CreateContainer → StartContainer sent", "createToStart"),
    row("StartContainer", "startContainer", "StartContainer"),
    row("StartContainer → status Running (status read, pod status)", "startToRunning"),
    row("status Running → seen on /watch", "runningToSeen"),
    row("total: manifest written → seen Running", "total", "total"),
  ];
}
