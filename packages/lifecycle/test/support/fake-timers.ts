import type { ManualClock } from "@nodelet/runtime-api";
import type { ProbeTimers } from "../../src/index.js";

export interface FakeTimers {
  timers: ProbeTimers;
  /** Moves the clock forward by `ms`, firing the timers that fall due in order, letting the work they start settle. */
  advance(ms: number): Promise<void>;
  /** Lets pending promise chains settle without moving the clock. */
  settle(): Promise<void>;
  pending(): number;
}

/** Timers driven by a manual clock: nothing sleeps. */
export function createFakeTimers(clock: ManualClock): FakeTimers {
  let seq = 0;
  const due = new Map<number, { at: number; seq: number; callback: () => void }>();
  async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return {
    timers: {
      setTimeout(callback, ms) {
        seq++;
        due.set(seq, { at: clock.now() + Math.max(0, ms), seq, callback });
        return seq;
      },
      clearTimeout(handle) {
        due.delete(handle as number);
      },
    },
    settle,
    async advance(ms) {
      const target = clock.now() + ms;
      await settle();
      for (;;) {
        let nextTimer: { id: number; at: number; seq: number; callback: () => void } | undefined;
        for (const [id, t] of due) {
          if (t.at > target) continue;
          if (!nextTimer || t.at < nextTimer.at || (t.at === nextTimer.at && t.seq < nextTimer.seq)) {
            nextTimer = { id, ...t };
          }
        }
        if (!nextTimer) break;
        due.delete(nextTimer.id);
        if (nextTimer.at > clock.now()) clock.set(nextTimer.at);
        nextTimer.callback();
        await settle();
      }
      clock.set(target);
      await settle();
    },
    pending: () => due.size,
  };
}
