// Structured logs (pino), readable on a terminal; the kubelet's events become log lines.

import { createRequire } from "node:module";
import {
  type Clock,
  type EventRecorder,
  type Logger as NodeletLogger,
  systemClock,
} from "@nodelet/runtime-api";
import { type Logger, pino } from "pino";
import { type LoggingFormat, prettyLogs } from "./logging-format.js";

export type { Logger };

export interface LoggerOptions {
  /** The kubelet's -v: 0 info, 1-3 more detail (debug), 4+ everything (trace). */
  verbosity?: number;
  /** Pretty lines, or JSON; default: from `format` (prettyLogs: text when stderr is a TTY). */
  pretty?: boolean;
  /** --logging-format; unset: text on a terminal, JSON otherwise. */
  format?: LoggingFormat | undefined;
  destination?: NodeJS.WritableStream;
  /** How a module is found (require.resolve from here); tests pass one that finds nothing. */
  resolveModule?: (id: string) => string;
}

/**
 * Where pino-pretty is installed, or undefined: it is an optional dependency of the agent, so an
 * install without it logs JSON instead of failing in pino's transport worker.
 */
export function resolvePinoPretty(
  resolveModule: (id: string) => string = (id) => createRequire(import.meta.url).resolve(id),
): string | undefined {
  try {
    return resolveModule("pino-pretty");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND") return undefined;
    throw err;
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const v = options.verbosity ?? 0;
  const level = v >= 4 ? "trace" : v >= 1 ? "debug" : "info";
  // Logs go to stderr, as the kubelet's: stdout stays for what a command prints.
  const pretty =
    options.pretty ??
    (options.destination === undefined ? prettyLogs(options.format) : options.format === "text");
  const prettyTarget = pretty ? resolvePinoPretty(options.resolveModule) : undefined;
  if (prettyTarget !== undefined) {
    return pino({
      level,
      transport: {
        target: prettyTarget,
        options: {
          colorize: process.stderr.isTTY === true,
          translateTime: "HH:MM:ss.l",
          ignore: "pid,hostname",
          destination: 2,
        },
      },
    });
  }
  const logger = pino({ level }, options.destination ?? pino.destination(2));
  if (pretty) logger.info("pino-pretty is not installed: logging JSON");
  return logger;
}

export interface RecordedEvent {
  time: number;
  namespace: string;
  pod: string;
  uid: string;
  container?: string | undefined;
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** An EventRecorder that logs each event (pod, container, reason) and keeps the latest ones. */
export function createLoggingRecorder(
  logger: NodeletLogger,
  keep = 500,
  clock: Clock = systemClock,
): EventRecorder & { recent(): RecordedEvent[] } {
  const recent: RecordedEvent[] = [];
  return {
    event(object, type, reason, message) {
      const container = /\{(.+)\}/.exec(object.fieldPath ?? "")?.[1];
      const entry: RecordedEvent = {
        time: clock.now(),
        namespace: object.namespace,
        pod: object.name,
        uid: object.uid,
        container,
        type,
        reason,
        message,
      };
      recent.push(entry);
      if (recent.length > keep) recent.shift();
      const fields = {
        pod: `${object.namespace}/${object.name}`,
        ...(container ? { container } : {}),
        reason,
      };
      if (type === "Warning") logger.warn(fields, message);
      else logger.info(fields, message);
    },
    recent: () => [...recent],
  };
}
