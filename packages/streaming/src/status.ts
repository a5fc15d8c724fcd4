// The metav1.Status the runtime writes on the error channel/stream at the end of an exec or attach
// (remotecommand v4): Success, NonZeroExitCode with an ExitCode cause, or another failure.

import { StreamingError, StreamingErrorCode } from "./errors.js";

export interface V1Status {
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { reason?: string; type?: string; message?: string }[] };
}

/** Exit code 0 for Success, the ExitCode cause for NonZeroExitCode; anything else throws ExecFailed. */
export function exitCodeFromStatus(raw: Buffer | string): number {
  const text = raw.toString();
  if (text.trim() === "") return 0;
  let status: V1Status;
  try {
    status = JSON.parse(text) as V1Status;
  } catch (err) {
    // Pre-v4 protocols write plain text; anything unparseable is a failure we report verbatim.
    throw new StreamingError(StreamingErrorCode.ExecFailed, text.trim(), { cause: err });
  }
  if (status.status === "Success") return 0;
  if (status.reason === "NonZeroExitCode") {
    const cause = status.details?.causes?.find((c) => (c.reason ?? c.type) === "ExitCode");
    const code = Number.parseInt(cause?.message ?? "", 10);
    if (Number.isInteger(code)) return code;
  }
  throw new StreamingError(StreamingErrorCode.ExecFailed, status.message ?? text.trim(), {
    details: { reason: status.reason, status: status.code },
  });
}

/** The Status a server writes for an exit code (the kubelet's wording). */
export function statusForExitCode(
  exitCode: number,
  command?: readonly string[],
): V1Status & { metadata: object } {
  if (exitCode === 0) return { metadata: {}, status: "Success" };
  const what = command
    ? `error executing command [${command.join(" ")}], exit code ${exitCode}`
    : `exit code ${exitCode}`;
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: ${what}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
  };
}

/** A failure Status (InternalError, code 500) carrying `message`. */
export function statusForError(message: string): V1Status & { metadata: object } {
  return {
    metadata: {},
    status: "Failure",
    message,
    reason: "InternalError",
    code: 500,
    details: { causes: [{ message }] },
  };
}
