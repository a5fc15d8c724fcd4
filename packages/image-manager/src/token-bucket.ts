import type { Clock } from "@nodelet/runtime-api";

/** client-go's token-bucket rate limiter, reduced to the non-blocking TryAccept the image puller uses. */
export interface TokenBucket {
  /** Takes a token if one is there; never waits. */
  tryAccept(): boolean;
}

/**
 * A bucket of `burst` tokens, full at creation, refilled at `qps` tokens per second as measured
 * by `clock`. Burst 0 accepts nothing (as golang.org/x/time/rate does).
 */
export function createTokenBucket(qps: number, burst: number, clock: Clock): TokenBucket {
  let tokens = burst;
  let last = clock.now();
  return {
    tryAccept() {
      const now = clock.now();
      if (now > last) {
        tokens = Math.min(burst, tokens + ((now - last) * qps) / 1000);
        last = now;
      }
      if (tokens >= 1) {
        tokens -= 1;
        return true;
      }
      return false;
    },
  };
}
