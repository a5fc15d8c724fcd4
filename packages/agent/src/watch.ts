// GET /watch: pod and event changes as server-sent events, for the dashboard and for scripts
// (`nodelet get pods -w`). The kubelet has no such endpoint (its pods reach watchers through the
// API server); the frames carry the same v1 objects /pods and /events return.
//
// Frames: `pod` (a pod added or changed, the whole v1 Pod), `pod-deleted` (its metadata), `event`
// (a v1 Event, new or with a higher count), `synced` (once, after the pods and events that existed
// at connect time). A `retry:` hint tells EventSource how soon to reconnect; a comment line every
// 15 s keeps proxies from closing an idle stream. A reader that leaves more than 1 MiB unread is
// dropped (the agent never buffers without bound for a stalled client); it reconnects and gets a
// fresh snapshot. At most 100 watchers at once; more get 503.

import type { IncomingMessage, ServerResponse } from "node:http";
import { type Clock, registerMetric, systemClock, type Timer, type V1Pod } from "@nodelet/runtime-api";
import { Gauge, type Registry } from "prom-client";
import {
  type EventFilter,
  type EventStore,
  eventFilterFromQuery,
  eventMatches,
  type V1Event,
} from "./events.js";

export type WatchFrameType = "pod" | "pod-deleted" | "event" | "synced";

export interface WatchHubOptions {
  /** The pods the agent runs, with status (the /pods list). */
  pods: () => V1Pod[];
  events: EventStore;
  clock?: Clock | undefined;
  /**
   * How often every pod is compared with what watchers were sent; default 500 ms. A change the
   * agent reports with podChanged goes out at once; the poll catches what changes on its own
   * (an image pull's progress message).
   */
  pollMs?: number | undefined;
  /** Comment frames on an idle stream; default 15 s. */
  keepaliveMs?: number | undefined;
  /** The reconnect delay suggested to clients; default 2 s. */
  retryMs?: number | undefined;
  maxWatchers?: number | undefined;
  /** Unsent bytes a slow reader may leave before it is dropped; default 1 MiB. */
  maxUnsentBytes?: number | undefined;
  registry?: Registry | undefined;
}

export interface WatchHub {
  /** Serves one /watch request (GET, already authenticated); returns the HTTP status sent. */
  serve(req: IncomingMessage, res: ServerResponse, url: URL): number;
  /**
   * The pod with this UID changed, was added or went away: watchers get it once the current job
   * is done (changes made in one job go out together, and only the changed pods are serialized).
   */
  podChanged(uid: string): void;
  /** Ends every stream and stops polling. */
  close(): void;
  /** Open streams. */
  readonly size: number;
}

/** A request the hub refuses, with the status to send. */
export class WatchRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: "TooManyWatchers" | "InvalidWatchQuery",
    message: string,
  ) {
    super(message);
    this.name = "WatchRequestError";
  }
}

interface Watcher {
  res: ServerResponse;
  filter: EventFilter;
  wantPods: boolean;
  wantEvents: boolean;
}

/** One server-sent event; `data` is JSON on a single line (JSON.stringify never emits raw newlines). */
export function formatFrame(type: WatchFrameType, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

function podUid(pod: V1Pod): string {
  return pod.metadata.uid ?? `${pod.metadata.namespace ?? "default"}/${pod.metadata.name ?? ""}`;
}

function podMatches(pod: V1Pod, filter: EventFilter): boolean {
  return (
    (filter.name === undefined || pod.metadata.name === filter.name) &&
    (filter.namespace === undefined || (pod.metadata.namespace ?? "default") === filter.namespace) &&
    (filter.uid === undefined || pod.metadata.uid === filter.uid)
  );
}

export function createWatchHub(options: WatchHubOptions): WatchHub {
  const clock = options.clock ?? systemClock;
  const pollMs = options.pollMs ?? 500;
  const keepaliveMs = options.keepaliveMs ?? 15_000;
  const retryMs = options.retryMs ?? 2_000;
  const maxWatchers = options.maxWatchers ?? 100;
  const maxUnsent = options.maxUnsentBytes ?? 1024 * 1024;
  const watchers = new Set<Watcher>();
  const gauge = options.registry
    ? registerMetric(options.registry, Gauge, {
        name: "nodelet_watch_connections",
        help: "Open /watch streams (server-sent events).",
      })
    : undefined;
  /** The JSON of each pod as last sent, by UID: a poll sends only what changed. */
  let sent = new Map<string, { json: string; pod: V1Pod }>();
  let pollTimer: Timer | undefined;
  let keepaliveTimer: Timer | undefined;
  let unsubscribe: (() => void) | undefined;
  /** UIDs reported by podChanged since the last flush; undefined when no flush is queued. */
  let dirty: Set<string> | undefined;

  function drop(w: Watcher): void {
    if (!watchers.delete(w)) return;
    gauge?.set(watchers.size);
    w.res.destroy();
    if (watchers.size === 0) stopTimers();
  }

  function write(w: Watcher, frame: string, allowance = 0): void {
    if (w.res.destroyed) {
      drop(w);
      return;
    }
    w.res.write(frame);
    // writableLength is what the socket has not taken yet: a reader that stopped reading.
    if (w.res.writableLength > maxUnsent + allowance) drop(w);
  }

  function sendPod(entry: { json: string; pod: V1Pod }): void {
    const frame = `event: pod\ndata: ${entry.json}\n\n`;
    for (const w of watchers) if (w.wantPods && podMatches(entry.pod, w.filter)) write(w, frame);
  }

  function sendDeleted(pod: V1Pod): void {
    const frame = formatFrame("pod-deleted", { metadata: pod.metadata });
    for (const w of watchers) if (w.wantPods && podMatches(pod, w.filter)) write(w, frame);
  }

  function poll(): void {
    const next = new Map<string, { json: string; pod: V1Pod }>();
    for (const pod of options.pods()) next.set(podUid(pod), { json: JSON.stringify(pod), pod });
    for (const [uid, entry] of next) if (sent.get(uid)?.json !== entry.json) sendPod(entry);
    for (const [uid, entry] of sent) if (!next.has(uid)) sendDeleted(entry.pod);
    sent = next;
  }

  /** Sends the pods podChanged named, serializing only those. */
  function flush(): void {
    const uids = dirty;
    dirty = undefined;
    if (uids === undefined || pollTimer === undefined) return;
    const current = new Map<string, V1Pod>();
    for (const pod of options.pods()) {
      const uid = podUid(pod);
      if (uids.has(uid)) current.set(uid, pod);
    }
    for (const uid of uids) {
      const pod = current.get(uid);
      const last = sent.get(uid);
      if (pod === undefined) {
        if (last === undefined) continue;
        sent.delete(uid);
        sendDeleted(last.pod);
        continue;
      }
      const entry = { json: JSON.stringify(pod), pod };
      if (last?.json === entry.json) continue;
      sent.set(uid, entry);
      sendPod(entry);
    }
  }

  function onEvent(event: V1Event): void {
    const frame = formatFrame("event", event);
    for (const w of watchers) if (w.wantEvents && eventMatches(event, w.filter)) write(w, frame);
  }

  function startTimers(): void {
    if (pollTimer) return;
    sent = new Map(options.pods().map((pod) => [podUid(pod), { json: JSON.stringify(pod), pod }]));
    pollTimer = clock.setInterval(poll, pollMs);
    keepaliveTimer = clock.setInterval(() => {
      for (const w of watchers) write(w, ":ping\n\n");
    }, keepaliveMs);
    unsubscribe = options.events.subscribe(onEvent);
  }

  function stopTimers(): void {
    pollTimer?.cancel();
    keepaliveTimer?.cancel();
    unsubscribe?.();
    pollTimer = undefined;
    keepaliveTimer = undefined;
    unsubscribe = undefined;
  }

  function parseTypes(url: URL): { wantPods: boolean; wantEvents: boolean } {
    const raw = url.searchParams.get("types");
    if (raw === null || raw === "") return { wantPods: true, wantEvents: true };
    const types = raw.split(",").map((t) => t.trim());
    for (const t of types) {
      if (t !== "pods" && t !== "events") {
        throw new WatchRequestError(
          400,
          "InvalidWatchQuery",
          `types: unknown type ${JSON.stringify(t)} (pods, events)`,
        );
      }
    }
    return { wantPods: types.includes("pods"), wantEvents: types.includes("events") };
  }

  return {
    podChanged(uid) {
      // Nobody watching: the first watcher's snapshot reads every pod anyway.
      if (pollTimer === undefined) return;
      if (dirty === undefined) {
        dirty = new Set();
        queueMicrotask(flush);
      }
      dirty.add(uid);
    },
    serve(req, res, url) {
      const { wantPods, wantEvents } = parseTypes(url);
      let filter: EventFilter;
      try {
        filter = eventFilterFromQuery(url.searchParams);
      } catch (err) {
        throw new WatchRequestError(400, "InvalidWatchQuery", (err as Error).message);
      }
      if (watchers.size >= maxWatchers) {
        throw new WatchRequestError(503, "TooManyWatchers", `too many watchers (at most ${maxWatchers})`);
      }
      res.writeHead(200, {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        // Tells nginx-like proxies not to buffer the stream.
        "X-Accel-Buffering": "no",
      });
      if (req.method === "HEAD") {
        res.end();
        return 200;
      }
      // The request timeout of the server must not end a stream that lives for hours.
      req.socket.setTimeout(0);
      req.socket.setNoDelay(true);
      const w: Watcher = { res, filter, wantPods, wantEvents };
      startTimers();
      watchers.add(w);
      gauge?.set(watchers.size);
      res.on("close", () => drop(w));
      let snapshot = `retry: ${retryMs}\n\n`;
      if (wantPods) {
        for (const pod of options.pods()) if (podMatches(pod, filter)) snapshot += formatFrame("pod", pod);
      }
      if (wantEvents) {
        for (const event of options.events.list(filter)) snapshot += formatFrame("event", event);
      }
      snapshot += formatFrame("synced", {});
      // The snapshot itself may be large: only what comes after it counts against the limit.
      write(w, snapshot, Buffer.byteLength(snapshot));
      return 200;
    },
    close() {
      for (const w of [...watchers]) {
        watchers.delete(w);
        w.res.end();
      }
      gauge?.set(0);
      stopTimers();
    },
    get size() {
      return watchers.size;
    },
  };
}
