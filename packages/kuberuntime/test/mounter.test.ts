import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHostMounter, type Mounter, unmountAllUnder } from "../src/mounter.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "nodelet-mounter-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MOUNTINFO = [
  "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
  "90 22 0:50 / /var/lib/n/pods/u1/volumes/kubernetes.io~empty-dir/mem rw - tmpfs tmpfs rw,size=16384k",
  "91 22 8:1 /data/sub /var/lib/n/pods/u1/volume-subpaths/data/app/0 rw - ext4 /dev/sda1 rw",
  "92 91 8:1 /x /var/lib/n/pods/u1/volume-subpaths/data/app/0 rw - ext4 /dev/sda1 rw",
  "93 22 8:1 /y /var/lib/n/pods/u10/with\\040space rw - ext4 /dev/sda1 rw",
  "",
].join("\n");

describe("createHostMounter", () => {
  it("runs mount(8) without canonicalising, umount(8), and lists mounts below a directory only", async () => {
    const calls: string[][] = [];
    const mountinfo = join(dir, "mountinfo");
    await writeFile(mountinfo, MOUNTINFO);
    const mounter = createHostMounter({
      run: async (file, args) => {
        calls.push([file, ...args]);
      },
      mountInfoPath: mountinfo,
    });
    await mounter.bindMount("/proc/1/fd/7", "/t");
    await mounter.mountTmpfs("/m", 1024);
    await mounter.mountTmpfs("/m2");
    await mounter.unmount("/t");
    expect(calls).toEqual([
      ["mount", "--no-canonicalize", "--bind", "/proc/1/fd/7", "/t"],
      ["mount", "--no-canonicalize", "-t", "tmpfs", "-o", "size=1024", "tmpfs", "/m"],
      ["mount", "--no-canonicalize", "-t", "tmpfs", "tmpfs", "/m2"],
      ["umount", "/t"],
    ]);
    // u1 only: not u10, whose name merely starts the same way.
    expect((await mounter.mountPointsUnder("/var/lib/n/pods/u1")).map((m) => m.path)).toEqual([
      "/var/lib/n/pods/u1/volumes/kubernetes.io~empty-dir/mem",
      "/var/lib/n/pods/u1/volume-subpaths/data/app/0",
      "/var/lib/n/pods/u1/volume-subpaths/data/app/0",
    ]);
  });

  it("rejects with the command's stderr when it fails", async () => {
    const mounter = createHostMounter();
    await expect(mounter.unmount(join(dir, "not-mounted"))).rejects.toThrow(/^umount .*not-mounted: /);
  });
});

describe("unmountAllUnder", () => {
  it("unmounts deepest and newest first, tries every mount and rejects with the first failure", async () => {
    const order: string[] = [];
    const mounter: Mounter = {
      bindMount: async () => {},
      mountTmpfs: async () => {},
      mountPointsUnder: async () => [
        { path: "/p/a", fsType: "ext4" },
        { path: "/p/a/b/c", fsType: "ext4" },
        { path: "/p/a", fsType: "tmpfs" },
        { path: "/p/z", fsType: "ext4" },
      ],
      unmount: async (path) => {
        order.push(path);
        if (path === "/p/z") throw new Error("busy");
      },
    };
    await expect(unmountAllUnder(mounter, "/p")).rejects.toThrow("busy");
    expect(order).toEqual(["/p/a/b/c", "/p/z", "/p/a", "/p/a"]);
  });
});
