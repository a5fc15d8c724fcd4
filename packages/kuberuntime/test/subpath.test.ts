// subPath safety on the real filesystem (the walk, the directories it creates, what it would
// mount); the mount itself is recorded by a double. Against containerd: test/integration/subpath.test.ts.
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mountSafeSubPath, SubPathError } from "../src/subpath.js";
import { createFakeMounter, type FakeMounter, identityOf } from "./support/fake-mounter.js";

let root: string;
let volume: string;
let outside: string;
let target: string;
let mounter: FakeMounter;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "nodelet-subpath-"));
  volume = join(root, "volume");
  outside = join(root, "outside");
  target = join(root, "pod", "volume-subpaths", "v", "app", "0");
  await mkdir(volume);
  await chmod(volume, 0o777); // an emptyDir's mode, past the umask
  await mkdir(outside);
  await writeFile(join(outside, "secret"), "host data");
  mounter = createFakeMounter();
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const mount = (subPath: string, beforeMount?: () => Promise<void>) =>
  mountSafeSubPath({ volumePath: volume, subPath, target, mounter, ...(beforeMount ? { beforeMount } : {}) });

async function refused(subPath: string): Promise<SubPathError> {
  const error = await mount(subPath).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SubPathError);
  expect(mounter.mounts).toEqual([]);
  return error as SubPathError;
}

describe("mountSafeSubPath", () => {
  it("creates a missing nested directory inside the volume and mounts that directory", async () => {
    expect(await mount("a/b/c")).toBe(target);
    const created = join(volume, "a", "b", "c");
    expect((await stat(created)).isDirectory()).toBe(true);
    expect((await stat(created)).mode & 0o777).toBe(0o777); // the volume's mode, whatever the umask
    expect(mounter.mounts).toEqual([
      {
        kind: "bind",
        source: expect.stringMatching(/^\/proc\/\d+\/fd\/\d+$/),
        target,
        identity: identityOf(await stat(created)),
      },
    ]);
    expect((await stat(target)).isDirectory()).toBe(true);
  });

  it("mounts an existing file onto a file mount point, and the volume itself for '.'", async () => {
    await mkdir(join(volume, "conf"));
    await writeFile(join(volume, "conf", "app.ini"), "x=1");
    await mount("conf/app.ini");
    expect((await stat(target)).isFile()).toBe(true);
    expect(mounter.mounts[0]?.identity).toBe(identityOf(await stat(join(volume, "conf", "app.ini"))));
    await mount("./");
    expect(mounter.unmounted).toEqual([target]); // the earlier mount is replaced, not stacked
    expect(mounter.mounts.map((m) => m.identity)).toEqual([identityOf(await stat(volume))]);
    expect((await stat(target)).isDirectory()).toBe(true);
  });

  it.each(["../x", "a/../../x", "a/.."])("refuses %j", async (subPath) => {
    expect((await refused(subPath)).message).toMatch(/must not contain '\.\.'/);
  });

  it("refuses an absolute subPath", async () => {
    expect((await refused("/etc")).message).toMatch(/must be relative/);
  });

  describe.each([
    ["absolute", () => outside],
    ["relative", (at: string) => relative(at, outside)],
  ])("a %s symlink", (_kind, linkTo) => {
    it.each([
      ["at depth 0, then a missing directory", "", "link/new"],
      ["at depth 1, then a missing directory", "a", "a/link/new/deeper"],
      ["at depth 2 as the last component", "a/b", "a/b/link"],
    ])("%s is refused and nothing is created outside", async (_what, parent, subPath) => {
      const dir = join(volume, parent);
      await mkdir(dir, { recursive: true });
      await symlink(linkTo(dir), join(dir, "link"));
      const error = await refused(subPath);
      expect(error.message).toContain(`"${parent === "" ? "link" : `${parent}/link`}" is a symlink`);
      expect(await readdir(outside)).toEqual(["secret"]);
    });
  });

  it("refuses a symlink to a directory inside the volume too (never followed)", async () => {
    await mkdir(join(volume, "real"));
    await symlink("real", join(volume, "alias"));
    expect((await refused("alias/x")).message).toContain('"alias" is a symlink');
    expect(await readdir(join(volume, "real"))).toEqual([]);
  });

  it("refuses a file in the middle of the path", async () => {
    await writeFile(join(volume, "file"), "");
    expect((await refused("file/x")).message).toContain('"file" is not a directory');
  });

  it("mounts what it checked when a symlink is swapped in before the mount", async () => {
    await mkdir(join(volume, "data"));
    const checked = identityOf(await stat(join(volume, "data")));
    // A racing container renames the checked directory and plants a symlink to the host in its place.
    await mount("data", async () => {
      await rename(join(volume, "data"), join(volume, "moved"));
      await symlink(outside, join(volume, "data"));
    });
    expect(mounter.mounts[0]?.identity).toBe(checked);
    expect(mounter.mounts[0]?.identity).not.toBe(identityOf(await stat(outside)));
  });

  it("reports a mount failure as a SubPathError", async () => {
    mounter.bindMount = async () => {
      throw new Error("mount: permission denied");
    };
    await expect(mount("x")).rejects.toThrow(
      /cannot bind-mount the checked subPath "x": mount: permission denied/,
    );
  });
});
