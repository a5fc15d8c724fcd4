// Ctrl-C never hangs. The first SIGINT/SIGTERM stops the agent cleanly: no new work, in-flight
// syncs see their AbortSignal, work in flight (a kill running a preStop hook, say) may finish,
// then exit 0. A second signal exits at once with 128 + the signal's number (130 for SIGINT,
// 143 for SIGTERM), whatever is still running. Either way the pods keep running: the agent
// never kills a pod because it exits, as the kubelet does not.
import type { Logger } from "@nodelet/runtime-api";

export const EXIT_FORCED: Readonly<Record<ShutdownSignal, number>> = { SIGINT: 130, SIGTERM: 143 };
export type ShutdownSignal = "SIGINT" | "SIGTERM";

/** The part of `process` used; injectable so tests send signals without a child process. */
export interface SignalSource {
  on(signal: ShutdownSignal, listener: () => void): unknown;
}

export interface ShutdownOptions {
  signals: SignalSource;
  /** Stops the agent (agent.stop). */
  stop: () => Promise<void>;
  exit: (code: number) => void;
  logger: Pick<Logger, "info" | "warn" | "error">;
}

export interface Shutdown {
  /** Runs what the first signal runs (the CLI calls it when the start fails). */
  begin(reason: string): Promise<void>;
}

export function installShutdown(options: ShutdownOptions): Shutdown {
  const { logger } = options;
  let stopping: Promise<void> | undefined;
  const begin = (reason: string): Promise<void> => {
    stopping ??= options.stop().then(
      () => options.exit(0),
      (err: unknown) => {
        logger.error({ err: err instanceof Error ? err.message : String(err) }, "shutdown failed");
        options.exit(1);
      },
    );
    logger.info({ signal: reason }, "shutting down; a second signal exits at once (pods keep running)");
    return stopping;
  };
  const onSignal = (signal: ShutdownSignal) => {
    if (stopping === undefined) {
      void begin(signal);
      return;
    }
    logger.warn({ signal, exitCode: EXIT_FORCED[signal] }, "second signal: exiting now; pods keep running");
    options.exit(EXIT_FORCED[signal]);
  };
  options.signals.on("SIGTERM", () => onSignal("SIGTERM"));
  options.signals.on("SIGINT", () => onSignal("SIGINT"));
  return { begin };
}
