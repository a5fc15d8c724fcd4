import type { Logger } from "@nodelet/runtime-api";

// Progress goes through runtime-api's Logger; the CLI's goes to stderr so stdout stays parseable
// for callers.
export type { Logger } from "@nodelet/runtime-api";
export { noopLogger as silentLogger } from "@nodelet/runtime-api";

function write(level: string): Logger["info"] {
  return (fieldsOrMsg, msg) => {
    const text = typeof fieldsOrMsg === "string" ? fieldsOrMsg : (msg ?? JSON.stringify(fieldsOrMsg));
    process.stderr.write(`[testenv] ${level}${text}\n`);
  };
}

export const stderrLogger: Logger = {
  debug: () => undefined,
  info: write(""),
  warn: write("warning: "),
  error: write("error: "),
};
