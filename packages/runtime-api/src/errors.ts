import { CRI_API_VERSION, CRI_VERSION } from "./cri-version.js";

/**
 * One error class for the whole project, with a closed set of codes.
 *
 * Transport codes describe what happened to a CRI call; the kubelet's reason strings
 * (ErrImagePull, CrashLoopBackOff, ...) are codes too, so a caller can switch on `code`
 * whatever layer raised the error.
 */
export const ErrorCode = {
  // Reaching the runtime.
  InvalidEndpoint: "InvalidEndpoint",
  RuntimeUnavailable: "RuntimeUnavailable",
  NotCriRuntime: "NotCriRuntime",
  UnsupportedRuntimeApiVersion: "UnsupportedRuntimeApiVersion",
  VersionNotSupported: "VersionNotSupported",
  // gRPC outcomes, one per status that a caller acts on differently.
  Cancelled: "Cancelled",
  DeadlineExceeded: "DeadlineExceeded",
  NotFound: "NotFound",
  AlreadyExists: "AlreadyExists",
  InvalidArgument: "InvalidArgument",
  FailedPrecondition: "FailedPrecondition",
  PermissionDenied: "PermissionDenied",
  Unauthenticated: "Unauthenticated",
  ResourceExhausted: "ResourceExhausted",
  Unimplemented: "Unimplemented",
  Internal: "Internal",
  Unknown: "Unknown",
  // The runtime answered, but not with what the CRI requires.
  InvalidResponse: "InvalidResponse",
  // ExecSync.
  CommandTimedOut: "CommandTimedOut",
  CommandExitError: "CommandExitError",
  // Input that never reaches the runtime.
  InvalidPod: "InvalidPod",
  InvalidConfig: "InvalidConfig",
  // The kubelet's reasons, as it spells them.
  ErrImagePull: "ErrImagePull",
  ImagePullBackOff: "ImagePullBackOff",
  ErrImageNeverPull: "ErrImageNeverPull",
  InvalidImageName: "InvalidImageName",
  ImageInspectError: "ImageInspectError",
  RegistryUnavailable: "RegistryUnavailable",
  CrashLoopBackOff: "CrashLoopBackOff",
  CreatePodSandboxError: "CreatePodSandboxError",
  ConfigPodSandboxError: "ConfigPodSandboxError",
  KillPodSandboxError: "KillPodSandboxError",
  CreateContainerConfigError: "CreateContainerConfigError",
  CreateContainerError: "CreateContainerError",
  PreStartHookError: "PreStartHookError",
  RunContainerError: "RunContainerError",
  PostStartHookError: "PostStartHookError",
  KillContainerError: "KillContainerError",
  CredentialProviderError: "CredentialProviderError",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

// Symbol.for is shared across copies of this package in one process, so the brand
// survives a node_modules tree holding two versions.
const brand = Symbol.for("@nodelet/runtime-api/NodeletError");

/**
 * The details whose meaning every package relies on, declared here so that producer and reader
 * share a type; any other key in `details` is a fact for people (ids, exit codes).
 */
export interface DeclaredErrorDetails {
  /**
   * The registry refused the pull's credentials, or their absence (HTTP 401 behind the runtime).
   * Set by the CRI client, which knows its runtime's wording (@nodelet/cri-remote); carried by
   * the image manager's pull errors, whose reason stays ErrImagePull as in the kubelet. Read it
   * with isRegistryUnauthorized().
   */
  unauthorized?: boolean;
}

/** A NodeletError's details: the declared ones typed, anything else as a plain fact. */
export type NodeletErrorDetails = Readonly<Record<string, unknown> & DeclaredErrorDetails>;

export interface NodeletErrorOptions {
  cause?: unknown;
  /** Facts for the caller (ids, exit codes); never secrets. */
  details?: NodeletErrorDetails;
}

export class NodeletError extends Error {
  readonly code: ErrorCode;
  readonly details: NodeletErrorDetails;
  declare readonly [brand]: true;

  constructor(code: ErrorCode, message: string, options: NodeletErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "NodeletError";
    this.code = code;
    this.details = options.details ?? {};
    Object.defineProperty(this, brand, { value: true });
  }

  /**
   * `instanceof NodeletError` is true for errors from any copy of the package. A subclass
   * keeps the ordinary prototype check, plus a name match across copies.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== "object" || value === null) return false;
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const branded = (value as Record<symbol, unknown>)[brand] === true;
    if (this === NodeletError) return branded;
    return branded && (value as Error).name === this.name;
  }

  /** Wraps anything thrown into a NodeletError, leaving NodeletErrors as they are. */
  static from(reason: unknown, code: ErrorCode = ErrorCode.Unknown): NodeletError {
    if (reason instanceof NodeletError) return reason;
    if (reason instanceof Error) return new NodeletError(code, reason.message, { cause: reason });
    return new NodeletError(code, String(reason), { cause: reason });
  }
}

export function isNodeletError(value: unknown, code?: ErrorCode): value is NodeletError {
  return value instanceof NodeletError && (code === undefined || value.code === code);
}

/** True when `err` is a NodeletError saying the registry refused the pull's credentials. */
export function isRegistryUnauthorized(err: unknown): boolean {
  return isNodeletError(err) && err.details.unauthorized === true;
}

export function isErrorCode(value: string): value is ErrorCode {
  return knownCodes.has(value);
}

/** The runtime speaks another CRI version than v1, or is not the version this client validates. */
export class UnsupportedRuntimeApiVersionError extends NodeletError {
  readonly runtimeName: string;
  readonly runtimeApiVersion: string;
  readonly version: string;

  constructor(answered: RuntimeVersionAnswer) {
    super(
      ErrorCode.UnsupportedRuntimeApiVersion,
      `runtime "${answered.runtimeName || "(unnamed)"}" answered CRI runtime_api_version "${answered.runtimeApiVersion}" ` +
        `and version "${answered.version}"; nodelet needs runtime_api_version "${CRI_API_VERSION}" and version "${CRI_VERSION}". ` +
        "Upgrade the runtime to one that serves CRI v1 (containerd >= 1.6, CRI-O >= 1.20).",
      { details: answered },
    );
    this.name = "UnsupportedRuntimeApiVersionError";
    this.runtimeName = answered.runtimeName;
    this.runtimeApiVersion = answered.runtimeApiVersion;
    this.version = answered.version;
  }
}

/** What a runtime answers to Version, as far as the version check needs it. */
export type RuntimeVersionAnswer = {
  runtimeName: string;
  runtimeApiVersion: string;
  version: string;
};

/**
 * Throws UnsupportedRuntimeApiVersionError unless the runtime answered CRI_API_VERSION and
 * CRI_VERSION: one check and one error code wherever the version is asked.
 */
export function assertSupportedRuntimeVersion(answer: RuntimeVersionAnswer): void {
  if (answer.runtimeApiVersion !== CRI_API_VERSION || answer.version !== CRI_VERSION) {
    throw new UnsupportedRuntimeApiVersionError(answer);
  }
}

/** A command run with ExecSync exited with a non-zero code (the kubelet's CodeExitError). */
export class CommandExitError extends NodeletError {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;

  constructor(cmd: readonly string[], exitCode: number, stdout: Buffer, stderr: Buffer) {
    const tail = stderr.toString("utf8").trim();
    super(
      ErrorCode.CommandExitError,
      `command '${cmd.join(" ")}' exited with ${exitCode}${tail ? `: ${tail}` : ""}`,
      { details: { exitCode } },
    );
    this.name = "CommandExitError";
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}
