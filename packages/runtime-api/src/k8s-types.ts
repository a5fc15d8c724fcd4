// The Kubernetes v1 Pod, in its JSON shape (camelCase), limited to what the runtime reads.
// Field names and meanings are Kubernetes'; optional where the API server would default them.

export interface V1ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  generation?: number;
  resourceVersion?: string;
}

export type V1RestartPolicy = "Always" | "OnFailure" | "Never";
export type V1PullPolicy = "Always" | "IfNotPresent" | "Never";
export type V1DNSPolicy = "ClusterFirst" | "ClusterFirstWithHostNet" | "Default" | "None";
export type V1TerminationMessagePolicy = "File" | "FallbackToLogsOnError";
export type V1Protocol = "TCP" | "UDP" | "SCTP";

/** Kubernetes quantities keep their string form ("500m", "64Mi"); parse with parseQuantity. */
export type V1Quantity = string | number;

export interface V1ResourceRequirements {
  limits?: Record<string, V1Quantity>;
  requests?: Record<string, V1Quantity>;
}

export interface V1ObjectFieldSelector {
  apiVersion?: string;
  fieldPath: string;
}

export interface V1ResourceFieldSelector {
  containerName?: string;
  resource: string;
  divisor?: V1Quantity;
}

export interface V1EnvVarSource {
  fieldRef?: V1ObjectFieldSelector;
  resourceFieldRef?: V1ResourceFieldSelector;
  configMapKeyRef?: { name: string; key: string; optional?: boolean };
  secretKeyRef?: { name: string; key: string; optional?: boolean };
}

export interface V1EnvVar {
  name: string;
  value?: string;
  valueFrom?: V1EnvVarSource;
}

export interface V1ContainerPort {
  name?: string;
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: V1Protocol;
}

export interface V1VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
  mountPropagation?: "None" | "HostToContainer" | "Bidirectional";
}

export interface V1ExecAction {
  command?: string[];
}

export interface V1HTTPHeader {
  name: string;
  value: string;
}

export interface V1HTTPGetAction {
  path?: string;
  port: number | string;
  host?: string;
  scheme?: "HTTP" | "HTTPS";
  httpHeaders?: V1HTTPHeader[];
}

export interface V1TCPSocketAction {
  port: number | string;
  host?: string;
}

export interface V1GRPCAction {
  port: number;
  service?: string;
}

export interface V1SleepAction {
  seconds: number;
}

export interface V1LifecycleHandler {
  exec?: V1ExecAction;
  httpGet?: V1HTTPGetAction;
  tcpSocket?: V1TCPSocketAction;
  sleep?: V1SleepAction;
}

export interface V1Lifecycle {
  postStart?: V1LifecycleHandler;
  preStop?: V1LifecycleHandler;
}

export interface V1Probe {
  exec?: V1ExecAction;
  httpGet?: V1HTTPGetAction;
  tcpSocket?: V1TCPSocketAction;
  grpc?: V1GRPCAction;
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  terminationGracePeriodSeconds?: number;
}

export interface V1Capabilities {
  add?: string[];
  drop?: string[];
}

export interface V1SeccompProfile {
  type: "RuntimeDefault" | "Unconfined" | "Localhost";
  localhostProfile?: string;
}

export interface V1SELinuxOptions {
  user?: string;
  role?: string;
  type?: string;
  level?: string;
}

export interface V1SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  privileged?: boolean;
  capabilities?: V1Capabilities;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  seccompProfile?: V1SeccompProfile;
  seLinuxOptions?: V1SELinuxOptions;
  procMount?: "Default" | "Unmasked";
}

export interface V1PodSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  supplementalGroups?: number[];
  fsGroup?: number;
  seccompProfile?: V1SeccompProfile;
  seLinuxOptions?: V1SELinuxOptions;
  sysctls?: { name: string; value: string }[];
}

export interface V1Container {
  name: string;
  image?: string;
  imagePullPolicy?: V1PullPolicy;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: V1EnvVar[];
  ports?: V1ContainerPort[];
  resources?: V1ResourceRequirements;
  volumeMounts?: V1VolumeMount[];
  lifecycle?: V1Lifecycle;
  livenessProbe?: V1Probe;
  readinessProbe?: V1Probe;
  startupProbe?: V1Probe;
  securityContext?: V1SecurityContext;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  terminationMessagePath?: string;
  terminationMessagePolicy?: V1TerminationMessagePolicy;
  /** Only on init containers: "Always" makes it a restartable sidecar. */
  restartPolicy?: "Always";
}

export interface V1EmptyDirVolumeSource {
  medium?: "" | "Memory";
  sizeLimit?: V1Quantity;
}

export interface V1HostPathVolumeSource {
  path: string;
  type?:
    | ""
    | "DirectoryOrCreate"
    | "Directory"
    | "FileOrCreate"
    | "File"
    | "Socket"
    | "CharDevice"
    | "BlockDevice";
}

export interface V1Volume {
  name: string;
  emptyDir?: V1EmptyDirVolumeSource;
  hostPath?: V1HostPathVolumeSource;
}

export interface V1PodDNSConfig {
  nameservers?: string[];
  searches?: string[];
  options?: { name: string; value?: string }[];
}

/** An extra line of the pod's managed /etc/hosts. */
export interface V1HostAlias {
  ip: string;
  hostnames?: string[];
}

export interface V1LocalObjectReference {
  name: string;
}

export interface V1PodSpec {
  containers: V1Container[];
  initContainers?: V1Container[];
  volumes?: V1Volume[];
  restartPolicy?: V1RestartPolicy;
  terminationGracePeriodSeconds?: number;
  activeDeadlineSeconds?: number;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  shareProcessNamespace?: boolean;
  securityContext?: V1PodSecurityContext;
  dnsPolicy?: V1DNSPolicy;
  dnsConfig?: V1PodDNSConfig;
  hostname?: string;
  subdomain?: string;
  hostAliases?: V1HostAlias[];
  setHostnameAsFQDN?: boolean;
  runtimeClassName?: string;
  imagePullSecrets?: V1LocalObjectReference[];
  nodeName?: string;
  serviceAccountName?: string;
  priority?: number;
  os?: { name: "linux" | "windows" };
}

export type V1PodPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";

export interface V1PodCondition {
  type: "PodReadyToStartContainers" | "Initialized" | "ContainersReady" | "Ready" | "PodScheduled";
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string | null;
}

export interface V1ContainerStateWaiting {
  reason?: string;
  message?: string;
}

export interface V1ContainerStateRunning {
  startedAt?: string;
}

export interface V1ContainerStateTerminated {
  exitCode: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
}

export interface V1ContainerState {
  waiting?: V1ContainerStateWaiting;
  running?: V1ContainerStateRunning;
  terminated?: V1ContainerStateTerminated;
}

export interface V1ContainerStatus {
  name: string;
  state?: V1ContainerState;
  lastState?: V1ContainerState;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
}

export interface V1PodStatus {
  phase?: V1PodPhase;
  conditions?: V1PodCondition[];
  message?: string;
  reason?: string;
  hostIP?: string;
  hostIPs?: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  initContainerStatuses?: V1ContainerStatus[];
  containerStatuses?: V1ContainerStatus[];
  qosClass?: "Guaranteed" | "Burstable" | "BestEffort";
}

/** A Kubernetes v1 Pod (the API object; the runtime's own view of a pod is `Pod`). */
export interface V1Pod {
  apiVersion?: "v1";
  kind?: "Pod";
  metadata: V1ObjectMeta;
  spec: V1PodSpec;
  status?: V1PodStatus;
}

/** The two Secret payloads image pull secrets come in. */
export interface V1Secret {
  metadata?: V1ObjectMeta;
  type?: "kubernetes.io/dockerconfigjson" | "kubernetes.io/dockercfg" | string;
  /** base64 values, as in the API. */
  data?: Record<string, string>;
}

/** Options of a container log read, as in the API's PodLogOptions. */
export interface V1PodLogOptions {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  sinceSeconds?: number;
  sinceTime?: string;
  timestamps?: boolean;
  tailLines?: number;
  limitBytes?: number;
}
