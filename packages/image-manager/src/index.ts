export { PULL_QPS_EXCEEDED } from "./errors.js";
export type { FsStats, FsStatsReader } from "./fs-stats.js";
export { statfsStats } from "./fs-stats.js";
export type {
  ImageGCFailure,
  ImageGCManager,
  ImageGCManagerOptions,
  ImageGCPolicy,
  ImageGCReason,
  ImageGCResult,
  ImageRecord,
  NodeEventRecorder,
  RemovedImage,
} from "./image-gc.js";
export {
  createImageGCManager,
  DEFAULT_IMAGE_GC_POLICY,
  ImageGCError,
  validateImageGCPolicy,
} from "./image-gc.js";
export type { ContainerObjectRef, ImageManagerOptions, NodeletImageManager } from "./image-manager.js";
export { createImageManager } from "./image-manager.js";
export type { LimitedPullerOptions } from "./limited-puller.js";
export {
  createLimitedPuller,
  createParallelPuller,
  createSerialPuller,
  createSingleFlightPuller,
  createThrottledPuller,
} from "./limited-puller.js";
export type { PullLimitOptions, ResolvedPullLimits } from "./limits.js";
export { DEFAULT_REGISTRY_BURST, DEFAULT_REGISTRY_PULL_QPS, resolvePullLimits } from "./limits.js";
export {
  IMAGE_GARBAGE_COLLECTED_TOTAL,
  IMAGE_PULL_DURATION_BUCKETS,
  IMAGE_PULL_DURATION_SECONDS,
  imageSizeBucket,
} from "./metrics.js";
export { defaultPullPolicy, shouldPullImage } from "./pull-policy.js";
export type { RemotePullerOptions } from "./remote-puller.js";
export { createRemotePuller, DEFAULT_PROGRESS_INTERVAL_MS } from "./remote-puller.js";
