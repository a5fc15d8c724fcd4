import { lstat, mkdir, mkdtemp, readdir, realpath, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeTree } from "@nodelet/container-gc";
import { noopLogger } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { parseFlags } from "../src/flags.js";
import { createAgentPodState, gcPolicyOf } from "../src/gc-loops.js";
import { cleanupPodDirectories } from "../src/pod-cleanup.js";

async function tree() {
  const root = await realpath(await mkdtemp(join(tmpdir(), "nodelet-pod-cleanup-")));
  const outside = await mkdtemp(join(tmpdir(), "nodelet-pod-cleanup-outside-"));
  await writeFile(join(outside, "precious"), "keep me");
  const pods = join(root, "pods");
  for (const uid of ["uid-gone", "uid-live", "uid-busy", "uid-mounted"]) {
    await mkdir(join(pods, uid, "volumes", "kubernetes.io~empty-dir", "data"), { recursive: true });
    await writeFile(join(pods, uid, "volumes", "kubernetes.io~empty-dir", "data", "file"), "x");
  }
  // Symlinks out of the pod directory: removed as links, never followed.
  await symlink(outside, join(pods, "uid-gone", "volumes", "escape"));
  await symlink(join(outside, "precious"), join(pods, "uid-gone", "link-to-file"));
  await symlink(outside, join(pods, "uid-link"));
  const mountinfo = join(root, "mountinfo");
  const mountPoint = join(pods, "uid-mounted", "volumes", "kubernetes.io~empty-dir", "data");
  await writeFile(
    mountinfo,
    [
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
      `99 22 0:50 / ${mountPoint.replaceAll(" ", "\\040")} rw,relatime - tmpfs tmpfs rw`,
      "",
    ].join("\n"),
  );
  return { root, pods, outside, mountinfo };
}

describe("cleanupPodDirectories", () => {
  it("removes the directories of pods that are gone, never through a symlink, never under a mount", async () => {
    const t = await tree();
    const result = await cleanupPodDirectories({
      rootDir: t.root,
      shouldRemove: (uid) => uid !== "uid-live",
      runtimeUids: new Set(["uid-busy"]),
      logger: noopLogger,
      mountInfoPath: t.mountinfo,
    });
    expect(result.removed.sort()).toEqual(["uid-gone", "uid-link"]);
    expect([...result.kept.keys()]).toEqual(["uid-mounted"]);
    expect(result.kept.get("uid-mounted")).toMatch(/still mounted/);
    expect((await readdir(t.pods)).sort()).toEqual(["uid-busy", "uid-live", "uid-mounted"]);
    expect(await readdir(t.outside)).toEqual(["precious"]);
    expect((await lstat(join(t.outside, "precious"))).isFile()).toBe(true);
  });

  it("does nothing when there is no pods directory", async () => {
    const root = await mkdtemp(join(tmpdir(), "nodelet-pod-cleanup-empty-"));
    const result = await cleanupPodDirectories({
      rootDir: root,
      shouldRemove: () => true,
      runtimeUids: new Set(),
      logger: noopLogger,
      mountInfoPath: "/nonexistent",
    });
    expect(result.removed).toEqual([]);
  });

  it("stops at a directory on another device", async () => {
    // /proc is another file system than the temp directory: a stand-in for a mount.
    const dir = await mkdtemp(join(tmpdir(), "nodelet-pod-cleanup-dev-"));
    const procDev = (await lstat("/proc")).dev;
    expect(procDev).not.toBe((await lstat(dir)).dev);
    await expect(removeTree("/proc/self/fdinfo", (await lstat(dir)).dev)).rejects.toMatchObject({
      code: "Mounted",
    });
  });
});

describe("the agent's pod state and GC flags", () => {
  it("keeps known pods, removes unknown ones only once every source has been read", () => {
    let ready = false;
    const known = new Set(["uid-a", "uid-done"]);
    const state = createAgentPodState({
      known: (uid) => known.has(uid),
      terminal: (uid) => uid === "uid-done",
      allSourcesReady: () => ready,
    });
    expect(state.shouldPodContentBeRemoved("uid-gone")).toBe(false);
    ready = true;
    expect(state.shouldPodContentBeRemoved("uid-gone")).toBe(true);
    expect(state.shouldPodContentBeRemoved("uid-a")).toBe(false);
    expect(state.shouldPodRuntimeBeRemoved("uid-a")).toBe(false);
    expect(state.shouldPodRuntimeBeRemoved("uid-done")).toBe(true);
    expect(state.shouldPodContentBeRemoved("uid-done")).toBe(false);
  });

  it("reads the three GC flags, with the kubelet's defaults", () => {
    expect(gcPolicyOf({})).toEqual({ minAgeMs: 0, maxPerPodContainer: 1, maxContainers: -1 });
    const { overrides } = parseFlags([
      "--minimum-container-ttl-duration=1m30s",
      "--maximum-dead-containers-per-container=-1",
      "--maximum-dead-containers",
      "100",
    ]);
    expect(gcPolicyOf(overrides)).toEqual({ minAgeMs: 90_000, maxPerPodContainer: -1, maxContainers: 100 });
  });

  it("rejects bad GC flags naming the flag", () => {
    for (const argv of [
      ["--minimum-container-ttl-duration=soon"],
      ["--minimum-container-ttl-duration=-1s"],
      ["--maximum-dead-containers-per-container=-2"],
      ["--maximum-dead-containers=many"],
    ]) {
      expect(() => parseFlags(argv)).toThrow(argv[0]?.split("=")[0] ?? "");
    }
  });
});
