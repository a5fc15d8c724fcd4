import { registerMetric } from "@nodelet/runtime-api";
import { Counter, Histogram, type Registry } from "prom-client";

/** The kubelet's lifecycle-handler metrics. */
export interface LifecycleHandlerMetrics {
  /** `kubelet_lifecycle_handler_http_fallbacks_total`: HTTPS hooks that succeeded over HTTP. */
  httpFallbacks: Counter;
  /** `kubelet_lifecycle_handler_sleep_terminated_total`: sleep hooks cut short. */
  sleepTerminated: Counter;
}

export const HTTP_FALLBACKS_TOTAL = "kubelet_lifecycle_handler_http_fallbacks_total";
export const SLEEP_TERMINATED_TOTAL = "kubelet_lifecycle_handler_sleep_terminated_total";

/** Returns the metrics registered in `registry`, registering each on first use. */
export function lifecycleHandlerMetrics(registry: Registry): LifecycleHandlerMetrics {
  return {
    // The kubelet's help texts.
    httpFallbacks: registerMetric(registry, Counter, {
      name: HTTP_FALLBACKS_TOTAL,
      help: "The number of times lifecycle handlers successfully fell back to http from https.",
    }),
    sleepTerminated: registerMetric(registry, Counter, {
      name: SLEEP_TERMINATED_TOTAL,
      help: "The number of times lifecycle sleep handler got terminated before it finishes",
    }),
  };
}

export const PROBE_TOTAL = "prober_probe_total";
export const PROBE_DURATION_SECONDS = "prober_probe_duration_seconds";

export type ProbeTotalLabels = "probe_type" | "result" | "container" | "pod" | "namespace" | "pod_uid";
export type ProbeDurationLabels = "probe_type" | "container" | "pod" | "namespace";

/** The kubelet's prober metrics (pkg/kubelet/prober/prober_manager.go). */
export interface ProberMetrics {
  /** `prober_probe_total{probe_type,result,container,pod,namespace,pod_uid}`; result successful, failed or unknown. */
  probeTotal: Counter<ProbeTotalLabels>;
  /** `prober_probe_duration_seconds{probe_type,container,pod,namespace}`: successful (or unknown) probes only. */
  probeDuration: Histogram<ProbeDurationLabels>;
}

/** Returns the prober metrics registered in `registry`, registering each on first use. */
export function proberMetrics(registry: Registry): ProberMetrics {
  return {
    // The kubelet's help texts; prom-client's default buckets are Prometheus' (the kubelet's).
    probeTotal: registerMetric(registry, Counter, {
      name: PROBE_TOTAL,
      help: "Cumulative number of a liveness, readiness or startup probe for a container by result.",
      labelNames: ["probe_type", "result", "container", "pod", "namespace", "pod_uid"],
    }),
    probeDuration: registerMetric(registry, Histogram, {
      name: PROBE_DURATION_SECONDS,
      help: "Duration in seconds for a probe response.",
      labelNames: ["probe_type", "container", "pod", "namespace"],
    }),
  };
}
