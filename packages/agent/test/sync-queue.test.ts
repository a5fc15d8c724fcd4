import { createManualClock } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { createSyncQueue, jitter, WORKER_BACKOFF_MS } from "../src/sync-queue.js";

describe("sync queue (the kubelet's pod worker requeue)", () => {
  it("a failed sync is due again after 10-15 s, a good one after syncFrequency to 1.5x", () => {
    const clock = createManualClock(0);
    let r = 0;
    const queue = createSyncQueue({ resyncMs: 60_000, clock, random: () => r });
    queue.done("failed", true);
    queue.done("good", false);
    expect(queue.dueAt("failed")).toBe(WORKER_BACKOFF_MS);
    expect(queue.dueAt("good")).toBe(60_000);
    r = 0.999;
    queue.done("failed-late", true);
    expect(queue.dueAt("failed-late")).toBeCloseTo(14_995, 0);
    expect(queue.due()).toEqual([]);
    clock.advance(10_000);
    expect(queue.due()).toEqual(["failed"]);
    expect(queue.due()).toEqual([]); // taken out once
    clock.advance(5_000);
    expect(queue.due()).toEqual(["failed-late"]);
    clock.advance(45_000);
    expect(queue.due()).toEqual(["good"]);
  });

  it("spreads the periodic syncs of many pods instead of running them at once", () => {
    const clock = createManualClock(0);
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    const queue = createSyncQueue({ resyncMs: 60_000, clock, random });
    for (let i = 0; i < 100; i++) queue.done(`pod-${i}`, false);
    const times = new Set(
      [...Array(100).keys()].map((i) => Math.floor((queue.dueAt(`pod-${i}`) ?? 0) / 1000)),
    );
    expect(times.size).toBeGreaterThan(20);
    for (const t of times) expect(t).toBeGreaterThanOrEqual(60);
    for (const t of times) expect(t).toBeLessThan(90);
  });

  it("forgets a pod that is gone", () => {
    const clock = createManualClock(0);
    const queue = createSyncQueue({ resyncMs: 1000, clock, random: () => 0 });
    queue.done("a", false);
    queue.forget("a");
    clock.advance(5000);
    expect(queue.due()).toEqual([]);
    expect(jitter(100, 0.5, () => 0.5)).toBe(125);
  });
});
