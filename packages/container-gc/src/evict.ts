// The pure part of container GC: which dead containers and sandboxes go. Follows evictableContainers,
// evictContainers, enforceMaxContainersPerEvictUnit, removeOldestN, evictSandboxes and
// removeOldestNSandboxes in pkg/kubelet/kuberuntime/kuberuntime_gc.go.
import type { GCContainer, GCPolicy, GCSandbox } from "@nodelet/runtime-api";

/** Newest first; equal times by id, so that every pass decides the same. */
function newestFirst<T extends { createdAtNs: bigint; id: string }>(a: T, b: T): number {
  if (a.createdAtNs !== b.createdAtNs) return a.createdAtNs > b.createdAtNs ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Evict units: dead containers (not running, created at least `minAgeMs` before `nowMs`) grouped by
 * (pod UID, container name), each newest first. Keyed by UID, never by pod name: a pod recreated
 * with the same name is another unit.
 */
export function evictableContainers(
  containers: readonly GCContainer[],
  minAgeMs: number,
  nowMs: number,
): Map<string, GCContainer[]> {
  const newestGCTimeNs = BigInt(Math.floor(nowMs - minAgeMs)) * 1_000_000n;
  const units = new Map<string, GCContainer[]>();
  for (const c of containers) {
    if (c.state === "running") continue;
    if (c.createdAtNs > newestGCTimeNs) continue;
    const key = `${c.podUid}\u0000${c.name}`;
    const unit = units.get(key);
    if (unit) unit.push(c);
    else units.set(key, [c]);
  }
  for (const unit of units.values()) unit.sort(newestFirst);
  return units;
}

export interface ContainerEviction {
  /** What to remove, oldest first within each reason. */
  remove: GCContainer[];
  /** What stays, by unit. */
  kept: Map<string, GCContainer[]>;
}

/**
 * The containers a pass removes. `removeAll(uid)` says whether the pod's content goes (only asked
 * when every source has been read). For pods that still exist the newest instance of each unit
 * always stays, even where MaxContainers would take it: it carries the restart count and the
 * previous logs (the kubelet's global pass may remove it; nodelet does not, see the README).
 */
export function selectContainers(
  units: Map<string, GCContainer[]>,
  policy: GCPolicy,
  allSourcesReady: boolean,
  removeAll: (uid: string) => boolean,
): ContainerEviction {
  const remove: GCContainer[] = [];
  const kept = new Map<string, GCContainer[]>();
  for (const [key, unit] of units) {
    const uid = unit[0]?.podUid ?? "";
    if (allSourcesReady && removeAll(uid)) remove.push(...[...unit].reverse());
    else kept.set(key, unit);
  }
  const trim = (perUnit: number) => {
    for (const [key, unit] of kept) {
      if (unit.length <= perUnit) continue;
      remove.push(...unit.slice(perUnit).reverse());
      kept.set(key, unit.slice(0, perUnit));
    }
  };
  if (policy.maxPerPodContainer >= 0) trim(policy.maxPerPodContainer);
  const total = () => [...kept.values()].reduce((n, u) => n + u.length, 0);
  if (policy.maxContainers >= 0 && total() > policy.maxContainers) {
    // Fair share first (at least one per unit), then the globally oldest beyond each unit's newest.
    trim(Math.max(1, Math.floor(policy.maxContainers / Math.max(1, kept.size))));
    const excess = total() - policy.maxContainers;
    if (excess > 0) {
      const candidates = [...kept.values()].flatMap((u) => u.slice(1)).sort(newestFirst);
      const oldest = candidates.slice(Math.max(0, candidates.length - excess)).reverse();
      const gone = new Set(oldest.map((c) => c.id));
      remove.push(...oldest);
      for (const [key, unit] of kept)
        kept.set(
          key,
          unit.filter((c) => !gone.has(c.id)),
        );
    }
  }
  return { remove, kept };
}

/**
 * The sandboxes a pass removes. A sandbox is active while it is ready or still has containers, and
 * an active one never goes. A pod whose content goes loses every inactive sandbox; any other pod
 * keeps its newest sandbox (whatever its state) and loses its older inactive ones. The count
 * policy does not apply to sandboxes.
 */
export function selectSandboxes(
  sandboxes: readonly GCSandbox[],
  containers: readonly GCContainer[],
  allSourcesReady: boolean,
  removeAll: (uid: string) => boolean,
): GCSandbox[] {
  const withContainers = new Set(containers.map((c) => c.podSandboxId));
  const byPod = new Map<string, GCSandbox[]>();
  for (const s of sandboxes) {
    const list = byPod.get(s.podUid);
    if (list) list.push(s);
    else byPod.set(s.podUid, [s]);
  }
  const remove: GCSandbox[] = [];
  for (const [uid, list] of byPod) {
    list.sort(newestFirst);
    const keep = allSourcesReady && removeAll(uid) ? 0 : 1;
    for (const s of list.slice(keep).reverse()) {
      if (!s.ready && !withContainers.has(s.id)) remove.push(s);
    }
  }
  return remove;
}
