import { join } from "node:path";
import {
  LinuxContainerSecurityContext,
  type NamespaceOption,
  type SELinuxOption,
  type SecurityProfile,
  SecurityProfile_ProfileType,
} from "@nodelet/cri-api";
import {
  ErrorCode,
  formatPod,
  NodeletError,
  type V1Container,
  type V1Pod,
  type V1SELinuxOptions,
  type V1SeccompProfile,
  type V1SecurityContext,
} from "@nodelet/runtime-api";

// pkg/securitycontext/util.go, kept in sync there with moby's oci/defaults.go. /proc/asound moved
// from the read-only list to the masked list, and /sys/devices/virtual/powercap was added, when
// moby changed (Kubernetes 1.30 era).
const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];
const DEFAULT_READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/** The largest uid the kubelet accepts from an image (validation.IsValidUserID). */
const MAX_USER_ID = 2 ** 31 - 1;

/** The user an image runs as, from CRI ImageStatus (`uid` wins over `username`). */
export interface ImageUser {
  uid?: bigint | number;
  username?: string;
}

/**
 * The container's effective security context (`securitycontext.DetermineEffectiveSecurityContext`):
 * the pod's runAsUser, runAsGroup, runAsNonRoot and seLinuxOptions, overridden by every field the
 * container sets.
 */
export function determineEffectiveSecurityContext(pod: V1Pod, container: V1Container): V1SecurityContext {
  const podSc = pod.spec.securityContext;
  const effective: V1SecurityContext = {};
  if (podSc?.seLinuxOptions !== undefined) effective.seLinuxOptions = { ...podSc.seLinuxOptions };
  if (podSc?.runAsUser !== undefined) effective.runAsUser = podSc.runAsUser;
  if (podSc?.runAsGroup !== undefined) effective.runAsGroup = podSc.runAsGroup;
  if (podSc?.runAsNonRoot !== undefined) effective.runAsNonRoot = podSc.runAsNonRoot;
  for (const [key, value] of Object.entries(container.securityContext ?? {})) {
    if (value !== undefined) (effective as Record<string, unknown>)[key] = value;
  }
  return effective;
}

export interface ContainerSecurityOptions {
  /** The kubelet's seccompDefault: RuntimeDefault instead of Unconfined when nothing is set. */
  seccompDefault: boolean;
  /** Where Localhost profiles live (`<rootDir>/seccomp`). */
  seccompProfileRoot: string;
  namespaceOptions: NamespaceOption;
  /** From ImageStatus; omitted or empty means the image runs as root, as the kubelet reads it. */
  imageUser?: ImageUser;
}

/**
 * The CRI security context for a container (the kubelet's determineEffectiveSecurityContext in
 * kr/security_context.go). Capabilities are passed as written: the runtime accepts names with or
 * without the CAP_ prefix.
 */
export function convertToLinuxContainerSecurityContext(
  pod: V1Pod,
  container: V1Container,
  options: ContainerSecurityOptions,
): LinuxContainerSecurityContext {
  const effective = determineEffectiveSecurityContext(pod, container);
  checkPrivilegeEscalation(container, effective);

  const context = LinuxContainerSecurityContext.fromPartial({
    privileged: effective.privileged ?? false,
    readonlyRootfs: effective.readOnlyRootFilesystem ?? false,
    namespaceOptions: options.namespaceOptions,
    noNewPrivs: effective.allowPrivilegeEscalation === false,
  });
  if (effective.capabilities !== undefined) {
    context.capabilities = {
      addCapabilities: [...(effective.capabilities.add ?? [])],
      dropCapabilities: [...(effective.capabilities.drop ?? [])],
      addAmbientCapabilities: [],
    };
  }
  if (effective.seLinuxOptions !== undefined)
    context.selinuxOptions = toSELinuxOption(effective.seLinuxOptions);
  if (effective.runAsGroup !== undefined) context.runAsGroup = { value: BigInt(effective.runAsGroup) };
  if (effective.runAsUser !== undefined) {
    context.runAsUser = { value: BigInt(effective.runAsUser) };
  } else {
    const image = resolveImageUser(options.imageUser);
    if (image.uid !== undefined) context.runAsUser = { value: image.uid };
    context.runAsUsername = image.username;
  }

  const podSc = pod.spec.securityContext;
  if (podSc?.fsGroup !== undefined) context.supplementalGroups.push(BigInt(podSc.fsGroup));
  for (const group of podSc?.supplementalGroups ?? []) context.supplementalGroups.push(BigInt(group));

  context.seccomp = seccompProfileFor(pod, container, options);

  const unmasked = effective.procMount === "Unmasked";
  context.maskedPaths = unmasked ? [] : [...DEFAULT_MASKED_PATHS];
  context.readonlyPaths = unmasked ? [] : [...DEFAULT_READONLY_PATHS];
  return context;
}

// API validation the kubelet relies on: no_new_privs cannot be set on a container that may gain
// privileges anyway.
function checkPrivilegeEscalation(container: V1Container, effective: V1SecurityContext): void {
  if (effective.allowPrivilegeEscalation !== false) return;
  if (effective.privileged === true) {
    throw configError(
      container,
      "securityContext",
      "cannot set allowPrivilegeEscalation to false and privileged to true",
    );
  }
  const adds = effective.capabilities?.add ?? [];
  if (adds.some((cap) => cap === "CAP_SYS_ADMIN" || cap === "SYS_ADMIN")) {
    throw configError(
      container,
      "securityContext",
      "cannot set allowPrivilegeEscalation to false and capabilities.add CAP_SYS_ADMIN",
    );
  }
}

/**
 * The container's seccomp profile: the container's field, else the pod's, else RuntimeDefault with
 * seccompDefault, else Unconfined. A Localhost profile is `<seccompProfileRoot>/<localhostProfile>`.
 */
export function seccompProfileFor(
  pod: V1Pod,
  container: V1Container,
  options: Pick<ContainerSecurityOptions, "seccompDefault" | "seccompProfileRoot">,
): SecurityProfile {
  const field = container.securityContext?.seccompProfile ?? pod.spec.securityContext?.seccompProfile;
  if (field === undefined) {
    return profile(
      options.seccompDefault
        ? SecurityProfile_ProfileType.RuntimeDefault
        : SecurityProfile_ProfileType.Unconfined,
    );
  }
  return fieldSeccompProfile(field, container, options.seccompProfileRoot);
}

function fieldSeccompProfile(field: V1SeccompProfile, container: V1Container, root: string): SecurityProfile {
  switch (field.type) {
    case "RuntimeDefault":
      return profile(SecurityProfile_ProfileType.RuntimeDefault);
    case "Localhost": {
      const name = field.localhostProfile ?? "";
      if (name === "") {
        throw configError(
          container,
          "seccompProfile",
          "localhostProfile must be set if seccompProfile type is Localhost.",
        );
      }
      if (name.startsWith("/") || name.split("/").includes("..")) {
        throw configError(
          container,
          "seccompProfile.localhostProfile",
          `"${name}" must be a relative path under the seccomp profile root without ".."`,
        );
      }
      return profile(SecurityProfile_ProfileType.Localhost, join(root, name));
    }
    default:
      return profile(SecurityProfile_ProfileType.Unconfined);
  }
}

function profile(profileType: SecurityProfile_ProfileType, localhostRef = ""): SecurityProfile {
  return { profileType, localhostRef };
}

/**
 * Refuses a container that must not run as root and would (kr/security_context_others.go), with
 * the kubelet's messages. The image user comes from ImageStatus: `uid`, else `username`, else root.
 */
export function verifyRunAsNonRoot(
  pod: V1Pod,
  container: V1Container,
  imageUser: ImageUser | undefined,
): void {
  const effective = determineEffectiveSecurityContext(pod, container);
  if (effective.runAsNonRoot !== true) return;
  const podDesc = JSON.stringify(formatPod(pod));
  if (effective.runAsUser !== undefined) {
    if (effective.runAsUser === 0) {
      throw configError(
        container,
        "runAsNonRoot",
        `container's runAsUser breaks non-root policy (pod: ${podDesc}, container: ${container.name})`,
        false,
      );
    }
    return;
  }
  const image = resolveImageUser(imageUser);
  if (image.uid === undefined) {
    throw configError(
      container,
      "runAsNonRoot",
      `container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root (pod: ${podDesc}, container: ${container.name})`,
      false,
    );
  }
  if (image.uid === 0n) {
    throw configError(
      container,
      "runAsNonRoot",
      `container has runAsNonRoot and image will run as root (pod: ${podDesc}, container: ${container.name})`,
      false,
    );
  }
  if (image.uid < 0n || image.uid > BigInt(MAX_USER_ID)) {
    throw configError(
      container,
      "runAsNonRoot",
      `container has runAsNonRoot and image has an invalid user id (${image.uid}). (Must be 1-(${MAX_USER_ID})): must be between 0 and ${MAX_USER_ID}, inclusive (pod: ${podDesc}, container: ${container.name})`,
      false,
    );
  }
}

// getImageUser: uid if the image has a numeric one, else the user name, else root (uid 0).
function resolveImageUser(
  user: ImageUser | undefined,
): { uid: bigint; username: "" } | { uid: undefined; username: string } {
  if (user?.uid !== undefined) return { uid: BigInt(user.uid), username: "" };
  if (user?.username) return { uid: undefined, username: user.username };
  return { uid: 0n, username: "" };
}

export function toSELinuxOption(options: V1SELinuxOptions): SELinuxOption {
  return {
    user: options.user ?? "",
    role: options.role ?? "",
    type: options.type ?? "",
    level: options.level ?? "",
  };
}

function configError(container: V1Container, field: string, message: string, prefix = true): NodeletError {
  return new NodeletError(
    ErrorCode.CreateContainerConfigError,
    prefix ? `container "${container.name}": ${field}: ${message}` : message,
    { details: { container: container.name, field } },
  );
}
