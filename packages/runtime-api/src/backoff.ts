import { type Clock, systemClock } from "./clock.js";

/**
 * A keyed exponential backoff with the kubelet's semantics (client-go flowcontrol.Backoff):
 * per key, the delay starts at `initial`, doubles on every `next` up to `max`, and an entry
 * whose last update is older than the reset window (default 2 × max) starts over.
 */
export interface Backoff {
  /** The current delay for `key` in ms (0 when unknown). */
  get(key: string): number;
  /** Records an event at `eventTimeMs`: first time (or after reset) sets `initial`, else doubles. */
  next(key: string, eventTimeMs: number): void;
  /** True while `now - eventTimeMs` is below the key's delay (the CrashLoopBackOff check). */
  isInBackOffSince(key: string, eventTimeMs: number): boolean;
  /** True while `eventTimeMs - lastUpdate` is below the key's delay (the image-pull check). */
  isInBackOffSinceUpdate(key: string, eventTimeMs: number): boolean;
  reset(key: string): void;
  /** Drops entries idle for longer than the reset window. */
  gc(): void;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** An entry idle longer than this starts over. Default 2 × maxMs (the kubelet's 600 s for 300 s). */
  resetMs?: number;
  clock?: Clock;
}

interface Entry {
  delayMs: number;
  lastUpdateMs: number;
}

export function createBackoff(options: BackoffOptions): Backoff {
  const clock = options.clock ?? systemClock;
  const resetMs = options.resetMs ?? 2 * options.maxMs;
  const entries = new Map<string, Entry>();
  // Strictly greater, as client-go: exactly resetMs later is still the same streak.
  const expired = (eventTimeMs: number, entry: Entry) => eventTimeMs - entry.lastUpdateMs > resetMs;

  return {
    get: (key) => entries.get(key)?.delayMs ?? 0,
    next(key, eventTimeMs) {
      const entry = entries.get(key);
      if (!entry || expired(eventTimeMs, entry)) {
        entries.set(key, { delayMs: options.initialMs, lastUpdateMs: clock.now() });
        return;
      }
      entry.delayMs = Math.min(entry.delayMs * 2, options.maxMs);
      entry.lastUpdateMs = clock.now();
    },
    isInBackOffSince(key, eventTimeMs) {
      const entry = entries.get(key);
      if (!entry || expired(eventTimeMs, entry)) return false;
      return clock.now() - eventTimeMs < entry.delayMs;
    },
    isInBackOffSinceUpdate(key, eventTimeMs) {
      const entry = entries.get(key);
      if (!entry || expired(eventTimeMs, entry)) return false;
      return eventTimeMs - entry.lastUpdateMs < entry.delayMs;
    },
    reset(key) {
      entries.delete(key);
    },
    gc() {
      const now = clock.now();
      for (const [key, entry] of entries) if (expired(now, entry)) entries.delete(key);
    },
  };
}

/** The kubelet's CrashLoopBackOff and image-pull backoff: 10 s doubling to 300 s, reset after 600 s idle. */
export const KUBELET_BACKOFF = { initialMs: 10_000, maxMs: 300_000 } as const;

/** A duration in Go's format ("10s", "1m20s", "5m0s"), as the kubelet's messages print it. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return "0s";
  const negative = ms < 0;
  let rest = Math.abs(ms);
  if (rest < 1000) return `${negative ? "-" : ""}${rest}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  const secText = `${Number.isInteger(seconds) ? seconds : Number(seconds.toFixed(3))}s`;
  let out = negative ? "-" : "";
  if (hours > 0) out += `${hours}h${minutes}m${secText}`;
  else if (minutes > 0) out += `${minutes}m${secText}`;
  else out += secText;
  return out;
}
