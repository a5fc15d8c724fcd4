import { readFile } from "node:fs/promises";
import { run } from "./exec.js";
import type { Logger } from "./log.js";

// mountinfo escapes space, tab, newline and backslash as 3-digit octal.
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

export interface MountEntry {
  mountPoint: string;
  fsType: string;
}

export async function readMounts(): Promise<MountEntry[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  const entries: MountEntry[] = [];
  for (const line of info.split("\n")) {
    const fields = line.split(" ");
    const mountPoint = fields[4];
    // Optional fields end with a lone "-"; the filesystem type follows it.
    const sep = fields.indexOf("-");
    if (mountPoint === undefined || sep < 0) continue;
    entries.push({ mountPoint: unescapeMountPath(mountPoint), fsType: fields[sep + 1] ?? "" });
  }
  return entries;
}

export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return (await readMounts()).map((m) => m.mountPoint).filter((p) => p.startsWith(prefix));
}

/**
 * Lazily unmounts everything below `dir` (pod netns bind mounts, container rootfs overlays, shm),
 * deepest first, repeating for stacked mounts, so the state dir can be deleted afterwards.
 */
export async function unmountAllUnder(dir: string, log: Logger): Promise<void> {
  for (let pass = 0; pass < 5; pass++) {
    const mounts = [...new Set(await mountsUnder(dir))];
    if (mounts.length === 0) return;
    if (pass === 0) log.info(`unmounting ${mounts.length} mount(s) under ${dir}`);
    mounts.sort((a, b) => b.split("/").length - a.split("/").length || b.length - a.length);
    for (const mount of mounts) await run("umount", ["-l", mount]);
  }
  const left = await mountsUnder(dir);
  if (left.length > 0) log.warn(`still mounted: ${left.join(", ")}`);
}
