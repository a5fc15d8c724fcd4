import {
  ErrorCode,
  errorMessage,
  isNodeletError,
  isRegistryUnauthorized,
  NodeletError,
  type NodeletErrorDetails,
} from "@nodelet/runtime-api";

/** The message of the throttle's refusal, as the kubelet words it. */
export const PULL_QPS_EXCEEDED = "pull QPS exceeded.";

const REGISTRY_UNAVAILABLE = "RegistryUnavailable";
const SIGNATURE_VALIDATION_FAILED = "SignatureValidationFailed";

export function cancelledError(image: string, reason?: unknown): NodeletError {
  return new NodeletError(ErrorCode.Cancelled, `pulling image "${image}" was cancelled`, {
    ...(reason === undefined ? {} : { cause: reason }),
    details: { image },
  });
}

export function isCancelled(err: unknown): boolean {
  return isNodeletError(err, ErrorCode.Cancelled);
}

export function throwIfAborted(signal: AbortSignal | undefined, image: string): void {
  if (signal?.aborted) throw cancelledError(image, signal.reason);
}

export function pullQpsExceeded(image: string): NodeletError {
  return new NodeletError(ErrorCode.ErrImagePull, PULL_QPS_EXCEEDED, { details: { image, throttled: true } });
}

/** Go's utilerrors.NewAggregate message: one message as it is, several (deduplicated) as `[a, b]`. */
export function aggregateMessage(errors: readonly unknown[]): string {
  const messages = [...new Set(errors.map(errorMessage))];
  return messages.length === 1 ? (messages[0] as string) : `[${messages.join(", ")}]`;
}

/**
 * The errors of every credential tried, as one error. The message follows Go's
 * utilerrors.NewAggregate: one message as it is, several (deduplicated) as `[a, b]`.
 */
export function aggregatePullErrors(image: string, errors: readonly unknown[]): NodeletError {
  if (errors.length === 1) {
    const only = errors[0];
    return only instanceof NodeletError ? only : NodeletError.from(only);
  }
  const message = aggregateMessage(errors);
  return new NodeletError(ErrorCode.Unknown, message, {
    cause: new AggregateError(errors, message),
    details: { image, attempts: errors.length, unauthorized: errors.some(isRegistryUnauthorized) },
  });
}

/**
 * The kubelet's evalCRIPullErr: a message starting `RegistryUnavailable` keeps that reason,
 * `SignatureValidationFailed` is reported as ErrImagePull with `details.reason` (nodelet has no
 * code for it), anything else is ErrImagePull with the runtime's message. Cancellation stays
 * Cancelled and an unparsable name InvalidImageName. The declared `unauthorized` detail (runtime-api's
 * isRegistryUnauthorized) is kept: the registry refused the credentials.
 */
export function toPullError(imgRef: string, err: unknown): NodeletError {
  if (isCancelled(err) || isNodeletError(err, ErrorCode.InvalidImageName)) return err as NodeletError;
  const message = errorMessage(err);
  const unauthorized = isRegistryUnauthorized(err);
  const base: NodeletErrorDetails = { image: imgRef, unauthorized };
  if (message.startsWith(REGISTRY_UNAVAILABLE)) {
    return new NodeletError(
      ErrorCode.RegistryUnavailable,
      `image pull failed for ${imgRef} because the registry is unavailable${message.slice(REGISTRY_UNAVAILABLE.length)}`,
      { cause: err, details: base },
    );
  }
  if (message.startsWith(SIGNATURE_VALIDATION_FAILED)) {
    return new NodeletError(
      ErrorCode.ErrImagePull,
      `image pull failed for ${imgRef} because the signature validation failed${message.slice(SIGNATURE_VALIDATION_FAILED.length)}`,
      { cause: err, details: { ...base, reason: SIGNATURE_VALIDATION_FAILED } },
    );
  }
  if (isNodeletError(err, ErrorCode.ErrImagePull)) {
    return new NodeletError(ErrorCode.ErrImagePull, message, {
      cause: err,
      details: { ...err.details, ...base },
    });
  }
  return new NodeletError(ErrorCode.ErrImagePull, message, { cause: err, details: base });
}
