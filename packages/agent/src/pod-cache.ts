// The kubelet's pod cache (pkg/kubelet/container/cache.go), reduced to what nodelet's pod workers
// need: the runtime status of each pod as last read, kept until the PLEG sees one of the pod's
// containers or sandboxes change. A sync of a pod whose containers did not change reads no status
// from the runtime (no ContainerStatus of every dead instance at every periodic sync).
import {
  type Clock,
  type ContainerStateName,
  type Pod,
  type PodStatus,
  type Runtime,
  sandboxStateName,
} from "@nodelet/runtime-api";

export interface PodCacheOptions {
  runtime: Pick<Runtime, "getPodStatus">;
  clock: Clock;
  /**
   * When a listing of the runtime that started at the returned time (clock ms) had no object of
   * the pod, and nothing has been done to the pod since: a first get() then takes the pod's status
   * as empty instead of reading it (the kubelet's cache gives a new pod the empty status of the
   * last relist too). Undefined: no such evidence, read the runtime.
   */
  absentSince?: (uid: string) => number | undefined;
}

export interface PodCache {
  /** The cached status when it is still current (no change seen since it was read), else a fresh read. */
  get(uid: string, name: string, namespace: string): Promise<PodStatus>;
  /** Reads the status from the runtime now and caches it (after the pod worker changed the pod). */
  refresh(uid: string, name: string, namespace: string): Promise<PodStatus>;
  /**
   * The PLEG saw a change of the pod in a relist that ended at `at`: a status read that started
   * before then may predate the change, so it is not used again. With `observed` (the pod as that
   * relist listed it), a cached status that already shows exactly those containers and sandboxes
   * in those states stays: the change is one it read already (typically the sync's own start).
   */
  invalidate(uid: string, at: number, observed?: Pod): void;
  /** Forgets a pod (it is gone from the config). */
  delete(uid: string): void;
  /** Status reads done so far (for the bench's debug metric and tests). */
  reads(): number;
  size(): number;
}

interface Entry {
  status?: PodStatus;
  /** When the read that produced `status` started (-Infinity before any read). */
  readAt: number;
  /** The last relist that saw a change of this pod ended here. */
  invalidatedAt: number;
  /** What that relist listed of the pod (undefined: nothing, or no listing given). */
  seen?: Pod | undefined;
  /**
   * `status` was found to show everything the relist that ended here saw (reflects), though
   * its read started before that relist ended: it is current until a later relist sees a change.
   */
  coveredAt: number;
}

const NEVER = Number.NEGATIVE_INFINITY;

/** The entry's status is still the pod's: read after the last change seen, or shown to include it. */
function isCurrent(entry: Entry | undefined): entry is Entry & { status: PodStatus } {
  if (entry?.status === undefined) return false;
  // Strictly after: a read that started in the same millisecond as the relist ended may have
  // listed the containers before the change the relist saw.
  return entry.readAt > entry.invalidatedAt || entry.coveredAt >= entry.invalidatedAt;
}

export function createPodCache(options: PodCacheOptions): PodCache {
  const { runtime, clock } = options;
  const entries = new Map<string, Entry>();
  let reads = 0;

  async function refresh(uid: string, name: string, namespace: string): Promise<PodStatus> {
    const startedAt = clock.now();
    reads++;
    const status = await runtime.getPodStatus(uid, name, namespace);
    const entry = entries.get(uid);
    if (entry === undefined) {
      entries.set(uid, { status, readAt: startedAt, invalidatedAt: NEVER, coveredAt: NEVER });
    } else if (entry.status === undefined || startedAt >= entry.readAt) {
      // Two reads racing: the one that started last wins, whichever finished last.
      entry.status = status;
      entry.readAt = startedAt;
      // A relist that ended while this read ran (typically one that listed the containers the
      // sync was starting): when the read shows all it saw, or later states, the read is newer.
      entry.coveredAt =
        entry.seen !== undefined && reflects(status, entry.seen) ? entry.invalidatedAt : NEVER;
    }
    return status;
  }

  return {
    async get(uid, name, namespace) {
      const entry = entries.get(uid);
      if (isCurrent(entry)) return entry.status;
      if (entry?.status === undefined) {
        const since = options.absentSince?.(uid);
        if (since !== undefined && since > (entry?.invalidatedAt ?? NEVER)) {
          const status: PodStatus = {
            id: uid,
            name,
            namespace,
            ips: [],
            containerStatuses: [],
            sandboxStatuses: [],
            timestamp: since,
          };
          entries.set(uid, {
            status,
            readAt: since,
            invalidatedAt: entry?.invalidatedAt ?? NEVER,
            coveredAt: NEVER,
          });
          return status;
        }
      }
      return refresh(uid, name, namespace);
    },
    refresh,
    invalidate(uid, at, observed) {
      // Kept even with nothing cached yet: a read in flight now may have started before the change.
      const entry = entries.get(uid);
      if (observed && isCurrent(entry) && reflects(entry.status, observed)) return;
      if (entry === undefined) {
        entries.set(uid, {
          readAt: NEVER,
          invalidatedAt: at,
          coveredAt: NEVER,
          ...(observed ? { seen: observed } : {}),
        });
      } else if (at >= entry.invalidatedAt) {
        entry.invalidatedAt = at;
        entry.seen = observed;
      }
    },
    delete(uid) {
      entries.delete(uid);
    },
    reads: () => reads,
    size: () => entries.size,
  };
}

/** A container's states in the order they are reached; a container never goes back. */
const CONTAINER_PROGRESS: Record<ContainerStateName, number | undefined> = {
  created: 0,
  running: 1,
  exited: 2,
  unknown: undefined, // not ordered: only equal to itself
};

/**
 * True when `status` has exactly the relist's containers and sandboxes, each container in the
 * state the relist saw or a later one, each sandbox in the same state. A container only moves
 * forward (created, running, exited) and IDs are never reused, so a status that shows it further
 * on is newer than the relist's view: typically a relist that listed the container while the sync
 * was starting it, and a status read after the start. Sandboxes must match exactly: a runtime may
 * list a sandbox being created as not ready before it is ready.
 */
export function reflects(status: PodStatus, observed: Pod): boolean {
  if (
    status.containerStatuses.length !== observed.containers.length ||
    status.sandboxStatuses.length !== observed.sandboxes.length
  ) {
    return false;
  }
  const containers = new Map(status.containerStatuses.map((c) => [c.id.id, c.state]));
  if (observed.containers.some((c) => !atOrPast(containers.get(c.id.id), c.state))) return false;
  const sandboxes = new Map(status.sandboxStatuses.map((s) => [s.id, sandboxStateName(s.state)]));
  return observed.sandboxes.every((s) => sandboxes.get(s.id.id) === s.state);
}

function atOrPast(cached: ContainerStateName | undefined, seen: ContainerStateName): boolean {
  if (cached === undefined) return false;
  if (cached === seen) return true;
  const [a, b] = [CONTAINER_PROGRESS[cached], CONTAINER_PROGRESS[seen]];
  return a !== undefined && b !== undefined && a > b;
}
