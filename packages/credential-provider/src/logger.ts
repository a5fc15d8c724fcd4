import type { Logger, NodeletError } from "@nodelet/runtime-api";

// The keyring reports what it skipped through runtime-api's Logger. Messages name files, secrets,
// entry keys and plugins, never a password, an `auth` string, a token or a plugin's stdout:
// `warn` is malformed input that was skipped (a config entry, a file, a pull secret), `error` a
// source that failed (a plugin run) while the lookup went on without it.

function text(fieldsOrMsg: object | string, msg?: string): string {
  return typeof fieldsOrMsg === "string" ? fieldsOrMsg : (msg ?? "");
}

/** Writes warnings and errors to the console, prefixed with the package name: the default logger. */
export const consoleKeyringLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (fieldsOrMsg, msg) => console.warn(`credential-provider: ${text(fieldsOrMsg, msg)}`),
  error: (fieldsOrMsg, msg) => console.error(`credential-provider: ${text(fieldsOrMsg, msg)}`),
};

/** Logs a source that failed: the error under `err` (pino's convention), its message as the line. */
export function logSourceError(logger: Logger, error: NodeletError): void {
  logger.error({ err: error, code: error.code }, error.message);
}
