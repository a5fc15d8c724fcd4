export type { GenerateContainerConfigArgs } from "./container-config.js";
export { generateContainerConfig } from "./container-config.js";
export { hashContainer } from "./container-hash.js";
export { MINIMUM_GRACE_PERIOD_SECONDS, terminationGracePeriod } from "./container-kill.js";
export { logContainerId } from "./container-logs.js";
export { restartCountFromLogDir } from "./container-start.js";
export { type ContainerGCSettings, isManagedByNodelet } from "./gc.js";
export type { AnnotatedContainerInfo, LabeledContainerInfo } from "./labels.js";
export {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_CONTAINER_PORTS,
  ANNOTATION_CONTAINER_PRESTOP_HANDLER,
  ANNOTATION_CONTAINER_RESTART_COUNT,
  ANNOTATION_CONTAINER_TERMINATION_MESSAGE_PATH,
  ANNOTATION_CONTAINER_TERMINATION_MESSAGE_POLICY,
  ANNOTATION_CONTAINER_TYPE,
  ANNOTATION_POD_DELETION_GRACE_PERIOD,
  ANNOTATION_POD_TERMINATION_GRACE_PERIOD,
  getContainerInfoFromAnnotations,
  getContainerInfoFromLabels,
  LABEL_CONTAINER_NAME,
  LABEL_MANAGED_BY,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  MANAGED_BY_NODELET,
} from "./labels.js";
export type { KubeGenericRuntimeManager } from "./manager.js";
export { createKubeGenericRuntimeManager } from "./manager.js";
export type { HostMounterOptions, Mounter, MountPoint, RunCommand } from "./mounter.js";
export { createHostMounter } from "./mounter.js";
export type {
  ContainerKillReason,
  ContainerToKill,
  PodActions,
} from "./pod-actions.js";
export { computePodActions, noProbeResults, podSandboxChanged } from "./pod-actions.js";
export { milliCPUToQuota, milliCPUToShares, oomScoreAdjust } from "./resources.js";
export { determinePodSandboxIPs } from "./runtime-status.js";
export type { SandboxConfigOptions } from "./sandbox-config.js";
export { buildPodLogsDirectory, generatePodSandboxConfig } from "./sandbox-config.js";
export type { KubeGenericRuntimeManagerOptions, NodeAllocatable } from "./setup.js";
