// Mounts the kubelet makes on the host for a pod: the bind mounts that pin a checked subPath and
// the tmpfs of an emptyDir with medium Memory, and their removal when the pod is killed. Follows
// k8s.io/mount-utils (the mount(8) and umount(8) binaries, /proc/self/mountinfo for what is
// mounted) and the kubelet's CleanSubPaths / emptyDir TearDown.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { sep } from "node:path";
import { errorMessage, isPathAtOrUnder, type MountInfoEntry, parseMountInfo } from "@nodelet/runtime-api";

/**
 * The host mounts nodelet makes for pods. The default runs mount(8) and umount(8), which needs
 * root (CAP_SYS_ADMIN); a test or an embedding may pass its own.
 */
export interface Mounter {
  /**
   * Bind-mounts `source` on `target` without canonicalising either path, so that a source of
   * `/proc/<pid>/fd/<n>` mounts the object the descriptor holds, not the path it was opened by.
   */
  bindMount(source: string, target: string): Promise<void>;
  /** Mounts a new tmpfs on `target`, limited to `sizeBytes` when given. */
  mountTmpfs(target: string, sizeBytes?: number): Promise<void>;
  unmount(target: string): Promise<void>;
  /** Every mount point at or below `dir`, as the kernel lists them (an absolute, normalised dir). */
  mountPointsUnder(dir: string): Promise<MountPoint[]>;
}

/** A mount point and its file system type (runtime-api's MountInfoEntry). */
export type MountPoint = MountInfoEntry;

/** How a command is run: resolves when it exits 0, rejects otherwise with its stderr. */
export type RunCommand = (file: string, args: readonly string[]) => Promise<void>;

const runCommand: RunCommand = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 60_000 }, (error, _stdout, stderr) => {
      if (error)
        reject(new Error(`${file} ${args.join(" ")}: ${String(stderr).trim() || errorMessage(error)}`));
      else resolve();
    });
  });

export interface HostMounterOptions {
  /** Default: node:child_process.execFile with a 60 s timeout. */
  run?: RunCommand;
  /** Default /proc/self/mountinfo. */
  mountInfoPath?: string;
}

/** The default Mounter: mount(8), umount(8) and /proc/self/mountinfo. */
export function createHostMounter(options: HostMounterOptions = {}): Mounter {
  const run = options.run ?? runCommand;
  const mountInfoPath = options.mountInfoPath ?? "/proc/self/mountinfo";
  return {
    bindMount: (source, target) => run("mount", ["--no-canonicalize", "--bind", source, target]),
    mountTmpfs: (target, sizeBytes) =>
      run("mount", [
        "--no-canonicalize",
        "-t",
        "tmpfs",
        ...(sizeBytes === undefined ? [] : ["-o", `size=${sizeBytes}`]),
        "tmpfs",
        target,
      ]),
    unmount: (target) => run("umount", [target]),
    async mountPointsUnder(dir) {
      return parseMountInfo(await readFile(mountInfoPath, "utf8")).filter((m) =>
        isPathAtOrUnder(m.path, dir),
      );
    },
  };
}

/**
 * Unmounts every mount point below `dir`, deepest first (a mount can be stacked: each is undone).
 * Returns the paths unmounted; the first failure rejects after the others were tried.
 */
export async function unmountAllUnder(mounter: Mounter, dir: string): Promise<string[]> {
  const points = (await mounter.mountPointsUnder(dir)).map((m) => m.path);
  // Reverse mount order, then deepest first: a later mount may sit on top of an earlier one.
  const order = points.reverse().sort((a, b) => b.split(sep).length - a.split(sep).length);
  const done: string[] = [];
  let failure: unknown;
  for (const path of order) {
    try {
      await mounter.unmount(path);
      done.push(path);
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
  return done;
}
