// Which runtime pods the housekeeping pass kills as orphans: running pods that no source
// describes and no worker handles, as of the last relist, except pods this agent acted on (killed)
// after that relist started (the relist still shows them running; killing them again costs a
// StopContainer and a StopPodSandbox each, with the network teardown behind it).
import type { Pod } from "@nodelet/runtime-api";

export interface OrphanScan {
  /** The last relist's pods and when that relist started (clock ms; undefined before the first). */
  pods: readonly Pod[];
  listedAt: number | undefined;
  /** True for a UID a source describes or a worker is handling. */
  known: (uid: string) => boolean;
  /** UID → when this agent's last sync or kill of it ended. Entries older than the relist are dropped here. */
  actedAt: Map<string, number>;
}

export function orphanCandidates(scan: OrphanScan): Pod[] {
  const listedAt = scan.listedAt ?? Number.NEGATIVE_INFINITY;
  for (const [uid, at] of scan.actedAt) if (at < listedAt) scan.actedAt.delete(uid);
  return scan.pods.filter((pod) => {
    if (scan.known(pod.id) || scan.actedAt.has(pod.id)) return false;
    return (
      pod.containers.some((c) => c.state === "running") || pod.sandboxes.some((s) => s.state === "running")
    );
  });
}
