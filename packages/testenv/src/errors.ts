/** Machine-readable reasons a testenv operation failed. */
export type TestEnvErrorCode =
  | "NOT_UP"
  | "NOT_ROOT"
  | "NO_REPO_ROOT"
  | "COMMAND_FAILED"
  | "PACKAGES_MISSING"
  | "NO_FREE_PORT"
  | "SUBNET_CONFLICT"
  | "REGISTRY_FAILED"
  | "IMAGE_BUILD_FAILED"
  | "CONTAINERD_FAILED"
  | "TIMEOUT"
  | "LOCK_TIMEOUT"
  | "INVALID_STATE";

export class TestEnvError extends Error {
  readonly code: TestEnvErrorCode;

  constructor(code: TestEnvErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TestEnvError";
    this.code = code;
  }
}

export function isTestEnvError(value: unknown, code?: TestEnvErrorCode): value is TestEnvError {
  return value instanceof TestEnvError && (code === undefined || value.code === code);
}

// The message of anything thrown, for wrapping into our own errors.
export { errorMessage } from "@nodelet/runtime-api";
