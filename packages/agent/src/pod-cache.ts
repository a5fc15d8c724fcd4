// The kubelet's pod cache (pkg/kubelet/container/cache.go), reduced to what nodelet's pod workers
// need: the runtime status of each pod as last read, kept until the PLEG sees one of the pod's
// containers or sandboxes change. A sync of a pod whose containers did not change reads no status
// from the runtime (no ContainerStatus of every dead instance at every periodic sync).
import { type Clock, type Pod, type PodStatus, type Runtime, sandboxStateName } from "@nodelet/runtime-api";

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
      entries.set(uid, { status, readAt: startedAt, invalidatedAt: Number.NEGATIVE_INFINITY });
    } else if (entry.status === undefined || startedAt >= entry.readAt) {
      // Two reads racing: the one that started last wins, whichever finished last.
      entry.status = status;
      entry.readAt = startedAt;
    }
    return status;
  }

  return {
    async get(uid, name, namespace) {
      const entry = entries.get(uid);
      // Strictly after: a read that started in the same millisecond as the relist ended may have
      // listed the containers before the change the relist saw.
      if (entry?.status !== undefined && entry.readAt > entry.invalidatedAt) return entry.status;
      if (entry?.status === undefined) {
        const since = options.absentSince?.(uid);
        if (since !== undefined && since > (entry?.invalidatedAt ?? Number.NEGATIVE_INFINITY)) {
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
            invalidatedAt: entry?.invalidatedAt ?? Number.NEGATIVE_INFINITY,
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
      if (observed && entry?.status && entry.readAt > entry.invalidatedAt && reflects(entry.status, observed))
        return;
      if (entry === undefined) entries.set(uid, { readAt: Number.NEGATIVE_INFINITY, invalidatedAt: at });
      else entry.invalidatedAt = Math.max(entry.invalidatedAt, at);
    },
    delete(uid) {
      entries.delete(uid);
    },
    reads: () => reads,
    size: () => entries.size,
  };
}

/**
 * True when `status` has exactly the relist's containers and sandboxes, each in the state the
 * relist saw. States only move forward (created, running, exited) and IDs are never reused, so
 * such a status is what a fresh read would give.
 */
export function reflects(status: PodStatus, observed: Pod): boolean {
  if (
    status.containerStatuses.length !== observed.containers.length ||
    status.sandboxStatuses.length !== observed.sandboxes.length
  ) {
    return false;
  }
  const containers = new Map(status.containerStatuses.map((c) => [c.id.id, c.state]));
  if (observed.containers.some((c) => containers.get(c.id.id) !== c.state)) return false;
  const sandboxes = new Map(status.sandboxStatuses.map((s) => [s.id, sandboxStateName(s.state)]));
  return observed.sandboxes.every((s) => sandboxes.get(s.id.id) === s.state);
}
