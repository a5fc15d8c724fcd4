import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { ErrorCode, errorMessage, NodeletError, type NodeletErrorDetails } from "@nodelet/runtime-api";

export interface CallContext {
  /** CRI method name, e.g. "ListContainers". */
  rpc: string;
  endpoint: string;
  /** The deadline used, in ms (0 = none), for the DeadlineExceeded message. */
  timeoutMs: number;
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === "number";
}

/**
 * How runtimes word a registry's refusal of credentials: containerd says "unexpected status: 401
 * Unauthorized", CRI-O "authentication required" or "unauthorized". The one place that
 * matches these words; what it finds becomes the declared `unauthorized` detail of runtime-api.
 */
const UNAUTHORIZED =
  /\b401\b|unauthori[sz]ed|authorization failed|authentication required|no basic auth credentials/i;

/** True when a runtime's error message says the registry refused the credentials. */
export function isUnauthorizedMessage(runtimeMessage: string): boolean {
  return UNAUTHORIZED.test(runtimeMessage);
}

/** Maps a gRPC failure onto a NodeletError whose code says what the caller can do about it. */
export function fromGrpcError(err: unknown, ctx: CallContext): NodeletError {
  if (err instanceof NodeletError) return err;
  if (!isServiceError(err)) {
    const message = errorMessage(err);
    // grpc-js throws synchronously once the channel is closed.
    if (/channel has been shut down|closed/i.test(message)) {
      return new NodeletError(
        ErrorCode.RuntimeUnavailable,
        `${ctx.rpc}: this CRI client was closed; create a new one`,
        { cause: err, details: { rpc: ctx.rpc } },
      );
    }
    return new NodeletError(ErrorCode.Unknown, `${ctx.rpc}: ${message}`, {
      cause: err,
      details: { rpc: ctx.rpc },
    });
  }
  const runtimeMessage = err.details || err.message;
  const details = { rpc: ctx.rpc, grpcCode: err.code, endpoint: ctx.endpoint };
  const make = (code: ErrorCode, message: string, extra: NodeletErrorDetails = {}) =>
    new NodeletError(code, message, { cause: err, details: { ...details, ...extra } });

  switch (err.code) {
    case GrpcStatus.CANCELLED:
      return make(ErrorCode.Cancelled, `${ctx.rpc} was cancelled before the runtime answered`);
    case GrpcStatus.DEADLINE_EXCEEDED:
      return make(
        ErrorCode.DeadlineExceeded,
        `${ctx.rpc}: the runtime did not answer within ${formatSeconds(ctx.timeoutMs)}; ` +
          "it may be overloaded (raise runtimeRequestTimeout) or hung",
      );
    case GrpcStatus.NOT_FOUND:
      return make(ErrorCode.NotFound, `${ctx.rpc}: ${runtimeMessage}`);
    case GrpcStatus.ALREADY_EXISTS:
      return make(ErrorCode.AlreadyExists, `${ctx.rpc}: ${runtimeMessage}`);
    case GrpcStatus.INVALID_ARGUMENT:
      return make(ErrorCode.InvalidArgument, `${ctx.rpc}: ${runtimeMessage}`);
    case GrpcStatus.FAILED_PRECONDITION:
      return make(ErrorCode.FailedPrecondition, `${ctx.rpc}: ${runtimeMessage}`);
    case GrpcStatus.PERMISSION_DENIED:
      return make(ErrorCode.PermissionDenied, `${ctx.rpc}: ${runtimeMessage}`);
    case GrpcStatus.UNAUTHENTICATED:
      return make(ErrorCode.Unauthenticated, `${ctx.rpc}: ${runtimeMessage}`);
    case GrpcStatus.RESOURCE_EXHAUSTED:
      if (/larger than max/i.test(runtimeMessage)) {
        return make(
          ErrorCode.ResourceExhausted,
          `${ctx.rpc}: the message is larger than the limit (${runtimeMessage}); ` +
            "narrow the request with a filter or raise maxMessageBytes",
        );
      }
      return make(ErrorCode.ResourceExhausted, `${ctx.rpc}: ${runtimeMessage}`);
    case GrpcStatus.UNIMPLEMENTED:
      return make(
        ErrorCode.Unimplemented,
        `${ctx.rpc} is not implemented by the runtime at ${ctx.endpoint} (${runtimeMessage}); ` +
          "it may be older than this CRI method",
      );
    case GrpcStatus.UNAVAILABLE:
      if (/protocol error|parse error|Received RST_STREAM|malformed/i.test(runtimeMessage)) {
        return make(
          ErrorCode.NotCriRuntime,
          `the server at ${ctx.endpoint} does not speak gRPC as a CRI runtime does (${runtimeMessage}): ` +
            "check that the endpoint is the runtime's CRI socket",
        );
      }
      return make(ErrorCode.RuntimeUnavailable, unavailableMessage(ctx, runtimeMessage));
    case GrpcStatus.INTERNAL:
      return make(ErrorCode.Internal, `${ctx.rpc}: ${runtimeMessage}`);
    default:
      // containerd reports most runtime-side failures (pull errors included) as UNKNOWN; the
      // kubelet passes the plain message on so that callers can match on it.
      return make(
        ErrorCode.Unknown,
        ctx.rpc === "PullImage" ? runtimeMessage : `${ctx.rpc}: ${runtimeMessage}`,
        { unauthorized: isUnauthorizedMessage(runtimeMessage) },
      );
  }
}

function unavailableMessage(ctx: CallContext, runtimeMessage: string): string {
  if (/ECONNREFUSED/.test(runtimeMessage)) {
    return (
      `cannot reach the container runtime at ${ctx.endpoint}: nothing accepts connections on it ` +
      "(the runtime is stopped or still starting; retry once it is up)"
    );
  }
  if (/ENOENT/.test(runtimeMessage)) {
    return `cannot reach the container runtime at ${ctx.endpoint}: the socket is gone (is the runtime running?)`;
  }
  return `cannot reach the container runtime at ${ctx.endpoint} (${ctx.rpc}: ${runtimeMessage})`;
}

function formatSeconds(ms: number): string {
  return ms > 0 ? `${ms / 1000}s` : "its deadline";
}
