import { describe, expect, it } from "vitest";
import { createPodWorkers } from "../src/pod-workers.js";

interface P {
  uid: string;
  v: number;
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("pod workers", () => {
  it("serialises work per pod and collapses a burst into one more sync with the newest spec", async () => {
    const log: string[] = [];
    const gate = deferred();
    let concurrent = 0;
    let maxConcurrent = 0;
    const workers = createPodWorkers<P>({
      uidOf: (p) => p.uid,
      sync: async (p, type) => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        log.push(`${type}:${p.v}`);
        if (p.v === 1) await gate.promise;
        concurrent--;
      },
      kill: async (p) => {
        log.push(`kill:${p.v}`);
      },
    });
    workers.update({ uid: "a", v: 1 }, "create");
    workers.update({ uid: "a", v: 2 }, "update");
    workers.update({ uid: "a", v: 3 }, "sync");
    workers.update({ uid: "b", v: 10 }, "create");
    gate.resolve();
    await workers.idle();
    expect(log).toEqual(["create:1", "create:10", "update:3"]);
    expect(maxConcurrent).toBe(2); // two pods in parallel, never one pod twice
  });

  it("kills win over queued syncs, end the worker, and a killed pod is not synced again", async () => {
    const log: string[] = [];
    const gate = deferred();
    const workers = createPodWorkers<P>({
      uidOf: (p) => p.uid,
      sync: async (p, type) => {
        log.push(`${type}:${p.v}`);
        await gate.promise;
      },
      kill: async (p) => {
        log.push(`kill:${p.v}`);
      },
    });
    workers.update({ uid: "a", v: 1 }, "create");
    workers.update({ uid: "a", v: 2 }, "kill");
    workers.update({ uid: "a", v: 3 }, "sync");
    expect(workers.isKilling("a")).toBe(true);
    gate.resolve();
    await workers.idle();
    expect(log).toEqual(["create:1", "kill:2"]);
    expect(workers.active()).toEqual([]);
    workers.update({ uid: "x", v: 1 }, "kill"); // nothing ran for it: nothing to do
    expect(workers.active()).toEqual([]);
  });

  it("creates a pod again after its kill when it was re-added (same UID) meanwhile", async () => {
    const log: string[] = [];
    const gate = deferred();
    const workers = createPodWorkers<P>({
      uidOf: (p) => p.uid,
      sync: async (p, type) => {
        log.push(`${type}:${p.v}`);
      },
      kill: async (p) => {
        log.push(`kill:${p.v}`);
        await gate.promise;
      },
    });
    workers.update({ uid: "a", v: 1 }, "create");
    await workers.idle();
    workers.update({ uid: "a", v: 2 }, "kill");
    workers.update({ uid: "a", v: 3 }, "create"); // back while the kill runs
    workers.update({ uid: "a", v: 4 }, "sync");
    expect(workers.isKilling("a")).toBe(true);
    gate.resolve();
    await workers.idle();
    expect(log).toEqual(["create:1", "kill:2", "create:3"]);
    expect(workers.isKilling("a")).toBe(false);
    expect(workers.active()).toEqual(["a"]);
  });

  it("does not create a re-added pod again when it was removed again before its kill ended", async () => {
    const log: string[] = [];
    const gate = deferred();
    const workers = createPodWorkers<P>({
      uidOf: (p) => p.uid,
      sync: async (p, type) => {
        log.push(`${type}:${p.v}`);
      },
      kill: async (p) => {
        log.push(`kill:${p.v}`);
        await gate.promise;
      },
    });
    workers.update({ uid: "a", v: 1 }, "create");
    await workers.idle();
    workers.update({ uid: "a", v: 2 }, "kill");
    workers.update({ uid: "a", v: 3 }, "create");
    workers.update({ uid: "a", v: 4 }, "kill");
    gate.resolve();
    await workers.idle();
    expect(log).toEqual(["create:1", "kill:2"]);
    expect(workers.active()).toEqual([]);
  });

  it("reports errors and keeps the worker usable", async () => {
    const errors: string[] = [];
    let calls = 0;
    const workers = createPodWorkers<P>({
      uidOf: (p) => p.uid,
      sync: async () => {
        calls++;
        if (calls === 1) throw new Error("boom");
      },
      kill: async () => undefined,
      onError: (_p, type, err) => errors.push(`${type}:${(err as Error).message}`),
    });
    workers.update({ uid: "a", v: 1 }, "create");
    await workers.idle();
    workers.update({ uid: "a", v: 1 }, "sync");
    await workers.idle();
    expect(errors).toEqual(["create:boom"]);
    expect(calls).toBe(2);
  });
});

describe("pod workers' AbortSignal", () => {
  it("work in flight sees its signal abort when the workers stop, and stop() waits for it", async () => {
    const seen: boolean[] = [];
    const started = deferred();
    const workers = createPodWorkers<P>({
      uidOf: (p) => p.uid,
      sync: async (_p, _type, signal) => {
        started.resolve();
        seen.push(signal.aborted);
        // A long step (an image pull, a grace period) that gives up when the signal aborts.
        await new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => resolve(), { once: true }),
        );
        seen.push(signal.aborted);
      },
      kill: async () => {},
    });
    workers.update({ uid: "a", v: 1 }, "create");
    await started.promise;
    await workers.stop();
    expect(seen).toEqual([false, true]);
  });
});
