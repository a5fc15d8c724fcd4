// One logging shape for every package. pino's Logger is assignable to it, so the agent passes its
// pino logger straight in; libraries default to noopLogger and never depend on pino themselves.

/**
 * A log method: structured fields then a message (pino's order), or a message alone. One signature
 * rather than two overloads, so that an object literal implementing it gets its parameters typed.
 */
export type LogFn = (fieldsOrMsg: object | string, msg?: string) => void;

/** The levels nodelet logs at. Fields carry ids and names; messages never carry secrets. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const discard: LogFn = () => undefined;

/** Drops everything: the default where no logger is given. */
export const noopLogger: Logger = { debug: discard, info: discard, warn: discard, error: discard };
