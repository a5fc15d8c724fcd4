// Statuses that cannot change while the runtime lists their object in the same state: a sandbox's
// PodSandboxStatus (its IPs are fixed at creation), and a container's ContainerStatus (start time,
// exit code, reason and termination message are fixed once it runs or has exited). readPodStatus
// reuses them and asks the runtime only about objects that are new or moved on, so a pod's status
// read costs one list pair instead of a status call per sandbox and per dead instance.
import { ContainerState, PodSandboxState, type PodSandboxStatus } from "@nodelet/cri-api";
import type { ContainerStatus } from "@nodelet/runtime-api";

interface PodEntry {
  sandboxes: Map<string, PodSandboxStatus>;
  containers: Map<string, { state: ContainerState; status: ContainerStatus }>;
  /** Containers this manager just created, started or stopped: read next time, with the list. */
  changed: Set<string>;
}

export interface StatusMemo {
  sandbox(uid: string, id: string, listed: PodSandboxState): PodSandboxStatus | undefined;
  container(uid: string, id: string, listed: ContainerState): ContainerStatus | undefined;
  /** Replaces what is kept for the pod with what this read saw (objects no longer listed go). */
  store(
    uid: string,
    sandboxes: readonly PodSandboxStatus[],
    containers: readonly { state: ContainerState; status: ContainerStatus }[],
  ): void;
  /** A sandbox status read elsewhere (the sync reads one right after RunPodSandbox). */
  addSandbox(uid: string, status: PodSandboxStatus): void;
  /**
   * A container the sync just started or stopped: its status is sure to differ, so the next read
   * asks for it together with the list pair instead of after it.
   */
  containerChanged(uid: string, id: string): void;
  /** The containers reported changed since the last read, forgotten as they are returned. */
  takeChanged(uid: string): string[];
  size(): number;
}

/** Keeps the pods read most recently, at most `maxPods` of them. */
export function createStatusMemo(maxPods = 1024): StatusMemo {
  const pods = new Map<string, PodEntry>();

  const empty = (): PodEntry => ({ sandboxes: new Map(), containers: new Map(), changed: new Set() });

  function touch(uid: string, entry: PodEntry): void {
    pods.delete(uid);
    pods.set(uid, entry);
    while (pods.size > maxPods) {
      const oldest = pods.keys().next().value as string;
      pods.delete(oldest);
    }
  }

  return {
    sandbox(uid, id, listed) {
      const status = pods.get(uid)?.sandboxes.get(id);
      return status !== undefined && status.state === listed && settled(listed) ? status : undefined;
    },
    container(uid, id, listed) {
      const kept = pods.get(uid)?.containers.get(id);
      return kept !== undefined && kept.state === listed && settledContainer(listed)
        ? kept.status
        : undefined;
    },
    store(uid, sandboxes, containers) {
      const changed = pods.get(uid)?.changed ?? new Set<string>();
      if (sandboxes.length === 0 && containers.length === 0 && changed.size === 0) {
        pods.delete(uid);
        return;
      }
      touch(uid, {
        changed,
        sandboxes: new Map(sandboxes.filter((s) => settled(s.state)).map((s) => [s.id, s])),
        containers: new Map(
          containers.filter((c) => settledContainer(c.state)).map((c) => [c.status.id.id, c]),
        ),
      });
    },
    addSandbox(uid, status) {
      if (!settled(status.state)) return;
      const entry = pods.get(uid) ?? empty();
      entry.sandboxes.set(status.id, status);
      touch(uid, entry);
    },
    containerChanged(uid, id) {
      const entry = pods.get(uid) ?? empty();
      entry.containers.delete(id);
      entry.changed.add(id);
      touch(uid, entry);
    },
    takeChanged(uid) {
      const entry = pods.get(uid);
      if (entry === undefined || entry.changed.size === 0) return [];
      const ids = [...entry.changed];
      entry.changed.clear();
      return ids;
    },
    size: () => pods.size,
  };
}

function settled(state: PodSandboxState): boolean {
  return state === PodSandboxState.SANDBOX_READY || state === PodSandboxState.SANDBOX_NOTREADY;
}

/** Created containers are read again (cheap, rare); unknown ones always. */
function settledContainer(state: ContainerState): boolean {
  return state === ContainerState.CONTAINER_RUNNING || state === ContainerState.CONTAINER_EXITED;
}
