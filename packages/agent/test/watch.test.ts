// /events, /watch and /node through the agent's server on loopback, with fake pods and events.
import { request } from "node:http";
import type { ObjectReference, V1Pod } from "@nodelet/runtime-api";
import { pino } from "pino";
import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { readSseFrames, type SseFrame } from "../src/client/sse.js";
import { type ConsoleRoutes, createConsoleRoutes } from "../src/console-routes.js";
import { createEventStore, type EventStore } from "../src/events.js";
import { type AgentServer, createAgentServer } from "../src/server.js";

const silent = pino({ level: "silent" });
const refA: ObjectReference = { kind: "Pod", namespace: "default", name: "a", uid: "uid-a" };
const refB: ObjectReference = { kind: "Pod", namespace: "default", name: "b", uid: "uid-b" };

function pod(name: string, phase: "Pending" | "Running" = "Pending"): V1Pod {
  return {
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    spec: { containers: [] },
    status: { phase },
  };
}

interface Fixture {
  base: string;
  events: EventStore;
  pods: V1Pod[];
  routes: ConsoleRoutes;
  registry: Registry;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(watch: Parameters<typeof createConsoleRoutes>[0]["watch"] = {}): Promise<Fixture> {
  const registry = new Registry();
  const events = createEventStore({ nodeName: "n1" });
  const pods: V1Pod[] = [];
  const routes = createConsoleRoutes({
    events,
    pods: () => [...pods],
    registry,
    nodeFacts: async () => ({
      nodeName: "n1",
      runtime: { name: "containerd", version: "1.6.20", apiVersion: "v1" },
      images: [{ id: "sha256:1", tags: ["busybox:latest"], sizeBytes: 2_000_000, pinned: false }],
      health: [{ name: "ping", ok: true, message: "" }],
    }),
    watch: { pollMs: 20, ...watch },
  });
  const server: AgentServer = createAgentServer({
    address: "127.0.0.1",
    port: 0,
    logger: silent,
    console: routes,
    view: { pods: () => pods, runningPods: async () => [], healthChecks: () => [], registry },
  });
  const { port } = await server.listen();
  cleanups.push(async () => {
    routes.close();
    await server.close();
  });
  return { base: `http://127.0.0.1:${port}`, events, pods, routes, registry };
}

/** Reads frames until `until` says stop; the stream stays open for the next call. */
async function collect(
  frames: AsyncGenerator<SseFrame>,
  until: (seen: SseFrame[]) => boolean,
): Promise<SseFrame[]> {
  const seen: SseFrame[] = [];
  while (!until(seen)) {
    const next = await frames.next();
    if (next.done) throw new Error(`the stream ended after ${JSON.stringify(seen)}`);
    seen.push(next.value);
  }
  return seen;
}

describe("GET /events", () => {
  it("is a v1 EventList, filtered by ?pod= or fieldSelector; a bad selector is 400", async () => {
    const f = await start();
    f.events.event(refA, "Normal", "Pulled", "ok");
    f.events.event(refB, "Warning", "BackOff", "back-off");
    const all = (await (await fetch(`${f.base}/events`)).json()) as { items: unknown[] };
    expect(all).toMatchObject({ kind: "EventList", apiVersion: "v1" });
    expect(all.items).toHaveLength(2);
    const onlyB = (await (await fetch(`${f.base}/events?pod=b`)).json()) as { items: { reason: string }[] };
    expect(onlyB.items.map((e: { reason: string }) => e.reason)).toEqual(["BackOff"]);
    const selected = (await (
      await fetch(`${f.base}/events?fieldSelector=involvedObject.name%3Da`)
    ).json()) as {
      items: { reason: string }[];
    };
    expect(selected.items.map((e: { reason: string }) => e.reason)).toEqual(["Pulled"]);
    const bad = await fetch(`${f.base}/events?fieldSelector=type%3DWarning`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("not supported");
  });
});

describe("GET /watch", () => {
  it("sends a snapshot, synced, then pod changes, deletions and events", async () => {
    const f = await start();
    f.pods.push(pod("a"));
    f.events.event(refA, "Normal", "Scheduled", "first");
    const response = await fetch(`${f.base}/watch`);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    let retry: number | undefined;
    const frames = readSseFrames(response.body as ReadableStream<Uint8Array>, (ms) => {
      retry = ms;
    });
    const snapshot = await collect(frames, (s) => s.at(-1)?.event === "synced");
    expect(retry).toBe(2000);
    expect(snapshot.map((s) => s.event)).toEqual(["pod", "event", "synced"]);
    expect(JSON.parse(snapshot[0]?.data ?? "").metadata.name).toBe("a");

    f.pods.splice(0, 1, pod("a", "Running"));
    const changed = await collect(frames, (s) => s.some((x) => x.event === "pod"));
    expect(JSON.parse(changed.at(-1)?.data ?? "").status.phase).toBe("Running");

    f.events.event(refA, "Normal", "Scheduled", "first");
    const counted = await collect(frames, (s) => s.some((x) => x.event === "event"));
    expect(JSON.parse(counted.at(-1)?.data ?? "").count).toBe(2);

    f.pods.splice(0, 1);
    const deleted = await collect(frames, (s) => s.some((x) => x.event === "pod-deleted"));
    expect(JSON.parse(deleted.at(-1)?.data ?? "").metadata.uid).toBe("uid-a");
    await frames.return(undefined);
  });

  it("sends what podChanged reports at once, without waiting for the poll, and only that pod", async () => {
    // A poll that never comes within the test: only podChanged can deliver.
    const f = await start({ pollMs: 3_600_000 });
    f.pods.push(pod("a"), pod("b"));
    const response = await fetch(`${f.base}/watch?types=pods`);
    const frames = readSseFrames(response.body as ReadableStream<Uint8Array>);
    await collect(frames, (s) => s.at(-1)?.event === "synced");

    // b changed too but was not reported: it waits for the poll.
    f.pods.splice(0, 2, pod("a", "Running"), pod("b", "Running"));
    f.routes.watch.podChanged("uid-a");
    f.routes.watch.podChanged("uid-a"); // twice in one job: one frame
    const changed = await collect(frames, (s) => s.length === 1);
    expect(
      changed.map((x) => [x.event, JSON.parse(x.data).metadata.name, JSON.parse(x.data).status.phase]),
    ).toEqual([["pod", "a", "Running"]]);

    // A pod that went away, and a UID the hub never sent: only the first gives a frame.
    f.pods.splice(0, 1);
    f.routes.watch.podChanged("uid-a");
    f.routes.watch.podChanged("uid-unknown");
    const deleted = await collect(frames, (s) => s.length === 1);
    expect(deleted.map((x) => [x.event, JSON.parse(x.data).metadata.name])).toEqual([["pod-deleted", "a"]]);
    await frames.return(undefined);
  });

  it("filters by pod and by type; refuses unknown types", async () => {
    const f = await start();
    f.pods.push(pod("a"), pod("b"));
    f.events.event(refA, "Normal", "X", "a");
    f.events.event(refB, "Normal", "X", "b");
    const response = await fetch(`${f.base}/watch?pod=b&types=pods`);
    const frames = readSseFrames(response.body as ReadableStream<Uint8Array>);
    const snapshot = await collect(frames, (s) => s.at(-1)?.event === "synced");
    expect(snapshot.map((s) => [s.event, JSON.parse(s.data).metadata?.name])).toEqual([
      ["pod", "b"],
      ["synced", undefined],
    ]);
    await frames.return(undefined);
    const bad = await fetch(`${f.base}/watch?types=nodes`);
    expect(bad.status).toBe(400);
  });

  it("caps watchers (503), counts them in a gauge and frees a slot when one leaves", async () => {
    const f = await start({ maxWatchers: 1 });
    const controller = new AbortController();
    const first = await fetch(`${f.base}/watch`, { signal: controller.signal });
    const frames = readSseFrames(first.body as ReadableStream<Uint8Array>);
    await collect(frames, (s) => s.at(-1)?.event === "synced");
    const gauge = async () =>
      (await f.registry.getSingleMetric("nodelet_watch_connections")?.get())?.values[0]?.value;
    expect(await gauge()).toBe(1);
    const second = await fetch(`${f.base}/watch`);
    expect(second.status).toBe(503);
    expect(await second.text()).toContain("too many watchers");
    await frames.return(undefined);
    controller.abort();
    const deadline = Date.now() + 30_000;
    while (f.routes.watch.size > 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(f.routes.watch.size).toBe(0);
    expect(await gauge()).toBe(0);
  });

  it("drops a reader that stops reading once too much is unsent", async () => {
    const f = await start({ maxUnsentBytes: 64 * 1024 });
    const port = Number(new URL(f.base).port);
    // A raw request whose response is never read: the socket's buffers fill, then the agent's.
    const req = request({ host: "127.0.0.1", port, path: "/watch", headers: { Host: `127.0.0.1:${port}` } });
    req.on("response", (res) => res.pause());
    req.on("error", () => undefined); // the agent drops it: that is the point
    req.end();
    const deadline = Date.now() + 30_000;
    while (f.routes.watch.size === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const big = "x".repeat(16 * 1024);
    for (let i = 0; f.routes.watch.size > 0 && Date.now() < deadline; i++) {
      f.events.event(refA, "Normal", "Spam", `${i} ${big}`);
      await new Promise((r) => setImmediate(r));
    }
    expect(f.routes.watch.size).toBe(0);
    req.destroy();
  }, 60_000);
});

describe("GET /node", () => {
  it("tells the runtime, images, health and the GC figures of the registry", async () => {
    const f = await start();
    new Counter({ name: "kubelet_image_gc_runs_total", help: "x", registers: [f.registry] }).inc(3);
    new Counter({ name: "unrelated_total", help: "x", registers: [f.registry] }).inc();
    const facts = await (await fetch(`${f.base}/node`)).json();
    expect(facts).toMatchObject({
      nodeName: "n1",
      runtime: { name: "containerd", version: "1.6.20" },
      images: [{ tags: ["busybox:latest"], sizeBytes: 2_000_000 }],
      health: [{ name: "ping", ok: true }],
      gc: [{ name: "kubelet_image_gc_runs_total", value: 3 }],
    });
  });
});
