// The pod's QoS class, as pkg/apis/core/v1/helper/qos (GetPodQOS) computes it.
import type { V1Container, V1Pod, V1Quantity } from "./k8s-types.js";
import { quantityToMilli } from "./quantity.js";

export type PodQOSClass = "Guaranteed" | "Burstable" | "BestEffort";

/** The only resources that decide the QoS class. */
const QOS_RESOURCES = ["cpu", "memory"] as const;
type QOSResource = (typeof QOS_RESOURCES)[number];

/**
 * A container's requests as the API server defaults them: a resource with a limit and no request
 * requests its limit. Static pods are defaulted the same way by the kubelet's file source.
 */
export function effectiveRequests(container: V1Container): Record<string, V1Quantity> {
  return { ...container.resources?.limits, ...container.resources?.requests };
}

/**
 * The pod's QoS class, as `v1qos.GetPodQOS`: only cpu and memory count, init containers included.
 * BestEffort when no container requests or limits either; Guaranteed when every container limits
 * both and the summed requests equal the summed limits; Burstable otherwise. Zero quantities count
 * as unset.
 */
export function getPodQOS(pod: V1Pod): PodQOSClass {
  const requests = new Map<QOSResource, number>();
  const limits = new Map<QOSResource, number>();
  let guaranteed = true;
  for (const container of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
    const containerRequests = effectiveRequests(container);
    const containerLimits = container.resources?.limits ?? {};
    const limitsFound = new Set<QOSResource>();
    for (const name of QOS_RESOURCES) {
      const request = milliOf(containerRequests[name]);
      if (request > 0) requests.set(name, (requests.get(name) ?? 0) + request);
      const limit = milliOf(containerLimits[name]);
      if (limit > 0) {
        limitsFound.add(name);
        limits.set(name, (limits.get(name) ?? 0) + limit);
      }
    }
    if (limitsFound.size !== QOS_RESOURCES.length) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return "BestEffort";
  if (guaranteed) {
    for (const [name, request] of requests) {
      if (limits.get(name) !== request) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? "Guaranteed" : "Burstable";
}

// Thousandths keep cpu exact ("100m" → 100) and memory exact in bytes × 1000.
function milliOf(quantity: V1Quantity | undefined): number {
  return quantity === undefined ? 0 : quantityToMilli(quantity);
}
