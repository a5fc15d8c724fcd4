// One serialized worker per pod UID: updates for a pod never overlap, and a burst of updates while
// a sync runs collapses into one more sync.
import { type Clock, systemClock } from "@nodelet/runtime-api";

export type PodUpdateType = "create" | "update" | "sync" | "kill";

export interface PodWork<P> {
  pod: P;
  type: PodUpdateType;
}

export interface PodWorkersOptions<P> {
  uidOf: (pod: P) => string;
  /**
   * Brings the pod towards its spec (create, update, sync). `signal` aborts when the workers
   * stop (the agent exits): a sync should return early rather than start new work.
   */
  sync: (pod: P, type: Exclude<PodUpdateType, "kill">, signal: AbortSignal) => Promise<void>;
  /**
   * Stops the pod; the worker ends afterwards. A create or update for the same UID while it runs
   * (the pod was re-added) is kept, and a new worker creates the pod once the kill is done.
   */
  kill: (pod: P, signal: AbortSignal) => Promise<void>;
  onError?: (pod: P, type: PodUpdateType, err: unknown) => void;
  onDone?: (pod: P, type: PodUpdateType, durationMs: number) => void;
  /** Times the work for onDone; default the system clock. */
  clock?: Clock;
}

export interface PodWorkers<P> {
  update(pod: P, type: PodUpdateType): void;
  /** UIDs with a worker (live or being killed). */
  active(): string[];
  isKilling(uid: string): boolean;
  /** Resolves when every worker is idle. */
  idle(): Promise<void>;
  /** Stops taking work, aborts the signal given to work in flight, and waits for it. */
  stop(): Promise<void>;
}

interface Worker<P> {
  running: Promise<void> | undefined;
  pending: PodWork<P> | undefined;
  killing: boolean;
  /** The pod came back (same UID) while being killed: it is created again once the kill is done. */
  restart: P | undefined;
}

export function createPodWorkers<P>(options: PodWorkersOptions<P>): PodWorkers<P> {
  const clock = options.clock ?? systemClock;
  const workers = new Map<string, Worker<P>>();
  const stopping = new AbortController();
  let stopped = false;

  const run = (uid: string, worker: Worker<P>) => {
    const work = worker.pending;
    if (!work || stopped) return;
    worker.pending = undefined;
    const started = clock.now();
    const signal = stopping.signal;
    const task =
      work.type === "kill" ? options.kill(work.pod, signal) : options.sync(work.pod, work.type, signal);
    worker.running = task
      .then(
        () => options.onDone?.(work.pod, work.type, clock.now() - started),
        (err: unknown) => options.onError?.(work.pod, work.type, err),
      )
      .finally(() => {
        worker.running = undefined;
        if (work.type === "kill" && !worker.pending) {
          workers.delete(uid);
          // As the kubelet restarts a static pod re-added with the same UID while terminating:
          // the kill completes, then a fresh worker creates it again.
          if (worker.restart !== undefined) update(worker.restart, "create");
          return;
        }
        run(uid, worker);
      });
  };

  function update(pod: P, type: PodUpdateType): void {
    if (stopped) return;
    const uid = options.uidOf(pod);
    let worker = workers.get(uid);
    if (!worker) {
      if (type === "kill") return; // nothing runs for it: nothing to kill here
      worker = { running: undefined, pending: undefined, killing: false, restart: undefined };
      workers.set(uid, worker);
    }
    if (worker.killing) {
      // The kill goes on; a create or update means the pod is wanted again afterwards, a
      // second kill that it is not.
      if (type === "create" || type === "update") worker.restart = pod;
      else if (type === "kill") worker.restart = undefined;
      return;
    }
    if (type === "kill") worker.killing = true;
    // A queued kill stays a kill; otherwise the newest pod wins, and a plain "sync" does not
    // hide a queued create/update (it only matters for the worker-duration metric).
    const queued = worker.pending;
    if (queued?.type !== "kill") {
      worker.pending = { pod, type: type === "sync" && queued ? queued.type : type };
    }
    if (!worker.running) run(uid, worker);
  }

  return {
    update,
    active: () => [...workers.keys()],
    isKilling: (uid) => workers.get(uid)?.killing ?? false,
    async idle() {
      for (;;) {
        const busy = [...workers.values()]
          .map((w) => w.running)
          .filter((p): p is Promise<void> => p !== undefined);
        if (busy.length === 0) return;
        await Promise.all(busy);
      }
    },
    async stop() {
      stopped = true;
      stopping.abort(new Error("the pod workers are stopping"));
      await Promise.all([...workers.values()].map((w) => w.running));
    },
  };
}
