// Time as the logic sees it, with timers: injected so that backoff, GC, probes and periodic loops
// are tested without sleeping. The kubelet's model is k8s.io/utils/clock (Clock, and the fake
// clock whose Step fires the timers that fall due).

/** A scheduled callback; cancel() is idempotent and safe after the callback ran. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once, `ms` from now (negative counts as 0; 0 runs on the event loop's next turn). */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Calls `fn` every `ms` (at least 1) until cancelled. */
  setInterval(fn: () => void, ms: number): Timer;
  /** Resolves `ms` from now; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Node fires a longer delay at once (and warns), so longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Schedules `fn` at the absolute time `at`, in steps no longer than Node allows. */
function systemTimeout(
  fn: () => void,
  at: number,
  onHandle: (h: ReturnType<typeof setTimeout>) => void,
): void {
  const wait = Math.max(0, at - Date.now());
  onHandle(
    setTimeout(
      () => (Date.now() >= at || wait < MAX_TIMER_MS ? fn() : systemTimeout(fn, at, onHandle)),
      Math.min(wait, MAX_TIMER_MS),
    ),
  );
}

function systemTimer(fn: () => void, ms: number, repeat: boolean): Timer {
  let handle: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  const period = repeat ? Math.max(1, ms) : Math.max(0, ms);
  // Node clamps a 0 ms timeout to 1 ms: a "now" (a debounce of 0, an overdue deadline) runs after
  // this turn's I/O instead, which is 1 ms sooner on every hop of a start path.
  if (period === 0) {
    const immediate = setImmediate(() => {
      if (!cancelled) fn();
    });
    return {
      cancel: () => {
        cancelled = true;
        clearImmediate(immediate);
      },
    };
  }
  // Intervals are re-armed from their planned time, so they do not drift with the callback's duration.
  let at = Date.now() + period;
  const fire = (): void => {
    if (cancelled) return;
    if (repeat) {
      at = Math.max(at + period, Date.now());
      systemTimeout(fire, at, (h) => {
        handle = h;
      });
    }
    fn();
  };
  systemTimeout(fire, at, (h) => {
    handle = h;
  });
  return {
    cancel: () => {
      cancelled = true;
      if (handle !== undefined) clearTimeout(handle);
    },
  };
}

/** Resolves after `clock.setTimeout(ms)`; rejects with `signal.reason` on abort. */
function sleepOn(clock: Pick<Clock, "setTimeout">, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The real clock: Date.now() and Node's timers (which keep the process alive while pending). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => systemTimer(fn, ms, false),
  setInterval: (fn, ms) => systemTimer(fn, ms, true),
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};

/** A clock that only moves when told to, for tests. Moving it fires the timers that fall due, in order. */
export interface ManualClock extends Clock {
  /** Moves to `ms` (never backwards for timers: those due by then fire, each at its own time). */
  set(ms: number): void;
  /** Moves forward by `ms`, firing due timers in due-time order (ties: the earlier scheduled first). */
  advance(ms: number): void;
  /**
   * Like advance, but lets promise chains settle before and after each timer fires, so async work a
   * timer starts (and the timers it schedules) runs as it would in real time.
   */
  advanceAsync(ms: number): Promise<void>;
  /** Lets pending promise chains settle without moving the clock. */
  settle(): Promise<void>;
  /** How many timers are scheduled and not yet fired or cancelled (an interval counts once). */
  pendingTimers(): number;
  /** When the next timer falls due; undefined when none is pending. */
  nextTimerAt(): number | undefined;
}

interface ScheduledTimer {
  at: number;
  seq: number;
  fn: () => void;
  /** 0 for a one-shot timer. */
  period: number;
}

/** Macrotask turns that let chained promises (a few awaits deep) run to their next timer or I/O. */
const SETTLE_TURNS = 5;

export function createManualClock(startMs = 0): ManualClock {
  let current = startMs;
  let seq = 0;
  const timers = new Set<ScheduledTimer>();

  function schedule(fn: () => void, ms: number, period: number): Timer {
    const timer: ScheduledTimer = { at: current + Math.max(0, ms), seq: seq++, fn, period };
    timers.add(timer);
    return { cancel: () => void timers.delete(timer) };
  }

  function nextDue(target: number): ScheduledTimer | undefined {
    let next: ScheduledTimer | undefined;
    for (const t of timers) {
      if (t.at > target) continue;
      if (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)) next = t;
    }
    return next;
  }

  /** Fires the next timer due by `target`; false when there is none. */
  function fireNext(target: number): boolean {
    const timer = nextDue(target);
    if (!timer) return false;
    if (timer.at > current) current = timer.at;
    if (timer.period > 0) {
      timer.at += timer.period;
      timer.seq = seq++;
    } else {
      timers.delete(timer);
    }
    timer.fn();
    return true;
  }

  async function settle(): Promise<void> {
    for (let i = 0; i < SETTLE_TURNS; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  function moveTo(target: number): void {
    while (fireNext(target)) {
      // each timer fires at its own time; the loop picks up timers the callbacks schedule
    }
    current = target;
  }

  const clock: ManualClock = {
    now: () => current,
    setTimeout: (fn, ms) => schedule(fn, ms, 0),
    setInterval: (fn, ms) => schedule(fn, Math.max(1, ms), Math.max(1, ms)),
    sleep: (ms, signal) => sleepOn(clock, ms, signal),
    set: (ms) => moveTo(ms),
    advance: (ms) => moveTo(current + ms),
    advanceAsync: async (ms) => {
      const target = current + ms;
      await settle();
      while (fireNext(target)) await settle();
      current = target;
      await settle();
    },
    settle,
    pendingTimers: () => timers.size,
    nextTimerAt: () => {
      let at: number | undefined;
      for (const t of timers) if (at === undefined || t.at < at) at = t.at;
      return at;
    },
  };
  return clock;
}
