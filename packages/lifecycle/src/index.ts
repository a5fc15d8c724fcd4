export { MAX_GRPC_HEALTH_RESPONSE_BYTES } from "./grpc-health.js";
export type { HandlerRunnerOptions } from "./handler-runner.js";
export { createHandlerRunner, MAX_HOOK_RESPONSE_BODY_BYTES } from "./handler-runner.js";
export type { HTTPGetTarget, ResolveHTTPGetTargetOptions } from "./http-target.js";
export {
  DEFAULT_KUBELET_VERSION,
  lifecycleUserAgent,
  probeUserAgent,
  resolveHTTPGetTarget,
} from "./http-target.js";
export type {
  LifecycleHandlerMetrics,
  ProbeDurationLabels,
  ProberMetrics,
  ProbeTotalLabels,
} from "./metrics.js";
export {
  HTTP_FALLBACKS_TOTAL,
  lifecycleHandlerMetrics,
  PROBE_DURATION_SECONDS,
  PROBE_TOTAL,
  proberMetrics,
  SLEEP_TERMINATED_TOTAL,
} from "./metrics.js";
export type {
  ContainerProbeStatus,
  ContainerRunState,
  ProbeManager,
  ProbeManagerOptions,
  ProbeResultChange,
} from "./probe-manager.js";
export { createProbeManager } from "./probe-manager.js";
export type { ProbeOutcome, Prober, ProberOptions, ProbeStatus, ProbeType } from "./prober.js";
export {
  createProber,
  MAX_PROBE_OUTPUT_BYTES,
  MAX_PROBE_RETRIES,
  PROBE_DEFAULTS,
  probeTypeName,
} from "./prober.js";
