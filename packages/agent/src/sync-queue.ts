// When each pod is synced again, as the kubelet's pod worker requeues it (pod_workers.go): after
// a failed sync (ErrImagePull, CreatePodSandboxError, CrashLoopBackOff...) in workerBackOffPeriod
// (10 s) plus up to 50% jitter; after a good one in the resync interval (syncFrequency) plus up to
// 50% jitter, so the periodic syncs of many pods spread out instead of running all at once.
// The agent's sync loop asks for the pods due every second, as the kubelet's syncLoop ticks.
import { type Clock, systemClock } from "@nodelet/runtime-api";

/** The kubelet's workerBackOffPeriod and its jitter factor (workerBackOffPeriodJitterFactor, 0.5). */
export const WORKER_BACKOFF_MS = 10_000;
export const SYNC_JITTER_FACTOR = 0.5;
/** How often the sync loop looks for pods due: the kubelet's syncLoop ticks every second. */
export const SYNC_LOOP_TICK_MS = 1_000;

export interface SyncQueueOptions {
  /** syncFrequency: the resync interval after a good sync. */
  resyncMs: number;
  backOffMs?: number;
  clock?: Clock;
  /** [0, 1), like Math.random (the default). */
  random?: () => number;
}

export interface SyncQueue {
  /** The pod's sync finished (`failed`: it reported an error): it is due again after the backoff or the resync interval. */
  done(uid: string, failed: boolean): void;
  /** Takes the pods that are due now out of the queue. */
  due(): string[];
  /** The pod is gone. */
  forget(uid: string): void;
  /** When the pod is due next (ms on the clock), for tests and logs. */
  dueAt(uid: string): number | undefined;
}

/** wait.Jitter: `ms` plus a random part of up to `factor * ms`. */
export function jitter(ms: number, factor: number, random: () => number): number {
  return ms + random() * factor * ms;
}

export function createSyncQueue(options: SyncQueueOptions): SyncQueue {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const backOffMs = options.backOffMs ?? WORKER_BACKOFF_MS;
  const queue = new Map<string, number>();
  return {
    done(uid, failed) {
      queue.set(uid, clock.now() + jitter(failed ? backOffMs : options.resyncMs, SYNC_JITTER_FACTOR, random));
    },
    due() {
      const now = clock.now();
      const out: string[] = [];
      for (const [uid, at] of queue) {
        if (at > now) continue;
        queue.delete(uid);
        out.push(uid);
      }
      return out;
    },
    forget: (uid) => void queue.delete(uid),
    dueAt: (uid) => queue.get(uid),
  };
}
