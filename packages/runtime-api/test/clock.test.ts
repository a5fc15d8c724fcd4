import { describe, expect, it } from "vitest";
import { createManualClock, noopLogger, systemClock } from "../src/index.js";

describe("manual clock", () => {
  it("fires due timers in due-time order, each at its own time", () => {
    const clock = createManualClock(1000);
    const fired: [string, number][] = [];
    clock.setTimeout(() => fired.push(["c", clock.now()]), 300);
    clock.setTimeout(() => fired.push(["a", clock.now()]), 100);
    clock.setTimeout(() => fired.push(["b", clock.now()]), 100);
    clock.setTimeout(() => fired.push(["late", clock.now()]), 1000);
    expect(clock.pendingTimers()).toBe(4);
    expect(clock.nextTimerAt()).toBe(1100);
    clock.advance(500);
    expect(fired).toEqual([
      ["a", 1100],
      ["b", 1100],
      ["c", 1300],
    ]);
    expect(clock.now()).toBe(1500);
    expect(clock.pendingTimers()).toBe(1);
    clock.set(2000);
    expect(fired.at(-1)).toEqual(["late", 2000]);
    expect(clock.pendingTimers()).toBe(0);
    expect(clock.nextTimerAt()).toBeUndefined();
  });

  it("fires timers that callbacks schedule within the same advance", () => {
    const clock = createManualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 50);
    }, 50);
    clock.advance(100);
    expect(fired).toEqual([50, 100]);
  });

  it("cancels timers and intervals, idempotently", () => {
    const clock = createManualClock();
    let count = 0;
    const once = clock.setTimeout(() => count++, 10);
    once.cancel();
    once.cancel();
    const every = clock.setInterval(() => count++, 10);
    clock.advance(35);
    expect(count).toBe(3);
    expect(clock.pendingTimers()).toBe(1);
    every.cancel();
    clock.advance(100);
    expect(count).toBe(3);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("a zero or negative delay fires on the next move", () => {
    const clock = createManualClock(5);
    let fired = false;
    clock.setTimeout(() => {
      fired = true;
    }, -10);
    expect(fired).toBe(false);
    clock.advance(0);
    expect(fired).toBe(true);
  });

  it("sleep resolves when the clock passes it and rejects on abort", async () => {
    const clock = createManualClock();
    let done = false;
    const slept = clock.sleep(1000).then(() => {
      done = true;
    });
    clock.advance(999);
    await clock.settle();
    expect(done).toBe(false);
    clock.advance(1);
    await slept;
    expect(done).toBe(true);

    const controller = new AbortController();
    const aborted = clock.sleep(1000, controller.signal);
    controller.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
    expect(clock.pendingTimers()).toBe(0);
    await expect(clock.sleep(1, controller.signal)).rejects.toThrow("stop");
  });

  it("advanceAsync lets the async work a timer starts schedule and run its next timer", async () => {
    const clock = createManualClock();
    const fired: number[] = [];
    const loop = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        await Promise.resolve();
        fired.push(clock.now());
      }
    };
    const running = loop();
    await clock.advanceAsync(300);
    await running;
    expect(fired).toEqual([100, 200, 300]);
  });
});

describe("system clock", () => {
  it("runs real timers and cancels them", async () => {
    const start = systemClock.now();
    let cancelledFired = false;
    systemClock
      .setTimeout(() => {
        cancelledFired = true;
      }, 5)
      .cancel();
    let ticks = 0;
    const interval = systemClock.setInterval(() => ticks++, 5);
    // However loaded the machine, the interval ticks twice within the bound, and not after cancel().
    const bound = Date.now() + 10_000;
    while (ticks < 2 && Date.now() < bound) await systemClock.sleep(5);
    interval.cancel();
    const after = ticks;
    await systemClock.sleep(20);
    expect(after).toBeGreaterThanOrEqual(2);
    expect(ticks).toBe(after);
    expect(cancelledFired).toBe(false);
    expect(systemClock.now() - start).toBeGreaterThanOrEqual(25);
  });

  it("runs a 0 ms (or overdue) timeout in the loop's next check phase, not after a 1 ms clamp", async () => {
    const order: string[] = [];
    systemClock.setTimeout(() => order.push("now"), 0);
    systemClock.setTimeout(() => order.push("overdue"), -5);
    systemClock.setTimeout(() => order.push("cancelled"), 0).cancel();
    // Immediates run in the order they were queued: this one sees the two above, a timer would not.
    const seen = await new Promise<string[]>((resolve) => setImmediate(() => resolve([...order])));
    expect(seen).toEqual(["now", "overdue"]);
  });

  it("sleep rejects with the abort reason", async () => {
    const controller = new AbortController();
    const slept = systemClock.sleep(10_000, controller.signal);
    controller.abort(new Error("bye"));
    await expect(slept).rejects.toThrow("bye");
  });
});

describe("noopLogger", () => {
  it("takes both call shapes and drops them", () => {
    noopLogger.info({ pod: "web" }, "started");
    noopLogger.warn("no fields");
    noopLogger.error({ err: new Error("x") });
    noopLogger.debug({});
  });
});
