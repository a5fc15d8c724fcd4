export type { ContainerGC, ContainerGCOptions, GCPassResult } from "./collector.js";
export { createContainerGC } from "./collector.js";
export type { ContainerEviction } from "./evict.js";
export { evictableContainers, selectContainers, selectSandboxes } from "./evict.js";
export type { FailureLog } from "./failures.js";
export { createFailureLog } from "./failures.js";
export {
  containerIdFromLegacySymlink,
  MountedError,
  podUidFromLogDirectory,
  removeTree,
} from "./log-dirs.js";
export type { GCMetrics, GCObject } from "./metrics.js";
export { containerGCMetrics, GC_METRIC_NAMES } from "./metrics.js";
export { DEFAULT_GC_POLICY, validateGCPolicy } from "./policy.js";
