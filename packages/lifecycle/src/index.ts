export type { HandlerRunnerOptions, SleepFunction } from "./handler-runner.js";
export { createHandlerRunner, MAX_HOOK_RESPONSE_BODY_BYTES } from "./handler-runner.js";
export type { HTTPGetTarget, ResolveHTTPGetTargetOptions } from "./http-target.js";
export { DEFAULT_KUBELET_VERSION, lifecycleUserAgent, resolveHTTPGetTarget } from "./http-target.js";
export type { LifecycleHandlerMetrics } from "./metrics.js";
export { HTTP_FALLBACKS_TOTAL, lifecycleHandlerMetrics, SLEEP_TERMINATED_TOTAL } from "./metrics.js";
