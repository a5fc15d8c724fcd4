// Pod directory cleanup, like the kubelet's housekeeping (cleanupOrphanedPodDirs in
// pkg/kubelet/kubelet_volumes.go): once a pod is gone and the runtime holds nothing of it, its
// <root-dir>/pods/<uid> (emptyDir data, termination-message files, subPath sources) is removed.
// Never through a symlink out of it, and never while something is mounted inside it.
import { lstat, readdir, readFile, realpath, rmdir, unlink } from "node:fs/promises";
import { join, sep } from "node:path";
import { errnoCode, errorMessage, type Logger } from "@nodelet/runtime-api";

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

/** Mount points from a mountinfo file (field 5, with its octal escapes undone). */
export function parseMountInfo(text: string): string[] {
  const points: string[] = [];
  for (const line of text.split("\n")) {
    const field = line.split(" ")[4];
    if (field === undefined || field === "") continue;
    points.push(
      field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))),
    );
  }
  return points;
}

/** A removal that stopped at a mount point or a file system boundary. */
export class MountedError extends Error {
  readonly code = "PodDirectoryMounted";
}

/**
 * Removes `path` and what it holds without following a symlink: links are unlinked, directories
 * are entered only when lstat says they are directories on the same device (another device is a
 * mount, and the removal stops there).
 */
export async function removeTree(path: string, device?: number): Promise<void> {
  let info: Awaited<ReturnType<typeof lstat>>;
  try {
    info = await lstat(path);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
    throw err;
  }
  if (!info.isDirectory()) {
    await unlink(path);
    return;
  }
  if (device !== undefined && info.dev !== device) throw new MountedError(`${path} is a mount point`);
  for (const name of await readdir(path)) await removeTree(join(path, name), info.dev);
  await rmdir(path);
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
  const mounts = parseMountInfo(await readFile(options.mountInfoPath ?? "/proc/self/mountinfo", "utf8"));
  for (const uid of candidates) {
    const dir = join(realPods, uid);
    const mounted = mounts.find((m) => m === dir || m.startsWith(dir + sep));
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
