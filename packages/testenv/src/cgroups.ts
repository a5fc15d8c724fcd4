import { mkdir, readFile } from "node:fs/promises";
import { run } from "./exec.js";
import type { Logger } from "./log.js";
import { readMounts } from "./mounts.js";

const CGROUP_ROOT = "/sys/fs/cgroup";
const UNIFIED = `${CGROUP_ROOT}/unified`;

/**
 * crun refuses hybrid cgroup hosts whose cgroup2 hierarchy still has controllers ("cgroups in hybrid
 * mode not supported, drop all controllers from cgroupv2"); on these VMs hugetlb is left there.
 * Mounting such controllers as v1 hierarchies empties cgroup2, which crun accepts and runc does not
 * mind. This is host-wide and stays until reboot; returns a warning when it cannot be done.
 */
export async function prepareCgroupsForCrun(log: Logger): Promise<string | undefined> {
  const mounts = await readMounts();
  const hybrid = mounts.some((m) => m.mountPoint === UNIFIED && m.fsType === "cgroup2");
  if (!hybrid) return undefined;
  let controllers: string[];
  try {
    controllers = (await readFile(`${UNIFIED}/cgroup.controllers`, "utf8"))
      .trim()
      .split(/\s+/)
      .filter(Boolean);
  } catch {
    return undefined;
  }
  if (controllers.length === 0) return undefined;
  log.info(
    `hybrid cgroups: mounting ${controllers.join(", ")} as cgroup v1 so the crun runtime handler works`,
  );
  const failed: string[] = [];
  for (const controller of controllers) {
    const target = `${CGROUP_ROOT}/${controller}`;
    if (mounts.some((m) => m.mountPoint === target)) continue;
    try {
      await mkdir(target, { recursive: true });
    } catch {
      // mount below reports the real problem
    }
    const result = await run("mount", ["-t", "cgroup", "-o", controller, "cgroup", target]);
    if (result.code !== 0) failed.push(`${controller}: ${result.stderr.trim()}`);
  }
  return failed.length > 0
    ? `crun pods will fail on this host; could not move cgroup controllers off cgroup2 (${failed.join("; ")})`
    : undefined;
}
