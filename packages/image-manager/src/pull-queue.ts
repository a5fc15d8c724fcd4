import pLimit from "p-limit";
import { cancelledError } from "./errors.js";

/** Where pulls wait their turn: one at a time, at most N at a time, or no limit. */
export interface PullQueue {
  /**
   * Runs `task` when a slot is free (FIFO). A caller whose signal aborts while it waits is
   * rejected with Cancelled at once, and its task never runs.
   */
  run<T>(image: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** `concurrency` undefined or < 1 means unlimited. */
export function createPullQueue(concurrency: number | undefined): PullQueue {
  const limit = concurrency !== undefined && concurrency >= 1 ? pLimit(Math.floor(concurrency)) : undefined;
  return {
    run<T>(image: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (signal?.aborted) return Promise.reject(cancelledError(image, signal.reason));
      if (!limit) return task();
      return new Promise<T>((resolve, reject) => {
        let settled = false;
        const onAbort = () => {
          settled = true;
          reject(cancelledError(image, signal?.reason));
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        void limit(async () => {
          if (settled) return; // cancelled while waiting: free the slot at once
          signal?.removeEventListener("abort", onAbort);
          try {
            resolve(await task());
          } catch (err) {
            reject(err);
          }
        });
      });
    },
  };
}
