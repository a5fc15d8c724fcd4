import type { NodeletError } from "@nodelet/runtime-api";

/**
 * Where the keyring reports what it skipped. Messages name files, secrets, entry keys and plugins,
 * never a password, an `auth` string, a token or a plugin's stdout.
 */
export interface KeyringLogger {
  /** Malformed input that was skipped: a config entry, a file, a pull secret. */
  warn(message: string): void;
  /** A source that failed (a plugin run); the lookup went on without it. */
  error(error: NodeletError): void;
}

/** Writes to the console, prefixed with the package name. */
export const consoleKeyringLogger: KeyringLogger = {
  warn: (message) => console.warn(`credential-provider: ${message}`),
  error: (error) => console.error(`credential-provider: ${error.message}`),
};
