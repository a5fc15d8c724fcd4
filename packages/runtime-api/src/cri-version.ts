/** The CRI version string the kubelet sends in VersionRequest and expects back (pkg/kubelet/kuberuntime). */
export const CRI_VERSION = "0.1.0";
/** The CRI API version the runtime must answer: nodelet speaks runtime.v1 only. */
export const CRI_API_VERSION = "v1";
