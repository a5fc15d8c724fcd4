// The node agent's own metrics, with the kubelet's names, label names and help texts
// (pkg/kubelet/metrics/metrics.go). The CRI operation metrics and kubelet_started_* are registered
// by @nodelet/cri-remote and @nodelet/kuberuntime into the same registry.
import {
  type ContainerStateName,
  DEFAULT_METRIC_BUCKETS,
  type Pod,
  registerMetric,
} from "@nodelet/runtime-api";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export type PodWorkerOperation = "create" | "update" | "sync" | "kill";

export interface AgentMetrics {
  /** `kubelet_pod_start_duration_seconds`: from the agent first seeing a pod to all its containers running. */
  podStartDuration: Histogram;
  /** `kubelet_pod_worker_duration_seconds{operation_type}`: one sync of one pod. */
  podWorkerDuration: Histogram<"operation_type">;
  /** `kubelet_pod_worker_start_duration_seconds`: from seeing a pod to its worker starting. */
  podWorkerStartDuration: Histogram;
  /** `kubelet_pleg_relist_duration_seconds`. */
  plegRelistDuration: Histogram;
  /** `kubelet_pleg_relist_interval_seconds`: between the starts of two relists. */
  plegRelistInterval: Histogram;
  /** `kubelet_pleg_last_seen_seconds`: unix time of the last relist. */
  plegLastSeen: Gauge;
  /** `kubelet_running_pods`: pods with a running sandbox. */
  runningPods: Gauge;
  /** `kubelet_running_containers{container_state}`. */
  runningContainers: Gauge<"container_state">;
  /** `kubelet_desired_pods{static}`: pods the sources ask for. */
  desiredPods: Gauge<"static">;
  /** `kubelet_restarted_pods_total{static}`: pods recreated with the same UID. */
  restartedPods: Counter<"static">;
  /** `kubelet_orphaned_runtime_pods_total`: runtime pods no source describes. */
  orphanedRuntimePods: Counter;
  /** Records one sync of a pod worker, in seconds. */
  observePodWorker(operation: PodWorkerOperation, seconds: number): void;
  /** Sets kubelet_running_pods and kubelet_running_containers from a runtime listing (getPods(all)). */
  updateRunning(pods: readonly Pod[]): void;
}

/** The metric names createAgentMetrics registers. */
export const AGENT_METRIC_NAMES = [
  "kubelet_pod_start_duration_seconds",
  "kubelet_pod_worker_duration_seconds",
  "kubelet_pod_worker_start_duration_seconds",
  "kubelet_pleg_relist_duration_seconds",
  "kubelet_pleg_relist_interval_seconds",
  "kubelet_pleg_last_seen_seconds",
  "kubelet_running_pods",
  "kubelet_running_containers",
  "kubelet_desired_pods",
  "kubelet_restarted_pods_total",
  "kubelet_orphaned_runtime_pods_total",
] as const;

/** The kubelet's pod start buckets, 0.5 s to 1 h. */
export const POD_START_BUCKETS: readonly number[] = [
  0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700,
  3600,
];

const CONTAINER_STATES: readonly ContainerStateName[] = ["created", "running", "exited", "unknown"];

/**
 * Counts a runtime listing as the kubelet's PLEG does: a pod is running when one of its sandboxes
 * is running (a container alone does not make a running pod); containers are counted by state.
 */
export function countRunning(pods: readonly Pod[]): {
  runningPods: number;
  containers: Record<ContainerStateName, number>;
} {
  const containers: Record<ContainerStateName, number> = { created: 0, running: 0, exited: 0, unknown: 0 };
  let runningPods = 0;
  for (const pod of pods) {
    for (const container of pod.containers) containers[container.state]++;
    if (pod.sandboxes.some((s) => s.state === "running")) runningPods++;
  }
  return { runningPods, containers };
}

/** Registers the agent's metrics in `registry`, or returns those already registered there. */
export function createAgentMetrics(registry: Registry): AgentMetrics {
  // The kubelet uses Prometheus' default buckets (metrics.DefBuckets) for workers and PLEG.
  const defaultBuckets = () => [...DEFAULT_METRIC_BUCKETS];
  const podWorkerDuration: Histogram<"operation_type"> = registerMetric(registry, Histogram, {
    name: "kubelet_pod_worker_duration_seconds",
    help: "Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync",
    labelNames: ["operation_type"],
    buckets: defaultBuckets(),
  });
  const runningPods: Gauge = registerMetric(registry, Gauge, {
    name: "kubelet_running_pods",
    help: "Number of pods that have a running pod sandbox",
  });
  const runningContainers: Gauge<"container_state"> = registerMetric(registry, Gauge, {
    name: "kubelet_running_containers",
    help: "Number of containers currently running",
    labelNames: ["container_state"],
  });
  return {
    podStartDuration: registerMetric(registry, Histogram, {
      name: "kubelet_pod_start_duration_seconds",
      help: "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
      buckets: [...POD_START_BUCKETS],
    }),
    podWorkerDuration,
    podWorkerStartDuration: registerMetric(registry, Histogram, {
      name: "kubelet_pod_worker_start_duration_seconds",
      help: "Duration in seconds from kubelet seeing a pod to starting a worker.",
      buckets: defaultBuckets(),
    }),
    plegRelistDuration: registerMetric(registry, Histogram, {
      name: "kubelet_pleg_relist_duration_seconds",
      help: "Duration in seconds for relisting pods in PLEG.",
      buckets: defaultBuckets(),
    }),
    plegRelistInterval: registerMetric(registry, Histogram, {
      name: "kubelet_pleg_relist_interval_seconds",
      help: "Interval in seconds between relisting in PLEG.",
      buckets: defaultBuckets(),
    }),
    plegLastSeen: registerMetric(registry, Gauge, {
      name: "kubelet_pleg_last_seen_seconds",
      help: "Timestamp in seconds when PLEG was last seen active.",
    }),
    runningPods,
    runningContainers,
    desiredPods: registerMetric(registry, Gauge, {
      name: "kubelet_desired_pods",
      help: "The number of pods the kubelet is being instructed to run. static is true if the pod is not from the apiserver.",
      labelNames: ["static"],
    }),
    restartedPods: registerMetric(registry, Counter, {
      name: "kubelet_restarted_pods_total",
      help: "Number of pods that have been restarted because they were deleted and recreated with the same UID while the kubelet was watching them (common for static pods, extremely uncommon for API pods)",
      labelNames: ["static"],
    }),
    orphanedRuntimePods: registerMetric(registry, Counter, {
      name: "kubelet_orphaned_runtime_pods_total",
      help: "Number of pods that have been detected in the container runtime without being already known to the pod worker. This typically indicates the kubelet was restarted while a pod was force deleted in the API or in the local configuration, which is unusual.",
    }),
    observePodWorker(operation, seconds) {
      podWorkerDuration.observe({ operation_type: operation }, seconds);
    },
    updateRunning(pods) {
      const counts = countRunning(pods);
      runningPods.set(counts.runningPods);
      // Every state is set, so a state that drops to none reads 0 rather than its last count.
      for (const state of CONTAINER_STATES) {
        runningContainers.set({ container_state: state }, counts.containers[state]);
      }
    },
  };
}
