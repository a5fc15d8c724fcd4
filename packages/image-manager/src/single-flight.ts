import type { ImagePullProgress } from "@nodelet/runtime-api";
import { cancelledError } from "./errors.js";

export type ProgressListener = (progress: ImagePullProgress) => void;

/** What a shared pull is given: a signal that aborts once every caller has gone, and a progress fan-out. */
export interface FlightContext {
  signal: AbortSignal;
  emit: ProgressListener;
}

export interface JoinOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ProgressListener | undefined;
}

/**
 * One pull per key at a time: a caller that asks for a key already in flight waits for that pull
 * and shares its result (success or failure). Each caller may cancel its own wait; the pull itself
 * is cancelled only when every caller waiting for it has cancelled.
 */
export interface SingleFlight<T> {
  run(
    key: string,
    image: string,
    start: (ctx: FlightContext) => Promise<T>,
    options?: JoinOptions,
  ): Promise<T>;
  /** Keys with a pull in flight (for tests and debugging). */
  inFlight(): number;
}

interface Flight<T> {
  controller: AbortController;
  waiters: number;
  listeners: Set<ProgressListener>;
  promise: Promise<T>;
}

export function createSingleFlight<T>(): SingleFlight<T> {
  const flights = new Map<string, Flight<T>>();

  return {
    inFlight: () => flights.size,
    run(key, image, start, options = {}) {
      const { signal, onProgress } = options;
      if (signal?.aborted) return Promise.reject(cancelledError(image, signal.reason));
      let flight = flights.get(key);
      if (!flight) {
        const controller = new AbortController();
        const listeners = new Set<ProgressListener>();
        const created: Flight<T> = {
          controller,
          waiters: 0,
          listeners,
          // Settled in a later tick, after the flight is in the map.
          promise: Promise.resolve().then(() =>
            start({
              signal: controller.signal,
              emit: (progress) => {
                for (const listener of listeners) listener(progress);
              },
            }),
          ),
        };
        const forget = () => {
          if (flights.get(key) === created) flights.delete(key);
        };
        created.promise.then(forget, forget);
        flights.set(key, created);
        flight = created;
      }
      const joined = flight;
      joined.waiters += 1;
      if (onProgress) joined.listeners.add(onProgress);

      return new Promise<T>((resolve, reject) => {
        let left = false;
        const leave = () => {
          if (left) return;
          left = true;
          signal?.removeEventListener("abort", onAbort);
          if (onProgress) joined.listeners.delete(onProgress);
          joined.waiters -= 1;
        };
        const onAbort = () => {
          leave();
          if (joined.waiters === 0) {
            // Nobody wants it any more: cancel the pull, and let the next caller start afresh.
            if (flights.get(key) === joined) flights.delete(key);
            joined.controller.abort(signal?.reason);
          }
          reject(cancelledError(image, signal?.reason));
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        joined.promise.then(
          (value) => {
            if (left) return;
            leave();
            resolve(value);
          },
          (err: unknown) => {
            if (left) return;
            leave();
            reject(err);
          },
        );
      });
    },
  };
}
