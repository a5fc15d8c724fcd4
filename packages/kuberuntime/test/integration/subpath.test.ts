// subPath escapes against containerd: symlinks planted in a shared emptyDir at every depth, a
// container racing to swap a symlink in, and the deterministic swap between check and mount.
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ErrorCode, findContainerStatusByName, type V1Pod } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHostMounter } from "../../src/mounter.js";
import { mountSafeSubPath } from "../../src/subpath.js";
import { busybox, createHarness, type Harness } from "./support.js";

let h: Harness;
let outside: string;
beforeAll(async () => {
  h = await createHarness();
  outside = await mkdtemp(join(tmpdir(), "nodelet-kr-outside-"));
  await writeFile(join(outside, "secret"), "host data\n");
});
afterAll(async () => {
  await h.cleanup();
  await rm(outside, { recursive: true, force: true });
});

/** The host directory of the pod's emptyDir `name`, made before the pod starts (0777, like the plugin). */
async function emptyDirOf(pod: V1Pod, name: string): Promise<string> {
  const dir = join(h.rootDir, "pods", pod.metadata.uid ?? "", "volumes", "kubernetes.io~empty-dir", name);
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o777);
  return dir;
}

async function exec(pod: V1Pod, container: string, cmd: string[]): Promise<string> {
  const status = findContainerStatusByName(await h.status(pod), container);
  if (status === undefined) throw new Error(`no status for ${container}`);
  return (await h.manager.runInContainer(status.id, cmd, 20)).toString();
}

describe("subPath escapes against containerd", () => {
  it("refuses symlinks out of the volume at every depth, and only those containers", async () => {
    const mount = (subPath: string) => [{ name: "data", mountPath: "/m", subPath }];
    const pod = h.pod("subpath-escape", [
      busybox(h.env, "ok", ["sh", "-c", "echo inside > /m/file; sleep 3600"], {
        volumeMounts: mount("nested/deep/dir"),
      }),
      busybox(h.env, "abs0", ["sleep", "3600"], { volumeMounts: mount("abs/new") }),
      busybox(h.env, "rel1", ["sleep", "3600"], { volumeMounts: mount("a/rel/new/deeper") }),
      busybox(h.env, "last2", ["sleep", "3600"], { volumeMounts: mount("a/b/last") }),
      busybox(h.env, "other", ["sleep", "3600"]),
    ]);
    pod.spec.volumes = [{ name: "data", emptyDir: {} }];
    const volume = await emptyDirOf(pod, "data");
    await mkdir(join(volume, "a", "b"), { recursive: true });
    await symlink(outside, join(volume, "abs")); // absolute, at depth 0
    await symlink(relative(join(volume, "a"), outside), join(volume, "a", "rel")); // relative, depth 1
    await symlink(outside, join(volume, "a", "b", "last")); // the last component, depth 2

    const result = await h.sync(pod);
    const errors = Object.fromEntries(
      result.syncResults.filter((r) => r.action === "StartContainer").map((r) => [r.target, r]),
    );
    for (const [name, link] of [
      ["abs0", "abs"],
      ["rel1", "a/rel"],
      ["last2", "a/b/last"],
    ] as const) {
      expect(errors[name]?.error).toBe(ErrorCode.CreateContainerConfigError);
      expect(errors[name]?.message).toContain(`volume "data": failed to prepare subPath`);
      expect(errors[name]?.message).toContain(`"${link}" is a symlink`);
    }
    expect(errors.ok?.error).toBeUndefined();
    expect(errors.other?.error).toBeUndefined();
    expect(await readdir(outside)).toEqual(["secret"]); // nothing made outside the volume

    await h.waitFor("ok to write into its subPath", async () => {
      const text = await readFile(join(volume, "nested", "deep", "dir", "file"), "utf8").catch(() => "");
      return text === "inside\n";
    });
    expect((await exec(pod, "ok", ["cat", "/m/file"])).trim()).toBe("inside");
  });

  it("refuses a subPath with '..' before anything is created", async () => {
    const pod = h.pod(
      "subpath-dotdot",
      [
        busybox(h.env, "app", ["sleep", "3600"], {
          volumeMounts: [{ name: "data", mountPath: "/m", subPath: "a/../../../outside" }],
        }),
      ],
      { volumes: [{ name: "data", emptyDir: {} }] },
    );
    const result = await h.sync(pod);
    expect(result.syncError?.code).toBe(ErrorCode.InvalidPod);
    expect(result.syncError?.message).toContain("spec.containers[0].volumeMounts[0].subPath");
    expect(result.syncError?.message).toContain("must not contain '..'");
    expect((await h.status(pod)).sandboxStatuses).toEqual([]);
    expect(await readdir(outside)).toEqual(["secret"]);
  });

  it("never mounts what a racing container swaps in", async () => {
    // The racer flips /data/sub between a directory, nothing and a symlink to the host directory.
    const racer = busybox(h.env, "racer", [
      "sh",
      "-c",
      `while true; do mkdir /data/sub; rmdir /data/sub; ln -s ${outside} /data/sub; rm -f /data/sub; done 2>/dev/null`,
    ]);
    racer.volumeMounts = [{ name: "data", mountPath: "/data" }];
    const victims = Array.from({ length: 6 }, (_, i) =>
      busybox(h.env, `victim${i}`, ["sleep", "3600"], {
        volumeMounts: [{ name: "data", mountPath: "/m", subPath: "sub" }],
      }),
    );
    const pod = h.pod("subpath-race", [racer], { volumes: [{ name: "data", emptyDir: {} }] });
    await h.sync(pod);
    await h.waitFor("the racer to run", async () =>
      findContainerStatusByName(await h.status(pod), "racer")?.state === "running" ? true : undefined,
    );
    const racing = { ...pod, spec: { ...pod.spec, containers: [racer, ...victims] } };
    const result = await h.sync(racing);
    for (const victim of victims) {
      const step = result.syncResults.find((r) => r.action === "StartContainer" && r.target === victim.name);
      if (step?.error !== undefined) {
        // Refused at the check (a symlink, or the directory vanished under the walk), or the runtime
        // could not mount a checked directory the racer had removed since: never followed.
        expect([
          ErrorCode.CreateContainerConfigError,
          ErrorCode.CreateContainerError,
          ErrorCode.RunContainerError,
        ]).toContain(step.error);
        continue;
      }
      const listing = await exec(pod, victim.name, ["ls", "-a", "/m"]).catch(() => "");
      expect(listing).not.toContain("secret");
    }
    expect(await readdir(outside)).toEqual(["secret"]);
    // Stop the racer's busy loop now rather than at the end of the file.
    const running = (await h.manager.getPods(true)).find((p) => p.id === pod.metadata.uid);
    if (running) await h.manager.killPod(racing, running, 0);
  });

  it("bind-mounts the checked directory even when a symlink replaces it before the mount", async () => {
    const pod = h.pod("subpath-swap", [busybox(h.env, "app", ["sleep", "3600"])]);
    const base = join(h.rootDir, "pods", pod.metadata.uid ?? "");
    const volume = join(base, "volumes", "kubernetes.io~empty-dir", "data");
    await mkdir(join(volume, "sub"), { recursive: true });
    await writeFile(join(volume, "sub", "checked"), "the checked directory\n");
    const target = join(base, "volume-subpaths", "data", "app", "0");
    const mounter = createHostMounter();
    await mountSafeSubPath({
      volumePath: volume,
      subPath: "sub",
      target,
      mounter,
      beforeMount: async () => {
        await rename(join(volume, "sub"), join(volume, "moved"));
        await symlink(outside, join(volume, "sub"));
      },
    });
    try {
      expect(await readdir(target)).toEqual(["checked"]);
      // What the container gets is that mount, by its host path.
      pod.spec.volumes = [{ name: "pinned", hostPath: { path: target, type: "Directory" } }];
      pod.spec.containers[0] = busybox(h.env, "app", ["sleep", "3600"], {
        volumeMounts: [{ name: "pinned", mountPath: "/m" }],
      });
      expect((await h.sync(pod)).error()).toBeUndefined();
      expect((await exec(pod, "app", ["ls", "/m"])).trim()).toBe("checked");
    } finally {
      const running = (await h.manager.getPods(true)).find((p) => p.id === pod.metadata.uid);
      if (running) await h.manager.killPod(pod, running, 0); // unmounts everything below the pod dir
    }
    expect((await mounter.mountPointsUnder(base)).map((m) => m.path)).toEqual([]);
  });
});
