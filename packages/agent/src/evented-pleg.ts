// The evented PLEG (the kubelet's pkg/kubelet/pleg/evented.go, gate EventedPLEG): the runtime's
// GetContainerEvents stream wakes a relist at once, and the periodic relist slows to 300 s while
// the stream is up. The relist stays the one source of PodLifecycleEvents (its per-container diff
// is the kubelet's generic PLEG), so both modes give the pod workers the same events. A runtime
// without the stream (containerd 1.6 answers Unimplemented) keeps the generic 1 s relist; so does
// one whose stream fails 5 times in a row (the kubelet's eventedPlegMaxStreamRetries).
import {
  type CallOptions,
  type Clock,
  ErrorCode,
  isNodeletError,
  type RuntimeService,
  type Timer,
} from "@nodelet/runtime-api";
import type { Pleg } from "./pleg.js";

/** The kubelet's relist period and health threshold while evented. */
export const EVENTED_RELIST_PERIOD_MS = 300_000;
export const EVENTED_HEALTH_THRESHOLD_MS = 10 * 60_000;
export const GENERIC_RELIST_PERIOD_MS = 1000;
export const GENERIC_HEALTH_THRESHOLD_MS = 3 * 60_000;
/** Stream failures in a row before falling back for good. */
export const MAX_STREAM_RETRIES = 5;

export type PlegMode = "evented" | "generic";

export interface EventedPlegOptions {
  runtimeService: Pick<RuntimeService, "getContainerEvents">;
  /** The relist the events wake; it runs on its own period in generic mode. */
  pleg: Pleg;
  clock: Clock;
  /** Wait before opening the stream again after a failure (default 1 s). */
  retryDelayMs?: number;
  /**
   * A stream open this long without failing is trusted (default 1 s): gRPC shows no sign that
   * the runtime accepted a server stream before its first message, and containerd 1.6 answers
   * Unimplemented at once.
   */
  settleMs?: number;
  onModeChange?: (mode: PlegMode, reason: string) => void;
  /** Each stream that ended with an error (the kubelet's evented_pleg_connection_error_count). */
  onStreamError?: (err: unknown) => void;
  /** A stream was trusted: it sent an event or stayed up settleMs (evented_pleg_connection_success_count). */
  onStreamUp?: () => void;
}

export interface EventedPleg {
  /** Opens the stream; the PLEG is already started by the caller. */
  start(): void;
  stop(): Promise<void>;
  mode(): PlegMode;
}

export function createEventedPleg(options: EventedPlegOptions): EventedPleg {
  const { pleg, clock } = options;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const settleMs = options.settleMs ?? 1000;
  let mode: PlegMode = "generic";
  let stopped = true;
  let failures = 0;
  let controller: AbortController | undefined;
  let retryTimer: Timer | undefined;
  let settleTimer: Timer | undefined;
  let running: Promise<void> | undefined;

  function setMode(next: PlegMode, reason: string): void {
    if (next === mode) return;
    mode = next;
    if (next === "evented") {
      pleg.setHealthThreshold(EVENTED_HEALTH_THRESHOLD_MS);
      pleg.setRelistPeriod(EVENTED_RELIST_PERIOD_MS);
    } else {
      pleg.setRelistPeriod(GENERIC_RELIST_PERIOD_MS);
      pleg.setHealthThreshold(GENERIC_HEALTH_THRESHOLD_MS);
    }
    // Either way one relist now: changes from before the stream was up, or while it was down.
    pleg.relistSoon();
    options.onModeChange?.(next, reason);
  }

  function trusted(): void {
    settleTimer?.cancel();
    settleTimer = undefined;
    failures = 0;
    options.onStreamUp?.();
    setMode("evented", "the runtime streams container events");
  }

  async function watch(): Promise<void> {
    controller = new AbortController();
    const call: CallOptions = { signal: controller.signal, timeoutMs: 0 };
    settleTimer = clock.setTimeout(trusted, settleMs);
    try {
      for await (const _event of options.runtimeService.getContainerEvents({}, call)) {
        if (stopped) return;
        if (mode !== "evented") trusted();
        else pleg.relistSoon();
      }
    } finally {
      settleTimer?.cancel();
      settleTimer = undefined;
    }
    if (!stopped) throw new Error("the container event stream ended");
  }

  function open(): void {
    if (stopped) return;
    running = watch()
      .catch((err: unknown) => {
        if (stopped) return;
        options.onStreamError?.(err);
        if (isNodeletError(err, ErrorCode.Unimplemented)) {
          failures = MAX_STREAM_RETRIES;
          setMode("generic", "the runtime does not implement GetContainerEvents");
          return;
        }
        failures++;
        setMode("generic", "the container event stream failed");
        if (failures < MAX_STREAM_RETRIES) {
          retryTimer = clock.setTimeout(open, retryDelayMs);
        }
      })
      .finally(() => {
        running = undefined;
      });
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      open();
    },
    async stop() {
      stopped = true;
      retryTimer?.cancel();
      settleTimer?.cancel();
      controller?.abort();
      await running;
    },
    mode: () => mode,
  };
}
