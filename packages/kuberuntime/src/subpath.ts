// subPath mounts that cannot leave their volume (the class of CVE-2017-1002101 and CVE-2021-25741).
// Follows the kubelet's pkg/volume/util/subpath (subpath_linux.go: doSafeMakeDir, doSafeOpen,
// prepareSubpathTarget, doBindSubPath): every component is opened from its parent's descriptor
// without following symlinks, missing directories are created the same way, and what the host
// path of the container's mount becomes is a bind mount of the descriptor that was checked, at
// `<podDir>/volume-subpaths/<volume>/<container>/<index>`, a path no container can reach.
import { closeSync, constants, fstatSync, openSync, type Stats } from "node:fs";
import { chmod, lstat, mkdir, rmdir, unlink, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { errnoCode, errorMessage } from "@nodelet/runtime-api";
import type { Mounter } from "./mounter.js";

/** Linux's O_PATH (x86_64 and arm64 alike): a descriptor naming an object without opening it. */
const O_PATH = 0o10000000;
const OPEN_COMPONENT = O_PATH | constants.O_NOFOLLOW;

/** Why a subPath was refused; `message` is meant for the container's waiting state. */
export class SubPathError extends Error {
  override readonly name = "SubPathError";
}

export interface SafeSubPathOptions {
  /** The volume's directory on the host (trusted: created or checked by the agent). */
  volumePath: string;
  /** The volumeMount's subPath, relative. */
  subPath: string;
  /** Where the checked object is bind-mounted (created, with its parents, when missing). */
  target: string;
  mounter: Mounter;
  /** Called with the checked descriptor before it is mounted; tests swap the path here. */
  beforeMount?: () => Promise<void> | void;
}

/**
 * Opens `subPath` inside `volumePath` one component at a time, never following a symlink,
 * creating missing directories (with the volume directory's mode), and bind-mounts the object
 * reached at `target`; returns `target`. A `..`, an absolute path, a symlink at any depth or a
 * non-directory in the middle rejects with SubPathError, and nothing is created outside the volume.
 */
export async function mountSafeSubPath(options: SafeSubPathOptions): Promise<string> {
  const { subPath } = options;
  if (isAbsolute(subPath)) throw new SubPathError(`subPath ${JSON.stringify(subPath)} must be relative`);
  const components = subPath.split("/").filter((c) => c !== "" && c !== ".");
  if (components.includes("..")) {
    throw new SubPathError(`subPath ${JSON.stringify(subPath)} must not contain '..'`);
  }
  const held: number[] = [];
  try {
    let fd = openOrThrow(options.volumePath, O_PATH | constants.O_DIRECTORY, "the volume directory");
    held.push(fd);
    const mode = fstatSync(fd).mode & 0o7777;
    let stats = fstatSync(fd);
    for (const [i, name] of components.entries()) {
      const shown = components.slice(0, i + 1).join("/");
      fd = await openComponent(fd, name, shown, mode);
      held.push(fd);
      stats = fstatSync(fd);
      if (stats.isSymbolicLink()) {
        throw new SubPathError(
          `subPath ${JSON.stringify(subPath)}: ${JSON.stringify(shown)} is a symlink; subPath components are never followed`,
        );
      }
      if (i < components.length - 1 && !stats.isDirectory()) {
        throw new SubPathError(
          `subPath ${JSON.stringify(subPath)}: ${JSON.stringify(shown)} is not a directory`,
        );
      }
    }
    await prepareTarget(options.target, stats, options.mounter);
    await options.beforeMount?.();
    try {
      await options.mounter.bindMount(`/proc/${process.pid}/fd/${fd}`, options.target);
    } catch (error) {
      throw new SubPathError(
        `cannot bind-mount the checked subPath ${JSON.stringify(subPath)}: ${errorMessage(error)}`,
      );
    }
    return options.target;
  } finally {
    for (const fd of held) closeSync(fd);
  }
}

function openOrThrow(path: string, flags: number, what: string): number {
  try {
    return openSync(path, flags);
  } catch (error) {
    throw new SubPathError(`cannot open ${what} ${path}: ${errorMessage(error)}`);
  }
}

// openat(parent, name, O_PATH|O_NOFOLLOW) through the parent's /proc/self/fd entry; a missing
// directory is made by mkdirat the same way (mkdir never follows a symlink in the last component).
async function openComponent(parent: number, name: string, shown: string, mode: number): Promise<number> {
  const path = `/proc/self/fd/${parent}/${name}`;
  try {
    return openSync(path, OPEN_COMPONENT);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT")
      throw new SubPathError(`cannot open ${JSON.stringify(shown)}: ${errorMessage(error)}`);
  }
  try {
    await mkdir(path, { mode });
  } catch (error) {
    // EEXIST: a container made it meanwhile; it is opened (and checked) below like any other.
    if (errnoCode(error) !== "EEXIST") {
      throw new SubPathError(
        `cannot create subPath directory ${JSON.stringify(shown)}: ${errorMessage(error)}`,
      );
    }
  }
  const fd = openOrThrow(path, OPEN_COMPONENT, JSON.stringify(shown));
  // mkdir's mode went through the umask; the kubelet gives new subPath directories the volume's mode.
  // chmod through the descriptor's /proc entry reaches the object opened, whatever the path holds now.
  if (fstatSync(fd).isDirectory()) {
    await chmod(`/proc/self/fd/${fd}`, mode).catch((error: unknown) => {
      closeSync(fd);
      throw new SubPathError(`cannot set the mode of ${JSON.stringify(shown)}: ${errorMessage(error)}`);
    });
  }
  return fd;
}

// The mount point has the checked object's type: a directory, or an empty file for anything else.
// A target left mounted by an earlier container instance is unmounted first, so what is mounted
// is always what was checked this time.
async function prepareTarget(target: string, checked: Stats, mounter: Mounter): Promise<void> {
  for (const point of (await mounter.mountPointsUnder(target)).reverse()) await mounter.unmount(point.path);
  const existing = await lstat(target).catch((error: unknown) => {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw error;
  });
  if (existing !== undefined && existing.isDirectory() !== checked.isDirectory()) {
    await (existing.isDirectory() ? rmdir(target) : unlink(target));
  }
  await mkdir(dirname(target), { recursive: true, mode: 0o750 });
  if (checked.isDirectory()) await mkdir(target, { recursive: true, mode: 0o750 });
  else await writeFile(target, "", { flag: "a", mode: 0o640 });
}

/** `<podDir>/volume-subpaths/<volume>/<container>/<index>`, the kubelet's subPath mount point. */
export function subPathTarget(podDir: string, volume: string, container: string, index: number): string {
  return join(podDir, "volume-subpaths", volume, container, String(index));
}
