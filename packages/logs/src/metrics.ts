import { registerMetric } from "@nodelet/runtime-api";
import { Counter, type Registry } from "prom-client";

/** The log manager's counters (the kubelet has none; nodelet's own names). */
export interface LogManagerMetrics {
  /** `nodelet_container_log_rotations_total`: live logs renamed and reopened. */
  rotations: Counter;
  /** `nodelet_container_log_compressions_total`: rotated files gzip-compressed. */
  compressions: Counter;
  /** `nodelet_container_log_manager_errors_total{operation}`: failures by operation (rotate, reopen, compress, clean, ...). */
  errors: Counter<"operation">;
}

export function logManagerMetrics(registry: Registry): LogManagerMetrics {
  return {
    rotations: registerMetric(registry, Counter, {
      name: "nodelet_container_log_rotations_total",
      help: "Container logs rotated (renamed and reopened by the runtime).",
    }),
    compressions: registerMetric(registry, Counter, {
      name: "nodelet_container_log_compressions_total",
      help: "Rotated container log files compressed with gzip.",
    }),
    errors: registerMetric(registry, Counter<"operation">, {
      name: "nodelet_container_log_manager_errors_total",
      help: "Failures of the container log manager, by operation.",
      labelNames: ["operation"] as const,
    }),
  };
}
