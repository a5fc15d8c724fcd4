// The kubelet's log file names (pkg/kubelet/kuberuntime/helpers.go, legacy.go).

/** The longest legacy symlink name before `.log` (the kubelet cuts at 251 so the name fits 255). */
const MAX_LEGACY_NAME = 251;

/** `<pod>_<namespace>_<container>-<containerID>.log`, cut to 251 characters plus `.log`. */
export function legacyLogSymlinkName(
  podName: string,
  podNamespace: string,
  containerName: string,
  containerId: string,
): string {
  return `${`${podName}_${podNamespace}_${containerName}-${containerId}`.slice(0, MAX_LEGACY_NAME)}.log`;
}
