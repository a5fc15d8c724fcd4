// An in-memory ContainerGCRuntime for the unit tests of the collector's logic (the integration
// tests use kuberuntime's implementation against containerd).
import type { ContainerGCRuntime, GCContainer, GCSandbox, PodStateProvider } from "@nodelet/runtime-api";

export interface MemoryRuntime extends ContainerGCRuntime {
  containers: Map<string, GCContainer>;
  sandboxes: Map<string, GCSandbox>;
  calls: string[];
  /** Ids whose removal (or kill, with "kill:" prefix) fails. */
  failing: Set<string>;
  /** Called during each removal (to advance a manual clock, say). */
  onRemove?: (() => void) | undefined;
}

export function memoryRuntime(): MemoryRuntime {
  const rt: MemoryRuntime = {
    containers: new Map(),
    sandboxes: new Map(),
    calls: [],
    failing: new Set(),
    async listContainers() {
      return [...rt.containers.values()].map((c) => ({ ...c }));
    },
    async listSandboxes() {
      return [...rt.sandboxes.values()].map((s) => ({ ...s }));
    },
    async killContainer(c) {
      rt.calls.push(`kill ${c.id}`);
      if (rt.failing.has(`kill:${c.id}`)) throw new Error(`cannot stop ${c.id}`);
      const stored = rt.containers.get(c.id);
      if (stored) stored.state = "exited";
    },
    async removeContainer(id) {
      rt.calls.push(`rm ${id}`);
      rt.onRemove?.();
      if (rt.failing.has(id)) throw new Error(`device busy: ${id}`);
      rt.containers.delete(id);
    },
    async removeSandbox(id) {
      rt.calls.push(`rmp ${id}`);
      if (rt.failing.has(id)) throw new Error(`sandbox busy: ${id}`);
      rt.sandboxes.delete(id);
    },
    async containerState(id) {
      return rt.containers.get(id)?.state;
    },
  };
  return rt;
}

let seq = 0;
/** A container created `createdMs` after the epoch. */
export function container(
  podUid: string,
  name: string,
  createdMs: number,
  state: GCContainer["state"] = "exited",
  podSandboxId = `sb-${podUid}`,
): GCContainer {
  seq++;
  return {
    id: `${podUid}-${name}-${createdMs}-${seq}`,
    podUid,
    name,
    state,
    podSandboxId,
    createdAtNs: BigInt(createdMs) * 1_000_000n,
  };
}

export function sandbox(podUid: string, id: string, createdMs: number, ready = false): GCSandbox {
  return { id, podUid, ready, createdAtNs: BigInt(createdMs) * 1_000_000n };
}

/** Pods that exist; every other UID's content may go. */
export function podsThatExist(...uids: string[]): PodStateProvider & { uids: Set<string> } {
  const set = new Set(uids);
  return {
    uids: set,
    shouldPodContentBeRemoved: (uid) => !set.has(uid),
    shouldPodRuntimeBeRemoved: (uid) => !set.has(uid),
  };
}
