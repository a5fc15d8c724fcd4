// Pod admission: the kubelet's maxPods check (lifecycle/predicate.go, the "pods" resource of the
// node's allocatable) and the status of a rejected pod (kubelet.go rejectPod).
import { getPodQOS, type V1Pod, type V1PodStatus } from "@nodelet/runtime-api";

/** The kubelet's default `maxPods`. */
export const DEFAULT_MAX_PODS = 110;

/** The kubelet's reason for a pod over maxPods: "OutOf" + the resource name. */
export const OUT_OF_PODS = "OutOfpods";

export type AdmitResult = { admit: true } | { admit: false; reason: string; message: string };

/**
 * Admits one pod when the active pods (admitted and not terminal, the new one excluded) leave room
 * for it under `maxPods`. The message is the kubelet's InsufficientResourceError text.
 */
export function admitPod(activePods: number, maxPods: number): AdmitResult {
  if (activePods + 1 <= maxPods) return { admit: true };
  return {
    admit: false,
    reason: OUT_OF_PODS,
    message: `Node didn't have enough resource: pods, requested: 1, used: ${activePods}, capacity: ${maxPods}`,
  };
}

/**
 * The status of a rejected pod: Failed with the admission reason, and the kubelet's
 * "Pod was rejected: " before the message. Nothing of the pod ever runs.
 */
export function rejectedPodStatus(pod: V1Pod, reason: string, message: string): V1PodStatus {
  return {
    phase: "Failed",
    reason,
    message: `Pod was rejected: ${message}`,
    qosClass: getPodQOS(pod),
  };
}
