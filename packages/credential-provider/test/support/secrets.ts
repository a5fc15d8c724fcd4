import { type Logger, noopLogger } from "@nodelet/runtime-api";
/** Passwords the tests use; no warning, error or log line may contain them. */
export const SECRET_PASSWORDS = [
  "s3cr3t-pa55",
  "hunter2:with:colons",
  "plugin-pw-9000",
  "other-pw-7",
] as const;

export function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/** Collects everything the keyring reports, to check it and to check it holds no secret. */
export function recordingLogger() {
  const warnings: string[] = [];
  const errors: Error[] = [];
  return {
    warnings,
    errors,
    logger: {
      ...noopLogger,
      warn: (fieldsOrMsg: object | string, msg?: string) =>
        warnings.push(typeof fieldsOrMsg === "string" ? fieldsOrMsg : (msg ?? "")),
      error: (fieldsOrMsg: object | string, msg?: string) =>
        errors.push((fieldsOrMsg as { err?: Error }).err ?? new Error(msg ?? String(fieldsOrMsg))),
    } satisfies Logger,
    onWarning: (message: string) => warnings.push(message),
    /** Every text reported, including error details. */
    allText(): string {
      return [
        ...warnings,
        ...errors.map((e) => `${e.message} ${JSON.stringify((e as { details?: unknown }).details ?? {})}`),
      ].join("\n");
    },
  };
}

export function expectNoSecrets(text: string, extra: readonly string[] = []): void {
  for (const secret of [...SECRET_PASSWORDS, ...extra]) {
    if (text.includes(secret))
      throw new Error(`a reported message holds a password (${secret.length} chars)`);
    const encoded = b64(secret);
    if (text.includes(encoded)) throw new Error("a reported message holds a base64 password");
  }
}
