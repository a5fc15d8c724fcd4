export type { Backoff, BackoffOptions } from "./backoff.js";
export { createBackoff, formatGoDuration, KUBELET_BACKOFF } from "./backoff.js";
export type { Clock, ManualClock, Timer } from "./clock.js";
export { createManualClock, systemClock } from "./clock.js";
export type {
  CommandRunner,
  ContainerLogManager,
  DockerKeyring,
  EventRecorder,
  EventType,
  HandlerRunner,
  ImageManager,
  ImagePuller,
  ImagePullProgress,
  ImagePullRequest,
  ImagePullResult,
  ImageService,
  KubeGenericRuntime,
  ProbeResult,
  ProbeResults,
  Runtime,
  RuntimeClassResolver,
  SignalOptions,
  StartedContainerLog,
  StreamingRuntime,
} from "./contracts.js";
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
export { CRI_API_VERSION, CRI_VERSION } from "./cri-version.js";
export { errnoCode, errorChain, errorChainMessage, errorMessage } from "./error-helpers.js";
export type {
  DeclaredErrorDetails,
  NodeletErrorDetails,
  NodeletErrorOptions,
  RuntimeVersionAnswer,
} from "./errors.js";
export {
  assertSupportedRuntimeVersion,
  CommandExitError,
  ErrorCode,
  isErrorCode,
  isNodeletError,
  isRegistryUnauthorized,
  NodeletError,
  UnsupportedRuntimeApiVersionError,
} from "./errors.js";
export { expandVariableReferences } from "./expansion.js";
export type {
  ContainerGCRuntime,
  GCContainer,
  GCSandbox,
  PodStateProvider,
} from "./gc-contracts.js";
export { parseGoDuration, parseGoDurationNanos } from "./go-duration.js";
export type { ImageReference } from "./image-reference.js";
export {
  applyDefaultImageTag,
  DEFAULT_IMAGE_TAG,
  DOCKER_HUB_ALIASES,
  DOCKER_HUB_REGISTRY,
  isDockerHubImage,
  normalizeImage,
  parseImageReference,
  registryOf,
  repositoryToPull,
  stripTagAndDigest,
} from "./image-reference.js";
export type {
  V1Capabilities,
  V1Container,
  V1ContainerPort,
  V1ContainerState,
  V1ContainerStateRunning,
  V1ContainerStateTerminated,
  V1ContainerStateWaiting,
  V1ContainerStatus,
  V1DNSPolicy,
  V1EmptyDirVolumeSource,
  V1EnvVar,
  V1EnvVarSource,
  V1ExecAction,
  V1GRPCAction,
  V1HostAlias,
  V1HostPathVolumeSource,
  V1HTTPGetAction,
  V1HTTPHeader,
  V1Lifecycle,
  V1LifecycleHandler,
  V1LocalObjectReference,
  V1ObjectFieldSelector,
  V1ObjectMeta,
  V1Pod,
  V1PodCondition,
  V1PodDNSConfig,
  V1PodLogOptions,
  V1PodPhase,
  V1PodSecurityContext,
  V1PodSpec,
  V1PodStatus,
  V1Probe,
  V1Protocol,
  V1PullPolicy,
  V1Quantity,
  V1ResourceFieldSelector,
  V1ResourceRequirements,
  V1RestartPolicy,
  V1SELinuxOptions,
  V1SeccompProfile,
  V1Secret,
  V1SecurityContext,
  V1SleepAction,
  V1TCPSocketAction,
  V1TerminationMessagePolicy,
  V1Volume,
  V1VolumeMount,
} from "./k8s-types.js";
export type { LogFn, Logger } from "./logger.js";
export { noopLogger } from "./logger.js";
export type { MetricRegistry } from "./metrics.js";
export {
  DEFAULT_METRIC_BUCKETS,
  exponentialBuckets,
  OPERATION_DURATION_BUCKETS,
  registerMetric,
  registerOnce,
} from "./metrics.js";
export type { MountInfoEntry } from "./mount-info.js";
export { isPathAtOrUnder, parseMountInfo } from "./mount-info.js";
export type { ObjectReference } from "./object-reference.js";
export {
  containerFieldPath,
  containerObjectReference,
  containerTypeOf,
  podObjectReference,
} from "./object-reference.js";
export {
  buildPodFullName,
  DEFAULT_NAMESPACE,
  formatPod,
  getPodFullName,
  hasAnyRegularContainerCreated,
  hasRestartableInitContainer,
  isContainerRestartable,
  isInitContainer,
  isRestartableInitContainer,
  parsePodFullName,
  podNamespace,
  shouldContainerBeRestarted,
  shouldRestartOnFailure,
} from "./pod-helpers.js";
export {
  encodeLengthDelimited,
  encodeVarint,
  fieldTag,
  ProtoWireReader,
  WireType,
} from "./proto-wire.js";
export type { PodQOSClass } from "./qos.js";
export { effectiveRequests, getPodQOS } from "./qos.js";
export { isQuantity, parseQuantity, quantityToInt, quantityToMilli } from "./quantity.js";
export type {
  ReadFs,
  ReadRegularFileOptions,
  RegularFile,
  RegularFileProblem,
} from "./regular-file.js";
export {
  DEFAULT_MAX_FILE_BYTES,
  decodeUtf8,
  formatBytes,
  nodeReadFs,
  RegularFileError,
  readRegularFile,
  readRegularFileText,
} from "./regular-file.js";
export type {
  Container,
  ContainerID,
  ContainerStateName,
  ContainerStatus,
  ContainerType,
  GCPolicy,
  Image,
  ImageSpec,
  ImageStats,
  Pod,
  PodStatus,
  RegistryAuth,
  RuntimeCondition,
  RuntimeStatus,
  SandboxStatus,
  SyncAction,
  SyncResult,
} from "./runtime-types.js";
export {
  findContainerStatusByName,
  formatContainerID,
  PodSyncResult,
  parseContainerID,
  runtimeCondition,
  sandboxStateName,
  Version,
} from "./runtime-types.js";
export { dateToNanos, millisToNanos, nanosToDate, nanosToMillis } from "./time.js";
export { isRecord } from "./validation/checker.js";
export type { FieldError } from "./validation/index.js";
export { collectPodErrors, validatePod } from "./validation/index.js";
