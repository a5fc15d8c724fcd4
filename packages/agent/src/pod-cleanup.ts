// Pod directory cleanup, like the kubelet's housekeeping (cleanupOrphanedPodDirs in
// pkg/kubelet/kubelet_volumes.go): once a pod is gone and the runtime holds nothing of it, its
// <root-dir>/pods/<uid> (emptyDir data, termination-message files, subPath sources) is removed.
// Never through a symlink out of it, and never while something is mounted inside it.
import { readdir, readFile, realpath } from "node:fs/promises";
import { join } from "node:path";
import { removeTree } from "@nodelet/container-gc";
import { errnoCode, errorMessage, isPathAtOrUnder, type Logger, parseMountInfo } from "@nodelet/runtime-api";

export interface PodDirCleanupOptions {
  /** The agent's root directory: pod directories are <rootDir>/pods/<uid>. */
  rootDir: string;
  /** True when the pod's content may go (gone, and every source read): the GC's pod state. */
  shouldRemove: (uid: string) => boolean;
  /** UIDs the runtime still has containers or sandboxes of: their directories wait. */
  runtimeUids: ReadonlySet<string>;
  logger: Logger;
  /** Where the mounts are read; default /proc/self/mountinfo. */
  mountInfoPath?: string;
}

export interface PodDirCleanupResult {
  removed: string[];
  /** Directories left with the reason (a mount inside, or a failed removal), by UID. */
  kept: Map<string, string>;
}

/**
 * One cleanup pass over <rootDir>/pods. A directory stays when the pod may not lose its content,
 * when the runtime still has something of it, or when a mount is at or under it (the volume
 * cleanup unmounts first; until then the data is not ours to delete).
 */
export async function cleanupPodDirectories(options: PodDirCleanupOptions): Promise<PodDirCleanupResult> {
  const result: PodDirCleanupResult = { removed: [], kept: new Map() };
  const podsDir = join(options.rootDir, "pods");
  let names: string[];
  try {
    names = await readdir(podsDir);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return result;
    throw err;
  }
  const candidates = names.filter((uid) => options.shouldRemove(uid) && !options.runtimeUids.has(uid));
  if (candidates.length === 0) return result;
  // mountinfo shows resolved paths: compare against the real pods directory.
  const realPods = await realpath(podsDir);
  const mounts = parseMountInfo(await readFile(options.mountInfoPath ?? "/proc/self/mountinfo", "utf8")).map(
    (m) => m.path,
  );
  for (const uid of candidates) {
    const dir = join(realPods, uid);
    const mounted = mounts.find((m) => isPathAtOrUnder(m, dir));
    if (mounted !== undefined) {
      result.kept.set(uid, `${mounted} is still mounted`);
      continue;
    }
    try {
      await removeTree(join(podsDir, uid));
      result.removed.push(uid);
    } catch (err) {
      result.kept.set(uid, errorMessage(err));
    }
  }
  return result;
}
