import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Snapshotter } from "./allocation.js";
import { run } from "./exec.js";

/**
 * containerd's overlayfs snapshotter needs overlay mounts to work on the filesystem holding its root
 * (not the case e.g. when the state dir itself sits on overlayfs in some CI containers). Try one.
 */
export async function probeSnapshotter(parent: string): Promise<Snapshotter> {
  const dir = join(parent, "overlay-probe");
  const [lower, upper, work, merged] = ["lower", "upper", "work", "merged"].map((d) => join(dir, d)) as [
    string,
    string,
    string,
    string,
  ];
  await rm(dir, { recursive: true, force: true });
  for (const d of [lower, upper, work, merged]) await mkdir(d, { recursive: true });
  try {
    const mounted = await run("mount", [
      "-t",
      "overlay",
      "overlay",
      "-o",
      `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
      merged,
    ]);
    if (mounted.code !== 0) return "native";
    await run("umount", [merged]);
    return "overlayfs";
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
