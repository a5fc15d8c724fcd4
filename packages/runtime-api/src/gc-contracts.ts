// What container garbage collection needs from the rest of the node, as interfaces: the pod
// lifecycle's knowledge of which pods are gone (the kubelet's podStateProvider in
// pkg/kubelet/kuberuntime/kuberuntime_gc.go) and the runtime's view of containers and sandboxes
// with the removal that takes their logs along (kuberuntime implements it; container-gc uses it).

/**
 * Which pods may lose their leftovers, keyed by pod UID (never by name: a pod recreated with the
 * same name has a new UID). The kubelet's podStateProvider.
 */
export interface PodStateProvider {
  /**
   * The pod is deleted (or unknown once every source was read) and nothing of it runs: its
   * containers, sandboxes, log directory and pod directory may all go.
   */
  shouldPodContentBeRemoved(uid: string): boolean;
  /** The pod is terminated (it may still exist): with evictNonDeletedPods its containers may go. */
  shouldPodRuntimeBeRemoved(uid: string): boolean;
}

/** A container as garbage collection sees it (from the runtime's list and the kubelet's labels). */
export interface GCContainer {
  id: string;
  /** Pod UID label; "" for a container without the kubelet's labels. */
  podUid: string;
  /** Container name label. */
  name: string;
  podSandboxId: string;
  state: "created" | "running" | "exited" | "unknown";
  /** Creation time, ns since the epoch (the CRI's created_at). */
  createdAtNs: bigint;
}

/** A sandbox as garbage collection sees it. */
export interface GCSandbox {
  id: string;
  podUid: string;
  ready: boolean;
  createdAtNs: bigint;
}

/** The runtime side of container garbage collection; kuberuntime's runtime manager provides it. */
export interface ContainerGCRuntime {
  listContainers(): Promise<GCContainer[]>;
  listSandboxes(): Promise<GCSandbox[]>;
  /** Stops a container in unknown state before its removal (reason Unknown). */
  killContainer(container: GCContainer, message: string): Promise<void>;
  /**
   * Removes a container with its logs (rotated and current) and its legacy log symlink, logs
   * first so that a failed log removal leaves the container for a retry. Gone already = done.
   */
  removeContainer(id: string): Promise<void>;
  /** StopPodSandbox then RemovePodSandbox; no removal when the stop fails. Gone already = done. */
  removeSandbox(id: string): Promise<void>;
  /** The container's state, or undefined when the runtime has no such container. */
  containerState(id: string): Promise<GCContainer["state"] | undefined>;
}
