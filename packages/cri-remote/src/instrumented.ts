import {
  type ImageManagerService,
  OPERATION_DURATION_BUCKETS,
  type RuntimeService,
  registerMetric,
} from "@nodelet/runtime-api";
import { Counter, Histogram, type Registry } from "prom-client";

/** The kubelet's runtime-operation metrics, created once per registry. */
export interface RuntimeOperationMetrics {
  operations: Counter<"operation_type">;
  duration: Histogram<"operation_type">;
  errors: Counter<"operation_type">;
}

export interface InstrumentOptions {
  /** Where the metrics are registered; the caller exposes it (e.g. on /metrics). */
  registry: Registry;
}

const OPERATIONS_TOTAL = "kubelet_runtime_operations_total";
const DURATION_SECONDS = "kubelet_runtime_operations_duration_seconds";
const ERRORS_TOTAL = "kubelet_runtime_operations_errors_total";

/** Returns the metrics registered in `registry`, registering them on first use. */
export function runtimeOperationMetrics(registry: Registry): RuntimeOperationMetrics {
  return {
    operations: registerMetric(registry, Counter, {
      name: OPERATIONS_TOTAL,
      help: "Cumulative number of runtime operations by operation type.",
      labelNames: ["operation_type"],
    }),
    duration: registerMetric(registry, Histogram, {
      name: DURATION_SECONDS,
      help: "Duration in seconds of runtime operations. Broken down by operation type.",
      labelNames: ["operation_type"],
      buckets: [...OPERATION_DURATION_BUCKETS],
    }),
    errors: registerMetric(registry, Counter, {
      name: ERRORS_TOTAL,
      help: "Cumulative number of runtime operation errors by operation type.",
      labelNames: ["operation_type"],
    }),
  };
}

type Methods<T> = Exclude<keyof T, "close">;

// The kubelet's operation_type values; the stream RPCs and the newest pod RPCs, which the kubelet
// does not instrument, get names in the same style.
const runtimeOperations: Record<Methods<RuntimeService>, string> = {
  version: "version",
  status: "status",
  runPodSandbox: "run_podsandbox",
  stopPodSandbox: "stop_podsandbox",
  removePodSandbox: "remove_podsandbox",
  podSandboxStatus: "podsandbox_status",
  listPodSandbox: "list_podsandbox",
  streamPodSandboxes: "stream_podsandboxes",
  createContainer: "create_container",
  startContainer: "start_container",
  stopContainer: "stop_container",
  removeContainer: "remove_container",
  listContainers: "list_containers",
  streamContainers: "stream_containers",
  containerStatus: "container_status",
  updateContainerResources: "update_container",
  reopenContainerLog: "reopen_container_log",
  execSync: "exec_sync",
  exec: "exec",
  attach: "attach",
  portForward: "port_forward",
  updateRuntimeConfig: "update_runtime_config",
  containerStats: "container_stats",
  listContainerStats: "list_container_stats",
  streamContainerStats: "stream_container_stats",
  podSandboxStats: "podsandbox_stats",
  listPodSandboxStats: "list_podsandbox_stats",
  streamPodSandboxStats: "stream_podsandbox_stats",
  checkpointContainer: "checkpoint_container",
  checkpointPod: "checkpoint_pod",
  restorePod: "restore_pod",
  getContainerEvents: "get_container_events",
  listMetricDescriptors: "list_metric_descriptors",
  listPodSandboxMetrics: "list_podsandbox_metrics",
  streamPodSandboxMetrics: "stream_podsandbox_metrics",
  runtimeConfig: "runtime_config",
  updatePodSandboxResources: "update_podsandbox_resources",
};

const imageOperations: Record<Methods<ImageManagerService>, string> = {
  listImages: "list_images",
  streamImages: "stream_images",
  imageStatus: "image_status",
  pullImage: "pull_image",
  removeImage: "remove_image",
  imageFsInfo: "image_fs_info",
};

const streamingMethods = new Set<string>([
  "streamPodSandboxes",
  "streamContainers",
  "streamContainerStats",
  "streamPodSandboxStats",
  "streamPodSandboxMetrics",
  "getContainerEvents",
  "streamImages",
]);

/** Wraps a RuntimeService so every call is counted, timed and its failures counted. */
export function instrumentRuntimeService(
  service: RuntimeService,
  options: InstrumentOptions,
): RuntimeService {
  return instrument(service, runtimeOperations, runtimeOperationMetrics(options.registry));
}

/** Wraps an ImageManagerService so every call is counted, timed and its failures counted. */
export function instrumentImageService(
  service: ImageManagerService,
  options: InstrumentOptions,
): ImageManagerService {
  return instrument(service, imageOperations, runtimeOperationMetrics(options.registry));
}

type AnyFn = (...args: unknown[]) => unknown;

function instrument<T extends { close(): void }>(
  service: T,
  operations: Record<Methods<T>, string>,
  metrics: RuntimeOperationMetrics,
): T {
  const target = service as unknown as Record<string, AnyFn>;
  const wrapped: Record<string, AnyFn> = { close: () => service.close() };
  for (const [method, op] of Object.entries(operations) as [string, string][]) {
    const call = (...args: unknown[]) => target[method]?.apply(service, args);
    wrapped[method] = streamingMethods.has(method)
      ? (...args) => observeStream(op, metrics, call(...args) as AsyncIterable<unknown>)
      : (...args) => observeCall(op, metrics, () => call(...args) as Promise<unknown>);
  }
  return wrapped as unknown as T;
}

async function observeCall<R>(op: string, m: RuntimeOperationMetrics, run: () => Promise<R>): Promise<R> {
  m.operations.inc({ operation_type: op });
  const stop = m.duration.startTimer({ operation_type: op });
  try {
    return await run();
  } catch (err) {
    m.errors.inc({ operation_type: op });
    throw err;
  } finally {
    stop();
  }
}

/** A stream is one operation, timed from open to its end; an error while reading counts as its error. */
async function* observeStream<R>(
  op: string,
  m: RuntimeOperationMetrics,
  source: AsyncIterable<R>,
): AsyncGenerator<R> {
  m.operations.inc({ operation_type: op });
  const stop = m.duration.startTimer({ operation_type: op });
  try {
    yield* source;
  } catch (err) {
    m.errors.inc({ operation_type: op });
    throw err;
  } finally {
    stop();
  }
}
