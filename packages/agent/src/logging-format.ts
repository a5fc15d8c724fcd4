// `--logging-format text|json` (config file `logging.format`), like the kubelet's flag: JSON
// lines for machines, human-readable text for a person at a terminal. Unset, the agent picks text
// when its log stream (stderr, as the kubelet's klog) is a terminal and JSON otherwise.

export const LOGGING_FORMATS = ["text", "json"] as const;
export type LoggingFormat = (typeof LOGGING_FORMATS)[number];

export function isLoggingFormat(value: unknown): value is LoggingFormat {
  return typeof value === "string" && (LOGGING_FORMATS as readonly string[]).includes(value);
}

/** Whether to log human-readable text: the format asked for, else whether the log stream is a terminal. */
export function prettyLogs(
  format: LoggingFormat | undefined,
  stream: { isTTY?: boolean } = process.stderr,
): boolean {
  if (format !== undefined) return format === "text";
  return stream.isTTY === true;
}
