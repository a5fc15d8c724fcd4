// The API's token and TLS files, read like manifests (runtime-api's readRegularFile: regular
// files only, a FIFO never blocks the start, a size cap), with a warning when a secret is
// readable by the group or by everyone.
import { stat } from "node:fs/promises";
import { ErrorCode, NodeletError, readRegularFile } from "@nodelet/runtime-api";

/** A token file, a certificate chain or a key is far below this. */
export const MAX_SECRET_FILE_BYTES = 256 * 1024;
/** Bytes a bearer token may have: short ones can be guessed, long ones are a wrong file. */
export const MIN_TOKEN_LENGTH = 16;
export const MAX_TOKEN_LENGTH = 4096;

export interface SecretFileWarning {
  path: string;
  mode: string;
  message: string;
}

/** A warning when `path` is readable by its group or by others; undefined when not (or when stat fails). */
async function permissionWarning(path: string, what: string): Promise<SecretFileWarning | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || (info.mode & 0o044) === 0) return undefined;
  const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
  return {
    path,
    mode,
    message: `the ${what} ${path} is readable by ${info.mode & 0o004 ? "everyone" : "its group"} (mode ${mode}); chmod 600 it`,
  };
}

/**
 * Reads the bearer token file: one token of MIN_TOKEN_LENGTH..MAX_TOKEN_LENGTH printable
 * characters, surrounding whitespace ignored. Problems are NodeletError(InvalidConfig) naming the file.
 */
export async function readTokenFile(path: string): Promise<{ token: string; warning?: SecretFileWarning }> {
  const file = await readRegularFile(path, {
    maxBytes: MAX_SECRET_FILE_BYTES,
    code: ErrorCode.InvalidConfig,
  });
  const token = file.text.trim();
  const fail = (problem: string) =>
    new NodeletError(ErrorCode.InvalidConfig, `the authentication token file ${path} ${problem}`, {
      details: { path, field: "authenticationTokenFile" },
    });
  if (token === "") throw fail("is empty");
  if (token.length < MIN_TOKEN_LENGTH)
    throw fail(`holds a token of ${token.length} characters; use at least ${MIN_TOKEN_LENGTH}`);
  if (token.length > MAX_TOKEN_LENGTH)
    throw fail(`holds ${token.length} characters; a token has at most ${MAX_TOKEN_LENGTH}`);
  if (!/^[\x21-\x7e]+$/.test(token)) throw fail("must hold one token of printable characters without spaces");
  const warning = await permissionWarning(file.target, "authentication token file");
  return { token, ...(warning ? { warning } : {}) };
}

/** Reads a TLS certificate or private key (PEM); the key warns when group/world-readable. */
export async function readTlsFile(
  path: string,
  kind: "certificate" | "private key",
): Promise<{ pem: string; warning?: SecretFileWarning }> {
  const what = `TLS ${kind} file`;
  const file = await readRegularFile(path, {
    maxBytes: MAX_SECRET_FILE_BYTES,
    code: ErrorCode.InvalidConfig,
  }).catch((err: unknown) => {
    throw new NodeletError(ErrorCode.InvalidConfig, `cannot read the ${what}: ${(err as Error).message}`, {
      cause: err,
      details: { path },
    });
  });
  if (!file.text.includes("-----BEGIN ")) {
    throw new NodeletError(ErrorCode.InvalidConfig, `the ${what} ${path} is not PEM (no "-----BEGIN" line)`, {
      details: { path },
    });
  }
  const warning = kind === "private key" ? await permissionWarning(file.target, what) : undefined;
  return { pem: file.text, ...(warning ? { warning } : {}) };
}
