// Pod log directories and legacy log symlinks. Follows evictPodLogsDirectories and
// getContainerIDFromLegacyLogSymlink in pkg/kubelet/kuberuntime/kuberuntime_gc.go and helpers.go.
import { lstat, readdir, rmdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode } from "@nodelet/runtime-api";

/** The pod UID of a pod log directory `<namespace>_<name>_<uid>`: its last `_` segment. */
export function podUidFromLogDirectory(name: string): string {
  const at = name.lastIndexOf("_");
  return at < 0 ? "" : name.slice(at + 1);
}

/**
 * The container ID of a legacy symlink `<pod>_<namespace>_<container>-<id>.log`: the text after the
 * last `-`, without `.log`; undefined when there is none.
 */
export function containerIdFromLegacySymlink(name: string): string | undefined {
  if (!name.endsWith(".log")) return undefined;
  const stem = name.slice(0, -".log".length);
  const at = stem.lastIndexOf("-");
  const id = at < 0 ? "" : stem.slice(at + 1);
  return id === "" ? undefined : id;
}

/** Entries of a directory; none when it does not exist (nothing to collect there). */
export async function listDirectory(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return [];
    throw err;
  }
}

/** A removal that stopped at a mount point (a directory on another device). */
export class MountedError extends Error {
  readonly code = "Mounted";
}

/**
 * Removes `path` and what it holds without following a symlink: a link (at `path` or inside) is
 * unlinked, a directory is entered only when lstat says it is one on the same device as its parent
 * (another device is a mount: the removal stops there with MountedError). Gone already = done.
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

/** A symlink whose target does not exist (dangling); false for anything else or when it is gone. */
export async function isDanglingSymlink(path: string): Promise<boolean> {
  try {
    if (!(await lstat(path)).isSymbolicLink()) return false;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return false;
    throw err;
  }
  try {
    await stat(path);
    return false;
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT" || code === "ENOTDIR") return true;
    throw err;
  }
}
