// The collector's metrics. The kubelet has none for container GC; the names follow its image GC
// (kubelet_image_garbage_collected_total{reason}) and the runtime operation histograms.
import { OPERATION_DURATION_BUCKETS, registerMetric } from "@nodelet/runtime-api";
import { Counter, Histogram, type Registry } from "prom-client";

/** What a pass removes: the label value of the `object` label. */
export type GCObject = "container" | "sandbox" | "pod_log_dir" | "legacy_log_symlink" | "pod_dir";

export interface GCMetrics {
  removed: Counter<"object">;
  errors: Counter<"object">;
  duration: Histogram;
}

export const GC_METRIC_NAMES = {
  removed: "kubelet_container_garbage_collected_total",
  errors: "kubelet_container_garbage_collection_errors_total",
  duration: "kubelet_container_garbage_collection_duration_seconds",
} as const;

/** Registers (once per registry) the container GC metrics; the agent's pod-directory cleanup shares them. */
export function containerGCMetrics(registry: Registry): GCMetrics {
  return {
    removed: registerMetric(registry, Counter, {
      name: GC_METRIC_NAMES.removed,
      help: "Objects removed by container garbage collection, by object (container, sandbox, pod_log_dir, legacy_log_symlink, pod_dir)",
      labelNames: ["object"] as const,
    }),
    errors: registerMetric(registry, Counter, {
      name: GC_METRIC_NAMES.errors,
      help: "Failed removals of container garbage collection, by object; each is retried on the next pass",
      labelNames: ["object"] as const,
    }),
    duration: registerMetric(registry, Histogram, {
      name: GC_METRIC_NAMES.duration,
      help: "Duration in seconds of a container garbage collection pass",
      buckets: [...OPERATION_DURATION_BUCKETS],
    }),
  };
}
