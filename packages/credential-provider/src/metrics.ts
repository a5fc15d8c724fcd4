import { Counter, Histogram, type Registry } from "prom-client";

/** The kubelet's credential-provider plugin metrics (the doubled `kubelet_kubelet_` is its real name). */
export interface CredentialProviderMetrics {
  errors: Counter<"plugin_name">;
  duration: Histogram<"plugin_name">;
}

export const PLUGIN_ERRORS_METRIC = "kubelet_kubelet_credential_provider_plugin_errors";
export const PLUGIN_DURATION_METRIC = "kubelet_kubelet_credential_provider_plugin_duration";

/** Returns the metrics registered in `registry`, registering them on first use. */
export function credentialProviderMetrics(registry: Registry): CredentialProviderMetrics {
  const errors =
    (registry.getSingleMetric(PLUGIN_ERRORS_METRIC) as Counter<"plugin_name"> | undefined) ??
    new Counter({
      name: PLUGIN_ERRORS_METRIC,
      help: "Number of errors from credential provider plugin",
      labelNames: ["plugin_name"],
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric(PLUGIN_DURATION_METRIC) as Histogram<"plugin_name"> | undefined) ??
    new Histogram({
      name: PLUGIN_DURATION_METRIC,
      help: "Duration of execution in seconds for credential provider plugin",
      labelNames: ["plugin_name"],
      // Prometheus' default buckets, as the kubelet's metrics.DefBuckets.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  return { errors, duration };
}
