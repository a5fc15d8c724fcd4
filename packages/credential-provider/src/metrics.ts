import { DEFAULT_METRIC_BUCKETS, registerMetric } from "@nodelet/runtime-api";
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
  return {
    errors: registerMetric(registry, Counter, {
      name: PLUGIN_ERRORS_METRIC,
      help: "Number of errors from credential provider plugin",
      labelNames: ["plugin_name"],
    }),
    duration: registerMetric(registry, Histogram, {
      name: PLUGIN_DURATION_METRIC,
      help: "Duration of execution in seconds for credential provider plugin",
      labelNames: ["plugin_name"],
      buckets: [...DEFAULT_METRIC_BUCKETS],
    }),
  };
}
