import { status as GrpcStatus } from "@grpc/grpc-js";
import { ErrorCode, NodeletError } from "@nodelet/runtime-api";
import type { CriMethod } from "./methods.js";

// One table between NodeletError codes and gRPC statuses, read both ways: the fake raises the
// code cri-remote would raise for the status a real runtime answers, and the server answers
// that status for the code.

const toGrpc: Partial<Record<ErrorCode, GrpcStatus>> = {
  [ErrorCode.Cancelled]: GrpcStatus.CANCELLED,
  [ErrorCode.DeadlineExceeded]: GrpcStatus.DEADLINE_EXCEEDED,
  [ErrorCode.NotFound]: GrpcStatus.NOT_FOUND,
  [ErrorCode.AlreadyExists]: GrpcStatus.ALREADY_EXISTS,
  [ErrorCode.InvalidArgument]: GrpcStatus.INVALID_ARGUMENT,
  [ErrorCode.FailedPrecondition]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorCode.PermissionDenied]: GrpcStatus.PERMISSION_DENIED,
  [ErrorCode.Unauthenticated]: GrpcStatus.UNAUTHENTICATED,
  [ErrorCode.ResourceExhausted]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorCode.Unimplemented]: GrpcStatus.UNIMPLEMENTED,
  [ErrorCode.RuntimeUnavailable]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.Internal]: GrpcStatus.INTERNAL,
  [ErrorCode.Unknown]: GrpcStatus.UNKNOWN,
};

/** The gRPC status a CRI server answers for a NodeletError code (UNKNOWN for codes no status has). */
export function grpcStatusOf(code: ErrorCode): GrpcStatus {
  return toGrpc[code] ?? GrpcStatus.UNKNOWN;
}

/** Codes a runtime can answer with, i.e. that have a gRPC status of their own. */
export const statusCodes: readonly ErrorCode[] = Object.keys(toGrpc) as ErrorCode[];

/**
 * A failure as the runtime states it, before a client words it: `message` is the runtime's own
 * text (what containerd puts in the gRPC status), without the method prefix a client adds.
 */
export class RuntimeStatusError extends NodeletError {
  readonly runtimeMessage: string;

  constructor(code: ErrorCode, runtimeMessage: string) {
    super(code, runtimeMessage);
    this.name = "RuntimeStatusError";
    this.runtimeMessage = runtimeMessage;
  }
}

export function runtimeError(code: ErrorCode, runtimeMessage: string): RuntimeStatusError {
  return new RuntimeStatusError(code, runtimeMessage);
}

/** Where in-process errors say the runtime is, in the place cri-remote names the endpoint. */
export const IN_PROCESS_ENDPOINT = "in-process fake runtime";

/**
 * The NodeletError a client sees for a runtime's failure, worded as cri-remote words the same
 * gRPC status (src/grpc-errors.ts there), so code under test sees one error in-process and over gRPC.
 */
export function clientError(rpc: CriMethod, err: RuntimeStatusError, endpoint = IN_PROCESS_ENDPOINT) {
  const msg = err.runtimeMessage;
  const details = { rpc, grpcCode: grpcStatusOf(err.code), endpoint };
  let message: string;
  switch (err.code) {
    case ErrorCode.Cancelled:
      message = `${rpc} was cancelled before the runtime answered`;
      break;
    case ErrorCode.DeadlineExceeded:
      message = `${rpc}: the runtime did not answer within its deadline (${msg})`;
      break;
    case ErrorCode.Unimplemented:
      message = `${rpc} is not implemented by the runtime at ${endpoint} (${msg}); it may be older than this CRI method`;
      break;
    case ErrorCode.Unknown:
      // The kubelet passes a pull's plain message on so that callers can match on it.
      message = rpc === "PullImage" ? msg : `${rpc}: ${msg}`;
      break;
    default:
      message = `${rpc}: ${msg}`;
  }
  return new NodeletError(err.code, message, { cause: err, details });
}
