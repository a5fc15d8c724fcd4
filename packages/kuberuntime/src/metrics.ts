import { registerOnce } from "@nodelet/runtime-api";
import { Counter, exponentialBuckets, Histogram, type Registry } from "prom-client";

/** The kubelet's pod and container start metrics (names as the kubelet exports them). */
export interface StartMetrics {
  startedPods: Counter;
  startedPodsErrors: Counter;
  startedContainers: Counter<"container_type">;
  startedContainersErrors: Counter<"container_type" | "code">;
  runPodSandboxDuration: Histogram<"runtime_handler">;
  runPodSandboxErrors: Counter<"runtime_handler">;
}

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  return registerOnce(registry, name, () => new Counter({ name, help, labelNames, registers: [registry] }));
}

export function startMetrics(registry: Registry): StartMetrics {
  const durationName = "kubelet_run_podsandbox_duration_seconds";
  const duration = registerOnce(
    registry,
    durationName,
    () =>
      new Histogram({
        name: durationName,
        help: "Duration in seconds of the run_podsandbox operations. Broken down by RuntimeClass.Handler.",
        labelNames: ["runtime_handler"],
        buckets: exponentialBuckets(0.005, 2.5, 14),
        registers: [registry],
      }),
  );
  return {
    startedPods: counter(registry, "kubelet_started_pods_total", "Cumulative number of pods started", []),
    startedPodsErrors: counter(
      registry,
      "kubelet_started_pods_errors_total",
      "Cumulative number of errors when starting pods",
      [],
    ),
    startedContainers: counter(
      registry,
      "kubelet_started_containers_total",
      "Cumulative number of containers started",
      ["container_type"],
    ),
    startedContainersErrors: counter(
      registry,
      "kubelet_started_containers_errors_total",
      "Cumulative number of errors when starting containers",
      ["container_type", "code"],
    ),
    runPodSandboxDuration: duration,
    runPodSandboxErrors: counter(
      registry,
      "kubelet_run_podsandbox_errors_total",
      "Cumulative number of the run_podsandbox operation errors by RuntimeClass.Handler.",
      ["runtime_handler"],
    ),
  };
}
