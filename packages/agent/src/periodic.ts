// The agent's periodic tasks (sync loop, housekeeping, garbage collection): each runs every `ms`
// on the injected clock, never overlapping itself; a failure is logged and the task runs again.
import type { Clock, Logger, Timer } from "@nodelet/runtime-api";

export interface PeriodicTasks {
  /** Runs `task` every `ms` (not at all when `ms` <= 0), the next run `ms` after one ends. */
  every(ms: number, task: () => Promise<void> | void, name: string): void;
  /** Cancels what is scheduled and waits for the runs in flight. */
  stop(): Promise<void>;
}

export function createPeriodicTasks(options: { clock: Clock; logger: Pick<Logger, "error"> }): PeriodicTasks {
  const { clock, logger } = options;
  const timers = new Set<Timer>();
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  return {
    every(ms, task, name) {
      if (ms <= 0) return;
      const schedule = () => {
        const timer = clock.setTimeout(() => {
          timers.delete(timer);
          const run = Promise.resolve()
            .then(task)
            .catch((err: unknown) =>
              logger.error(
                { task: name, err: err instanceof Error ? err.message : String(err) },
                `${name} failed`,
              ),
            )
            .finally(() => {
              inFlight.delete(run);
              if (!stopping) schedule();
            });
          inFlight.add(run);
        }, ms);
        timers.add(timer);
      };
      schedule();
    },
    async stop() {
      stopping = true;
      for (const t of timers) t.cancel();
      timers.clear();
      await Promise.all(inFlight);
    },
  };
}
