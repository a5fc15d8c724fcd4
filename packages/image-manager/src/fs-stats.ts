import { statfs } from "node:fs/promises";

/** Size and free space of the filesystem holding the images (the kubelet takes them from cAdvisor). */
export interface FsStats {
  capacityBytes: number;
  /** Free to unprivileged users (statfs f_bavail), as cAdvisor reports Available. */
  availableBytes: number;
}

/** Reads FsStats of the filesystem `mountpoint` is on. */
export type FsStatsReader = (mountpoint: string) => Promise<FsStats>;

/** The default FsStatsReader: statfs(2) through node:fs. */
export const statfsStats: FsStatsReader = async (mountpoint) => {
  const s = await statfs(mountpoint);
  return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
};
