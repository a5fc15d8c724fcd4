import { OPERATION_DURATION_BUCKETS, registerMetric } from "@nodelet/runtime-api";
import { Counter, Histogram, type Registry } from "prom-client";

/** The kubelet's pod and container start metrics (names as the kubelet exports them). */
export interface StartMetrics {
  startedPods: Counter;
  startedPodsErrors: Counter;
  startedContainers: Counter<"container_type">;
  startedContainersErrors: Counter<"container_type" | "code">;
  runPodSandboxDuration: Histogram<"runtime_handler">;
  runPodSandboxErrors: Counter<"runtime_handler">;
}

export function startMetrics(registry: Registry): StartMetrics {
  return {
    startedPods: registerMetric(registry, Counter, {
      name: "kubelet_started_pods_total",
      help: "Cumulative number of pods started",
    }),
    startedPodsErrors: registerMetric(registry, Counter, {
      name: "kubelet_started_pods_errors_total",
      help: "Cumulative number of errors when starting pods",
    }),
    startedContainers: registerMetric(registry, Counter, {
      name: "kubelet_started_containers_total",
      help: "Cumulative number of containers started",
      labelNames: ["container_type"],
    }),
    startedContainersErrors: registerMetric(registry, Counter, {
      name: "kubelet_started_containers_errors_total",
      help: "Cumulative number of errors when starting containers",
      labelNames: ["container_type", "code"],
    }),
    runPodSandboxDuration: registerMetric(registry, Histogram, {
      name: "kubelet_run_podsandbox_duration_seconds",
      help: "Duration in seconds of the run_podsandbox operations. Broken down by RuntimeClass.Handler.",
      labelNames: ["runtime_handler"],
      buckets: [...OPERATION_DURATION_BUCKETS],
    }),
    runPodSandboxErrors: registerMetric(registry, Counter, {
      name: "kubelet_run_podsandbox_errors_total",
      help: "Cumulative number of the run_podsandbox operation errors by RuntimeClass.Handler.",
      labelNames: ["runtime_handler"],
    }),
  };
}
