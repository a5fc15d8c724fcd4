import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MountPropagation } from "@nodelet/cri-api";
import {
  ErrorCode,
  isNodeletError,
  type V1Container,
  type V1Pod,
  type V1Volume,
  type V1VolumeMount,
} from "@nodelet/runtime-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  assertSafePathSegment,
  type MountOptions,
  makeMounts,
  makeTerminationMessageFile,
  podDirectory,
} from "../src/volumes.js";
import { createFakeMounter, type FakeMounter, identityOf } from "./support/fake-mounter.js";

let root: string;
let options: MountOptions;
let mounter: FakeMounter;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "nodelet-volumes-"));
  mounter = createFakeMounter();
  options = {
    rootDir: root,
    podDir: podDirectory(root, "uid-1"),
    mounter,
    nodeAllocatableMemoryBytes: 8 * 2 ** 30,
  };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function setup(volumes: V1Volume[], mounts: V1VolumeMount[], extra: Partial<V1Container> = {}) {
  const container: V1Container = { name: "app", volumeMounts: mounts, ...extra };
  const pod: V1Pod = { metadata: { name: "web", uid: "uid-1" }, spec: { containers: [container], volumes } };
  return { pod, container };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(isNodeletError(error, ErrorCode.CreateContainerConfigError)).toBe(true);
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("path segments", () => {
  it.each(["", ".", "..", "../x", "a/b", "a\0b"])("refuses %j", (value) => {
    expect(() => assertSafePathSegment(value, "pod uid", ErrorCode.InvalidPod)).toThrow(
      /cannot be used in a path/,
    );
  });

  it("builds the pod directory and refuses an escaping uid", () => {
    expect(podDirectory("/var/lib/kubelet", "abc-123")).toBe("/var/lib/kubelet/pods/abc-123");
    expect(() => podDirectory("/var/lib/kubelet", "../../etc")).toThrow(/pod uid/);
  });
});

describe("makeMounts", () => {
  it("creates an emptyDir directory with mode 0777 and mounts it", async () => {
    const { pod, container } = setup(
      [{ name: "cache", emptyDir: {} }],
      [{ name: "cache", mountPath: "/cache" }],
    );
    const mounts = await makeMounts(pod, container, options);
    const dir = join(root, "pods", "uid-1", "volumes", "kubernetes.io~empty-dir", "cache");
    expect(mounts).toHaveLength(1);
    expect(mounts[0]).toMatchObject({
      containerPath: "/cache",
      hostPath: dir,
      readonly: false,
      propagation: MountPropagation.PROPAGATION_PRIVATE,
    });
    expect((await stat(dir)).mode & 0o777).toBe(0o777);
  });

  it("mounts a volume read-only and with propagation as asked", async () => {
    const { pod, container } = setup(
      [{ name: "cache", emptyDir: {} }],
      [
        { name: "cache", mountPath: "/ro", readOnly: true, mountPropagation: "HostToContainer" },
        { name: "cache", mountPath: "/bi", mountPropagation: "Bidirectional" },
      ],
      { securityContext: { privileged: true } },
    );
    const mounts = await makeMounts(pod, container, options);
    expect(mounts.map((m) => [m.containerPath, m.readonly, m.propagation])).toEqual([
      ["/ro", true, MountPropagation.PROPAGATION_HOST_TO_CONTAINER],
      ["/bi", false, MountPropagation.PROPAGATION_BIDIRECTIONAL],
    ]);
  });

  it("refuses Bidirectional propagation for an unprivileged container", async () => {
    const { pod, container } = setup(
      [{ name: "cache", emptyDir: {} }],
      [{ name: "cache", mountPath: "/bi", mountPropagation: "Bidirectional" }],
    );
    expect((await failure(makeMounts(pod, container, options))).message).toMatch(/privileged/);
  });

  it("mounts a Memory emptyDir as a tmpfs sized by the smallest of sizeLimit, pod limit and node memory", async () => {
    const sized = setup(
      [{ name: "shm", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } }],
      [{ name: "shm", mountPath: "/dev/shm" }],
      { resources: { limits: { memory: "128Mi" } } },
    );
    const [mount] = await makeMounts(sized.pod, sized.container, options);
    const dir = join(options.podDir, "volumes", "kubernetes.io~empty-dir", "shm");
    expect(mount?.hostPath).toBe(dir);
    expect(mounter.mounts).toEqual([
      { kind: "tmpfs", source: "tmpfs", target: dir, sizeBytes: 64 * 2 ** 20 },
    ]);
    expect((await stat(dir)).mode & 0o777).toBe(0o777);
    // Mounted once: a second container of the pod reuses it.
    await makeMounts(sized.pod, sized.container, options);
    expect(mounter.mounts).toHaveLength(1);

    mounter.mounts.length = 0;
    const byPod = setup(
      [{ name: "shm", emptyDir: { medium: "Memory" } }],
      [{ name: "shm", mountPath: "/dev/shm" }],
      { resources: { limits: { memory: "32Mi" } } },
    );
    await makeMounts(byPod.pod, byPod.container, options);
    expect(mounter.mounts[0]?.sizeBytes).toBe(32 * 2 ** 20);

    mounter.mounts.length = 0;
    const unlimited = setup(
      [{ name: "shm", emptyDir: { medium: "Memory" } }],
      [{ name: "shm", mountPath: "/m" }],
    );
    await makeMounts(unlimited.pod, unlimited.container, options);
    expect(mounter.mounts[0]?.sizeBytes).toBe(8 * 2 ** 30);
  });

  it("fails with the volume named when the tmpfs cannot be mounted", async () => {
    mounter.mountTmpfs = async () => {
      throw new Error("mount: only root can do that");
    };
    const memory = setup(
      [{ name: "shm", emptyDir: { medium: "Memory" } }],
      [{ name: "shm", mountPath: "/m" }],
    );
    expect((await failure(makeMounts(memory.pod, memory.container, options))).message).toMatch(
      /volume "shm": cannot set up emptyDir directory .*only root can do that/,
    );
  });

  it("refuses a missing volume and an unsupported source", async () => {
    const missing = setup([], [{ name: "nope", mountPath: "/x" }]);
    expect((await failure(makeMounts(missing.pod, missing.container, options))).message).toMatch(
      /cannot find volume "nope" to mount into container "app"/,
    );
    const unsupported = setup([{ name: "secret" }], [{ name: "secret", mountPath: "/x" }]);
    expect((await failure(makeMounts(unsupported.pod, unsupported.container, options))).message).toMatch(
      /volume "secret": has no supported source/,
    );
  });

  it("refuses a pod uid that would leave the root directory", async () => {
    const { pod, container } = setup([], []);
    pod.metadata.uid = "../../etc";
    expect((await failure(makeMounts(pod, container, options))).message).toMatch(/pod uid/);
    pod.metadata.uid = "uid-1";
    expect(
      (
        await failure(
          makeMounts(pod, container, {
            ...options,
            rootDir: join(root, "kubelet"),
            podDir: join(root, "elsewhere"),
          }),
        )
      ).message,
    ).toMatch(/not inside the root directory/);
  });

  describe("hostPath", () => {
    it("creates DirectoryOrCreate and FileOrCreate paths", async () => {
      const dir = join(root, "host", "data");
      const file = join(root, "file.txt");
      const { pod, container } = setup(
        [
          { name: "d", hostPath: { path: dir, type: "DirectoryOrCreate" } },
          { name: "f", hostPath: { path: file, type: "FileOrCreate" } },
        ],
        [
          { name: "d", mountPath: "/data" },
          { name: "f", mountPath: "/etc/file.txt" },
        ],
      );
      const mounts = await makeMounts(pod, container, options);
      expect(mounts.map((m) => m.hostPath)).toEqual([dir, file]);
      expect((await stat(dir)).isDirectory()).toBe(true);
      expect((await stat(file)).isFile()).toBe(true);
    });

    it("passes an untyped path through without looking at it", async () => {
      const { pod, container } = setup(
        [{ name: "h", hostPath: { path: join(root, "not-there") } }],
        [{ name: "h", mountPath: "/h" }],
      );
      expect((await makeMounts(pod, container, options))[0]?.hostPath).toBe(join(root, "not-there"));
    });

    it.each([
      ["Directory", "file", /volume "h": hostPath type check failed: .* is not a directory/],
      ["Directory", "missing", /is not a directory/],
      ["DirectoryOrCreate", "file", /is not a directory/],
      ["File", "dir", /is not a file/],
      ["File", "missing", /is not a file/],
      ["FileOrCreate", "dir", /is not a file/],
      ["Socket", "file", /is not a socket file/],
      ["CharDevice", "file", /is not a character device/],
      ["BlockDevice", "dir", /is not a block device/],
    ] as const)("type %s on a %s fails naming the volume", async (type, what, message) => {
      const paths = { file: join(root, "a-file"), dir: join(root, "a-dir"), missing: join(root, "missing") };
      await writeFile(paths.file, "x");
      await mkdir(paths.dir);
      const { pod, container } = setup(
        [{ name: "h", hostPath: { path: paths[what], type } }],
        [{ name: "h", mountPath: "/h" }],
      );
      expect((await failure(makeMounts(pod, container, options))).message).toMatch(message);
    });

    it("accepts the right kinds of file", async () => {
      const socketPath = join(root, "s.sock");
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(socketPath, resolve));
      try {
        const { pod, container } = setup(
          [
            { name: "s", hostPath: { path: socketPath, type: "Socket" } },
            { name: "c", hostPath: { path: "/dev/null", type: "CharDevice" } },
            { name: "d", hostPath: { path: root, type: "Directory" } },
          ],
          [
            { name: "s", mountPath: "/s" },
            { name: "c", mountPath: "/c" },
            { name: "d", mountPath: "/d" },
          ],
        );
        expect(await makeMounts(pod, container, options)).toHaveLength(3);
      } finally {
        server.close();
      }
    });

    it("refuses a relative hostPath or one with ..", async () => {
      for (const path of ["relative/dir", "/var/../etc"]) {
        const { pod, container } = setup(
          [{ name: "h", hostPath: { path } }],
          [{ name: "h", mountPath: "/h" }],
        );
        expect((await failure(makeMounts(pod, container, options))).message).toMatch(/absolute path without/);
      }
    });
  });

  describe("subPath", () => {
    it("creates the subPath inside the volume and mounts it through its checked bind mount", async () => {
      const { pod, container } = setup(
        [{ name: "cache", emptyDir: {} }],
        [
          { name: "cache", mountPath: "/whole" },
          { name: "cache", mountPath: "/cfg", subPath: "conf/app" },
        ],
      );
      const [, mount] = await makeMounts(pod, container, options);
      const created = join(options.podDir, "volumes", "kubernetes.io~empty-dir", "cache", "conf", "app");
      const target = join(options.podDir, "volume-subpaths", "cache", "app", "1");
      expect(mount?.hostPath).toBe(target);
      expect((await stat(created)).isDirectory()).toBe(true);
      expect(mounter.mounts).toMatchObject([
        { kind: "bind", target, identity: identityOf(await stat(created)) },
      ]);
    });

    it.each([
      ["../escape", /must not contain '\.\.'/],
      ["a/../../b", /must not contain '\.\.'/],
      ["/etc", /must be relative/],
    ])("refuses %j", async (subPath, message) => {
      const { pod, container } = setup(
        [{ name: "cache", emptyDir: {} }],
        [{ name: "cache", mountPath: "/x", subPath }],
      );
      const error = await failure(makeMounts(pod, container, options));
      expect(error.message).toMatch(/^container "app": volume "cache": failed to prepare subPath: /);
      expect(error.message).toMatch(message);
    });

    it("refuses a subPath through a symlink, even one that stays in the volume", async () => {
      const volume = join(root, "vol");
      await mkdir(join(volume, "real"), { recursive: true });
      await symlink("/etc", join(volume, "link"));
      await symlink("real", join(volume, "inner"));
      for (const subPath of ["link", "inner/x"]) {
        const { pod, container } = setup(
          [{ name: "h", hostPath: { path: volume, type: "Directory" } }],
          [{ name: "h", mountPath: "/x", subPath }],
        );
        expect((await failure(makeMounts(pod, container, options))).message).toMatch(
          /is a symlink; subPath components are never followed/,
        );
      }
      expect(mounter.mounts).toEqual([]);
    });
  });
});

describe("makeTerminationMessageFile", () => {
  it("creates a 0666 file named by the random hex and mounts it at the path", async () => {
    const mount = await makeTerminationMessageFile(options.podDir, "app", "/dev/termination-log", {
      randomHex: () => "0badcafe",
    });
    const file = join(options.podDir, "containers", "app", "0badcafe");
    expect(mount).toMatchObject({ hostPath: file, containerPath: "/dev/termination-log", readonly: false });
    const info = await stat(file);
    expect(info.isFile()).toBe(true);
    expect(info.size).toBe(0);
    expect(info.mode & 0o777).toBe(0o666);
  });

  it("uses 8 random hex digits and a new file for each instance", async () => {
    await makeTerminationMessageFile(options.podDir, "app", "/tmp/msg");
    await makeTerminationMessageFile(options.podDir, "app", "");
    const names = await readdir(join(options.podDir, "containers", "app"));
    expect(names).toHaveLength(2);
    for (const name of names) expect(name).toMatch(/^[0-9a-f]{8}$/);
  });

  it("defaults the container path and refuses escaping names", async () => {
    const mount = await makeTerminationMessageFile(options.podDir, "app", "", {
      randomHex: () => "00000001",
    });
    expect(mount.containerPath).toBe("/dev/termination-log");
    await failure(makeTerminationMessageFile(options.podDir, "../app", "/x"));
    await failure(makeTerminationMessageFile(options.podDir, "app", "/x", { randomHex: () => "../../x" }));
  });
});
