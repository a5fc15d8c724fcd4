// Typed failures of a streaming session. One class with a closed set of codes, branded so that
// `instanceof` holds across two copies of the package (the shape of runtime-api's NodeletError).

/** Why a streaming session failed. */
export const StreamingErrorCode = {
  /** A URL, option or parameter is wrong; `details.field` names it. */
  InvalidArgument: "InvalidArgument",
  /** The server refused the upgrade (HTTP status in `details.status`, its body in the message). */
  UpgradeFailed: "UpgradeFailed",
  /** No protocol both sides speak; `details.offered` lists ours. */
  ProtocolNegotiationFailed: "ProtocolNegotiationFailed",
  /** The command could not run or the runtime reported another failure (a Status other than exit codes). */
  ExecFailed: "ExecFailed",
  /** The connection ended before the status arrived: output may be truncated. */
  ConnectionLost: "ConnectionLost",
  /** The peer broke the SPDY protocol (bad frame, bad header block). */
  ProtocolError: "ProtocolError",
  /** stdin cannot be closed on this protocol (WebSocket v4): the data went, the EOF did not. */
  StdinCloseUnsupported: "StdinCloseUnsupported",
  /** A forwarded port could not be reached (the runtime's message in the error). */
  PortForwardFailed: "PortForwardFailed",
  /** The session was aborted through its AbortSignal. */
  Aborted: "Aborted",
  /** The session passed its idle or total time limit. */
  Timeout: "Timeout",
} as const;

export type StreamingErrorCode = (typeof StreamingErrorCode)[keyof typeof StreamingErrorCode];

const brand = Symbol.for("@nodelet/streaming/StreamingError");

export class StreamingError extends Error {
  readonly code: StreamingErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  declare readonly [brand]: true;

  constructor(
    code: StreamingErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StreamingError";
    this.code = code;
    this.details = options.details ?? {};
    Object.defineProperty(this, brand, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== "object" || value === null) return false;
    return (value as Record<symbol, unknown>)[brand] === true;
  }
}

export function isStreamingError(value: unknown, code?: StreamingErrorCode): value is StreamingError {
  return value instanceof StreamingError && (code === undefined || value.code === code);
}
