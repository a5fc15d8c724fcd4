// The kubelet's container GC policy (kubecontainer.GCPolicy) and its defaults: MinAge 0,
// MaxPerPodContainer 1, MaxContainers -1 (pkg/kubelet/apis/config defaults of the deprecated
// --minimum-container-ttl-duration, --maximum-dead-containers-per-container, --maximum-dead-containers).
import { ErrorCode, type GCPolicy, NodeletError } from "@nodelet/runtime-api";

/** minAge 0, one dead instance kept per (pod, container name), no node-wide limit. */
export const DEFAULT_GC_POLICY: Readonly<GCPolicy> = Object.freeze({
  minAgeMs: 0,
  maxPerPodContainer: 1,
  maxContainers: -1,
});

/**
 * Checks a policy before a pass: every field a finite integer (minAgeMs ≥ 0; the two counts may be
 * negative, meaning no limit). InvalidConfig names the field.
 */
export function validateGCPolicy(policy: GCPolicy): GCPolicy {
  const fields: [keyof GCPolicy, number][] = [
    ["minAgeMs", policy?.minAgeMs],
    ["maxPerPodContainer", policy?.maxPerPodContainer],
    ["maxContainers", policy?.maxContainers],
  ];
  for (const [field, value] of fields) {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw new NodeletError(
        ErrorCode.InvalidConfig,
        `GC policy ${field} must be an integer, got ${String(value)}`,
        {
          details: { field },
        },
      );
    }
  }
  if (policy.minAgeMs < 0) {
    throw new NodeletError(
      ErrorCode.InvalidConfig,
      `GC policy minAgeMs must not be negative, got ${policy.minAgeMs}`,
      {
        details: { field: "minAgeMs" },
      },
    );
  }
  return policy;
}
