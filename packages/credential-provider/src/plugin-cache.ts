import type { Clock } from "@nodelet/runtime-api";
import { LRUCache } from "lru-cache";

/** The kubelet purges expired plugin cache entries every 15 minutes. */
export const PLUGIN_CACHE_PURGE_INTERVAL_MS = 15 * 60 * 1000;
const MAX_ENTRIES = 4096;

/**
 * Entries that expire at a time given per entry, on the injected clock (an entry is stale once
 * now > expiresAt, as in the kubelet's expiration cache). Bounded by an LRU as a safety net.
 */
export interface ExpiringCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V, ttlMs: number): void;
}

export function createExpiringCache<V extends {}>(clock: Clock): ExpiringCache<V> {
  const entries = new LRUCache<string, { value: V; expiresAt: number }>({ max: MAX_ENTRIES });
  let lastPurge = clock.now();
  const purge = (now: number) => {
    if (now - lastPurge <= PLUGIN_CACHE_PURGE_INTERVAL_MS) return;
    lastPurge = now;
    for (const [key, entry] of entries.entries()) if (now > entry.expiresAt) entries.delete(key);
  };
  return {
    get(key) {
      const now = clock.now();
      purge(now);
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (now > entry.expiresAt) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    set(key, value, ttlMs) {
      entries.set(key, { value, expiresAt: clock.now() + ttlMs });
    },
  };
}
