// The node console's routes on the agent's API: GET /events (a v1 EventList), GET /watch (server-
// sent events), GET /node (facts for the dashboard) and the dashboard itself (GET /, /dashboard/*).
// The server calls handle() before its own routes; undefined means "not mine".

import type { IncomingMessage, ServerResponse } from "node:http";
import type { V1Pod } from "@nodelet/runtime-api";
import type { Registry } from "prom-client";
import { type DashboardAsset, loadDashboardAssets } from "./dashboard/assets.js";
import { EventFilterError, type EventStore, eventFilterFromQuery } from "./events.js";
import { sendBody, sendText } from "./http-response.js";
import { createWatchHub, type WatchHub, WatchRequestError } from "./watch.js";

/** What GET /node tells. */
export interface NodeFacts {
  nodeName: string;
  runtime: { name: string; version: string; apiVersion: string };
  images: { id: string; tags: string[]; sizeBytes: number; pinned: boolean }[];
  health: { name: string; ok: boolean; message: string }[];
  /** Garbage collection figures: every sample of the registry's *_gc_* / garbage metrics. */
  gc: { name: string; labels: Record<string, string | number>; value: number }[];
}

export interface ConsoleRoutesOptions {
  events: EventStore;
  pods: () => V1Pod[];
  nodeFacts: () => Promise<Omit<NodeFacts, "gc">>;
  registry: Registry;
  /** Test hook for the watch hub's timings. */
  watch?: { pollMs?: number; keepaliveMs?: number; maxWatchers?: number; maxUnsentBytes?: number };
}

export interface ConsoleRoutes {
  /** Serves the request when the path is one of the console's; resolves with the status, else undefined. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<number | undefined>;
  close(): void;
  readonly watch: WatchHub;
}

const GC_METRIC = /(^|_)(gc|garbage)(_|$)|garbage_collect|image_gc|container_gc/;

async function gcFigures(registry: Registry): Promise<NodeFacts["gc"]> {
  const metrics = await registry.getMetricsAsJSON();
  const out: NodeFacts["gc"] = [];
  for (const metric of metrics) {
    if (!GC_METRIC.test(metric.name)) continue;
    for (const v of metric.values) {
      const name = (v as { metricName?: string }).metricName ?? metric.name;
      // Histogram buckets say little on a page; their sums and counts are kept.
      if (name.endsWith("_bucket")) continue;
      out.push({ name, labels: v.labels as Record<string, string | number>, value: v.value });
    }
  }
  return out;
}

function sendJson(res: ServerResponse, status: number, body: unknown, head: boolean): number {
  return sendBody(res, status, "application/json", JSON.stringify(body), head);
}

// The page loads only its own scripts and styles, and talks only to this agent (fetch, WebSocket).
// xterm.js sizes its DOM renderer with <style> elements it writes: inline styles are allowed,
// inline scripts are not.
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function createConsoleRoutes(options: ConsoleRoutesOptions): ConsoleRoutes {
  const watch = createWatchHub({
    pods: options.pods,
    events: options.events,
    registry: options.registry,
    ...options.watch,
  });
  let assets: Promise<Map<string, DashboardAsset> | undefined> | undefined;

  async function serveAsset(res: ServerResponse, path: string, head: boolean): Promise<number | undefined> {
    assets ??= loadDashboardAssets();
    const asset = (await assets)?.get(path);
    if (!asset) {
      return path === "/" ? sendText(res, 404, "the dashboard was not built into this package\n") : undefined;
    }
    res.writeHead(200, {
      "Content-Type": asset.type,
      "Content-Length": asset.body.length,
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-cache",
      ...(path === "/" ? { "Content-Security-Policy": PAGE_CSP, "Referrer-Policy": "no-referrer" } : {}),
    });
    res.end(head ? undefined : asset.body);
    return 200;
  }

  return {
    watch,
    async handle(req, res, path, url) {
      const head = req.method === "HEAD";
      if (req.method !== "GET" && !head) return undefined;
      switch (path) {
        case "/events": {
          try {
            return sendJson(res, 200, options.events.toList(eventFilterFromQuery(url.searchParams)), head);
          } catch (err) {
            if (err instanceof EventFilterError) return sendText(res, 400, `${err.message}\n`);
            throw err;
          }
        }
        case "/watch":
          try {
            return watch.serve(req, res, url);
          } catch (err) {
            if (err instanceof WatchRequestError) return sendText(res, err.status, `${err.message}\n`);
            throw err;
          }
        case "/node": {
          const facts = await options.nodeFacts();
          return sendJson(res, 200, { ...facts, gc: await gcFigures(options.registry) }, head);
        }
        default:
          if (path === "/" || path.startsWith("/dashboard/")) return serveAsset(res, path, head);
          return undefined;
      }
    },
    close() {
      watch.close();
    },
  };
}
