// A Mounter double for unit tests: records what would be mounted and, for a bind mount of a
// /proc/<pid>/fd/<n> source, the identity (device, inode) of the object the descriptor holds at
// that moment, which is what the kernel would mount.
import { stat } from "node:fs/promises";
import type { Mounter, MountPoint } from "../../src/mounter.js";

export interface RecordedMount {
  kind: "bind" | "tmpfs";
  source: string;
  target: string;
  sizeBytes?: number;
  /** `<dev>:<ino>` of the bind source, as stat through the descriptor saw it. */
  identity?: string;
}

export interface FakeMounter extends Mounter {
  mounts: RecordedMount[];
  unmounted: string[];
}

export function identityOf(info: { dev: number; ino: number }): string {
  return `${info.dev}:${info.ino}`;
}

export function createFakeMounter(): FakeMounter {
  const mounts: RecordedMount[] = [];
  const unmounted: string[] = [];
  const active = (): MountPoint[] =>
    mounts.map((m) => ({ path: m.target, fsType: m.kind === "tmpfs" ? "tmpfs" : "ext4" }));
  return {
    mounts,
    unmounted,
    async bindMount(source, target) {
      mounts.push({ kind: "bind", source, target, identity: identityOf(await stat(source)) });
    },
    async mountTmpfs(target, sizeBytes) {
      mounts.push({
        kind: "tmpfs",
        source: "tmpfs",
        target,
        ...(sizeBytes === undefined ? {} : { sizeBytes }),
      });
    },
    async unmount(target) {
      const i = mounts.map((m) => m.target).lastIndexOf(target);
      if (i === -1) throw new Error(`${target}: not mounted`);
      mounts.splice(i, 1);
      unmounted.push(target);
    },
    async mountPointsUnder(dir) {
      return active().filter((m) => m.path === dir || m.path.startsWith(`${dir}/`));
    },
  };
}
