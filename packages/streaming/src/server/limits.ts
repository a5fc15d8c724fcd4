// Idle and total time limits of one relayed session (the kubelet's stream idle timeout, 4 h by
// default, and an optional cap on the whole session).

export interface SessionLimits {
  /** No byte in either direction for this long ends the session. Default 4 h (the kubelet's). */
  idleTimeoutMs?: number | undefined;
  /** The whole session may last this long; default unlimited. */
  maxDurationMs?: number | undefined;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 4 * 60 * 60 * 1000;

/** Calls `expire(reason)` once a limit is passed; `touch()` on every relayed chunk; `stop()` at the end. */
export function watchLimits(
  limits: SessionLimits,
  expire: (reason: string) => void,
): { touch(): void; stop(): void } {
  const idle = limits.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  let last = Date.now();
  let done = false;
  const timers: NodeJS.Timeout[] = [];
  const fire = (reason: string) => {
    if (done) return;
    done = true;
    for (const t of timers) clearTimeout(t);
    expire(reason);
  };
  const checkIdle = () => {
    if (done) return;
    const quiet = Date.now() - last;
    if (quiet >= idle) {
      fire(`no data for ${Math.round(quiet / 1000)} s (idle timeout)`);
      return;
    }
    const t = setTimeout(checkIdle, idle - quiet);
    t.unref();
    timers[0] = t;
  };
  if (idle > 0) checkIdle();
  if (limits.maxDurationMs !== undefined && limits.maxDurationMs > 0) {
    const t = setTimeout(
      () => fire(`the session passed its ${limits.maxDurationMs} ms limit`),
      limits.maxDurationMs,
    );
    t.unref();
    timers[1] = t;
  }
  return {
    touch() {
      last = Date.now();
    },
    stop() {
      done = true;
      for (const t of timers) clearTimeout(t);
    },
  };
}
