// The manifest URL source (the kubelet's http source, pkg/kubelet/config/http.go): GET the URL
// every httpCheckFrequency; the body is one Pod or a v1 PodList, JSON or YAML.

import {
  type Clock,
  ErrorCode,
  type Logger,
  NodeletError,
  noopLogger,
  systemClock,
  type Timer,
  type V1Pod,
} from "@nodelet/runtime-api";
import { toStaticPod } from "../static-pod.js";
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, decodeUtf8, formatBytes, parseDocuments } from "./document.js";
import { manifestKind } from "./manifest-file.js";
import type { PodSource, PodSourceError, PodSourceUpdate } from "./types.js";
import { fetchWithoutDowngrade, redactUrl } from "./url-safety.js";

export interface ManifestUrlSourceOptions {
  url: string;
  nodeName: string;
  /** Poll period (the kubelet's httpCheckFrequency, 20 s by default). */
  httpCheckFrequencyMs: number;
  /** Injectable for tests; the global fetch by default. */
  fetch?: typeof globalThis.fetch;
  /** Stamps `kubernetes.io/config.seen`. */
  clock?: Clock;
  logger?: Logger;
  /** Timeout of one GET, body included (10 s, as the kubelet's client). */
  timeoutMs?: number;
  /** Bytes the body may have (1 MiB). */
  maxBytes?: number;
  /** Nesting levels the body may have (100). */
  maxDepth?: number;
}

/**
 * Creates the manifest URL source. A response is all or nothing, as with the kubelet: an HTTP
 * error, an unreachable URL, a body that is not a Pod or PodList, or a PodList with any
 * invalid item is logged and the previous set is kept (reported with the error in `errors`
 * once there is a previous set). The first update, which marks the source ready, follows the
 * first usable response; an empty body is an empty set.
 */
export function createManifestUrlSource(options: ManifestUrlSourceOptions): PodSource {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const url = options.url;
  // What logs and messages show: no password, no query values (often tokens).
  const shown = redactUrl(url);
  if (url.startsWith("http://")) {
    logger.warn(
      { source: "http", url: shown },
      "the manifest URL is plain http: anyone on the path can read or change the pods it serves",
    );
  }
  const stopController = new AbortController();

  let onUpdate: ((update: PodSourceUpdate) => void) | undefined;
  let started = false;
  let stopped = false;
  let lastPods: V1Pod[] | undefined;
  let lastLogged: string | undefined;
  let timer: Timer | undefined;
  let running: Promise<void> | undefined;

  function emit(update: PodSourceUpdate): void {
    if (stopped || onUpdate === undefined) return;
    try {
      onUpdate(update);
    } catch (err) {
      logger.error({ err, source: "http" }, "pod source listener failed");
    }
  }

  async function get(): Promise<string> {
    const signal = AbortSignal.any([stopController.signal, AbortSignal.timeout(timeoutMs)]);
    let response: Response;
    try {
      response = await fetchWithoutDowngrade(fetchFn, url, {
        signal,
        headers: { accept: "application/json, application/yaml" },
      });
    } catch (err) {
      if (err instanceof NodeletError) throw err;
      throw failure(`cannot be fetched: ${describeFetchError(err, timeoutMs)}`, err);
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw failure(
        `answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`,
      );
    }
    const length = Number(response.headers.get("content-length") ?? Number.NaN);
    if (length > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw failure(`answered ${formatBytes(length)}; the limit is ${formatBytes(maxBytes)}`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (response.body !== null) {
      const reader = response.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          total += value.byteLength;
          if (total > maxBytes) {
            await reader.cancel().catch(() => undefined);
            throw failure(`answered more than ${formatBytes(maxBytes)}; the limit is that size`);
          }
          chunks.push(value);
        }
      } catch (err) {
        if (err instanceof NodeletError) throw err;
        throw failure(`cannot be read: ${describeFetchError(err, timeoutMs)}`, err);
      }
    }
    return decodeUtf8(Buffer.concat(chunks), (problem) => failure(`answered a body that ${problem}`));
  }

  function failure(problem: string, cause?: unknown): NodeletError {
    return new NodeletError(ErrorCode.InvalidPod, `${shown} ${problem}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { origin: shown },
    });
  }

  /** The pods of one response; throws when any part is unusable. */
  function toPods(text: string): V1Pod[] {
    const docs = parseDocuments(text, { origin: shown, code: ErrorCode.InvalidPod, maxDepth });
    if (docs.length === 0) return [];
    if (docs.length > 1) {
      throw failure(`answered ${docs.length} YAML documents: expected one Pod or one PodList`);
    }
    const { kind, manifest } = manifestKind(docs[0], shown, ["Pod", "PodList"]);
    const seenAt = new Date(clock.now());
    const identity = { source: "http", sourceName: url, nodeName: options.nodeName, seenAt } as const;
    if (kind === "Pod") return [toStaticPod(manifest, identity)];
    const items = manifest.items ?? [];
    if (!Array.isArray(items)) throw failure("answered a PodList whose items is not a list");
    const pods: V1Pod[] = [];
    const problems: string[] = [];
    items.forEach((item: unknown, i) => {
      try {
        pods.push(toStaticPod(item, identity));
      } catch (err) {
        const message = NodeletError.from(err, ErrorCode.InvalidPod).message;
        problems.push(
          `items[${i}]: ${message.startsWith(`${shown}: `) ? message.slice(shown.length + 2) : message}`,
        );
      }
    });
    if (problems.length > 0) {
      throw failure(`answered a PodList with invalid items (none of it is used): ${problems.join("; ")}`);
    }
    return pods;
  }

  async function poll(): Promise<void> {
    let pods: V1Pod[];
    try {
      pods = toPods(await get());
    } catch (err) {
      if (stopped) return;
      const error = NodeletError.from(err, ErrorCode.InvalidPod);
      if (error.message !== lastLogged) {
        logger.error(
          { source: "http", url: shown, err: error.message },
          "cannot use the manifest URL; keeping the last pods",
        );
        lastLogged = error.message;
      }
      const errors: PodSourceError[] = [{ origin: shown, error }];
      if (lastPods !== undefined) emit({ source: "http", pods: lastPods, errors });
      return;
    }
    if (stopped) return;
    if (lastLogged !== undefined) {
      logger.info({ source: "http", url: shown }, "the manifest URL is usable again");
      lastLogged = undefined;
    }
    lastPods = pods;
    emit({ source: "http", pods, errors: [] });
  }

  function loop(): void {
    if (stopped) return;
    running = poll().finally(() => {
      running = undefined;
      if (!stopped) timer = clock.setTimeout(loop, options.httpCheckFrequencyMs);
    });
  }

  return {
    name: "http",
    start(listener) {
      if (started) throw new Error("the manifest URL source was already started");
      started = true;
      onUpdate = listener;
      loop();
    },
    async stop() {
      stopped = true;
      stopController.abort();
      timer?.cancel();
      await running?.catch(() => undefined);
    },
  };
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return `no answer within ${timeoutMs} ms`;
  }
  // undici's "fetch failed" carries the real reason as its cause.
  const cause =
    err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const detail = typeof cause?.message === "string" && cause.message !== "" ? cause.message : undefined;
  if (typeof cause?.code === "string") return detail === undefined ? cause.code : `${cause.code} (${detail})`;
  if (detail !== undefined) return detail;
  return err instanceof Error ? err.message : String(err);
}
