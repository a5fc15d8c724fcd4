import { Counter, type Registry } from "prom-client";

/** The kubelet's lifecycle-handler metrics. */
export interface LifecycleHandlerMetrics {
  /** `kubelet_lifecycle_handler_http_fallbacks_total`: HTTPS hooks that succeeded over HTTP. */
  httpFallbacks: Counter;
  /** `kubelet_lifecycle_handler_sleep_terminated_total`: sleep hooks cut short. */
  sleepTerminated: Counter;
}

export const HTTP_FALLBACKS_TOTAL = "kubelet_lifecycle_handler_http_fallbacks_total";
export const SLEEP_TERMINATED_TOTAL = "kubelet_lifecycle_handler_sleep_terminated_total";

function counter(registry: Registry, name: string, help: string): Counter {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, registers: [registry] });
}

/** Returns the metrics registered in `registry`, registering each on first use. */
export function lifecycleHandlerMetrics(registry: Registry): LifecycleHandlerMetrics {
  return {
    // The kubelet's help texts.
    httpFallbacks: counter(
      registry,
      HTTP_FALLBACKS_TOTAL,
      "The number of times lifecycle handlers successfully fell back to http from https.",
    ),
    sleepTerminated: counter(
      registry,
      SLEEP_TERMINATED_TOTAL,
      "The number of times lifecycle sleep handler got terminated before it finishes",
    ),
  };
}
