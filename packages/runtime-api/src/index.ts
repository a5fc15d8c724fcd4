export type {
  CallOptions,
  ContainerManager,
  ContainerResourcesUpdate,
  ContainerStatsManager,
  ExecSyncResult,
  ImageManagerService,
  PodSandboxManager,
  RuntimeService,
  RuntimeVersioner,
} from "./cri-service.js";
export type { NodeletErrorOptions } from "./errors.js";
export {
  CommandExitError,
  ErrorCode,
  isErrorCode,
  isNodeletError,
  NodeletError,
  UnsupportedRuntimeApiVersionError,
} from "./errors.js";
export { dateToNanos, millisToNanos, nanosToDate, nanosToMillis } from "./time.js";
