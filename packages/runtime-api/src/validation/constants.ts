// Limits, patterns and the closed sets of values the API server accepts (pkg/apis/core/validation).

export const MAX_CONTAINERS = 100;
export const MAX_ERRORS = 100;
export const MAX_INT32 = 2_147_483_647;
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

export const DNS1123_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
export const QUALIFIED_NAME_PART = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
export const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
// IsRelaxedEnvVarName (Kubernetes >= 1.32): printable ASCII except '='.
export const ENV_VAR_NAME = /^[\x20-\x3c\x3e-\x7e]+$/;
export const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;
export const HTTP_HEADER_NAME = /^[-A-Za-z0-9!#$%&'*+.^_`|~]+$/;
export const SYSCTL_NAME = /^(?:[a-z0-9](?:[-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9](?:[-_a-z0-9]*[a-z0-9])?$/;
export const LABEL_SUBSCRIPT = /^metadata\.(labels|annotations)\['(.+)'\]$/;
export const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export const RESTART_POLICIES = ["Always", "OnFailure", "Never"] as const;
export const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
export const DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"] as const;
export const TERMINATION_MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"] as const;
export const SECCOMP_TYPES = ["RuntimeDefault", "Unconfined", "Localhost"] as const;
export const MOUNT_PROPAGATIONS = ["None", "HostToContainer", "Bidirectional"] as const;
export const PROC_MOUNTS = ["Default", "Unmasked"] as const;
export const URI_SCHEMES = ["HTTP", "HTTPS"] as const;
export const EMPTY_DIR_MEDIA = ["", "Memory"] as const;
export const HOST_PATH_TYPES = [
  "",
  "DirectoryOrCreate",
  "Directory",
  "FileOrCreate",
  "File",
  "Socket",
  "CharDevice",
  "BlockDevice",
] as const;
export const ENV_FIELD_PATHS = [
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
  "spec.nodeName",
  "spec.serviceAccountName",
  "status.hostIP",
  "status.hostIPs",
  "status.podIP",
  "status.podIPs",
] as const;
export const ENV_RESOURCES = [
  "limits.cpu",
  "limits.memory",
  "limits.ephemeral-storage",
  "requests.cpu",
  "requests.memory",
  "requests.ephemeral-storage",
] as const;
export const NATIVE_RESOURCES = ["cpu", "memory", "ephemeral-storage"] as const;
export const PROBE_HANDLERS = ["exec", "httpGet", "tcpSocket", "grpc"] as const;
export const LIFECYCLE_HANDLERS = ["exec", "httpGet", "tcpSocket", "sleep"] as const;
export const ENV_SOURCES = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"] as const;
export const VOLUME_SOURCES = ["emptyDir", "hostPath"] as const;
