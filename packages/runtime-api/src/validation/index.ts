// Validation of a Kubernetes v1 Pod before the runtime creates anything, following the API
// server's rules (pkg/apis/core/validation) for the fields nodelet reads. The input is
// `unknown` (a parsed manifest), so every read checks the shape first: odd input gives
// FieldErrors, never a TypeError. Unknown fields are ignored, as the API server's default
// (non-strict) decoding does.

import { ErrorCode, NodeletError } from "../errors.js";
import type { V1Pod } from "../k8s-types.js";
import { Checker, type FieldError, podLabel } from "./checker.js";
import { MAX_ERRORS } from "./constants.js";
import { checkPod } from "./pod.js";

export type { FieldError } from "./checker.js";

/**
 * Returns `pod` typed as a V1Pod when it passes every check; otherwise throws a NodeletError
 * with code InvalidPod, every problem in its message and `details.errors` (FieldError[]).
 */
export function validatePod(pod: unknown): V1Pod {
  const errors = collectPodErrors(pod);
  if (errors.length === 0) return pod as V1Pod;
  const list = errors.map((e) => (e.field === "" ? e.message : `${e.field}: ${e.message}`)).join("; ");
  throw new NodeletError(ErrorCode.InvalidPod, `${podLabel(pod)}: ${list}`, { details: { errors } });
}

/** Every problem `validatePod` would report (at most MAX_ERRORS, then a summary); [] when valid. */
export function collectPodErrors(pod: unknown): FieldError[] {
  const c = new Checker();
  checkPod(c, pod);
  const errors = c.errors;
  if (errors.length <= MAX_ERRORS) return errors;
  const more = errors.length - MAX_ERRORS;
  return [
    ...errors.slice(0, MAX_ERRORS),
    {
      field: "",
      message: `and ${more} more error${more === 1 ? "" : "s"} (reporting stops at ${MAX_ERRORS})`,
    },
  ];
}
