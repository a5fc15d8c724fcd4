import { execFileSync } from "node:child_process";
import { appendFile, mkdtemp, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, isNodeletError, type NodeletError } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeReadFs, type ReadFs } from "../src/sources/document.js";
import { manifestKind, parsePodManifest, readManifestFile } from "../src/sources/manifest-file.js";
import { toStaticPod } from "../src/static-pod.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "nodelet-manifest-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const POD_YAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: nginx
    image: nginx:1.27
`;

async function write(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function failure(promise: Promise<unknown>): Promise<NodeletError> {
  try {
    await promise;
  } catch (err) {
    expect(isNodeletError(err, ErrorCode.InvalidPod)).toBe(true);
    return err as NodeletError;
  }
  throw new Error("expected a failure");
}

describe("readManifestFile", () => {
  it("reads a YAML Pod", async () => {
    const manifest = await readManifestFile(await write("web.yaml", POD_YAML));
    expect(manifest).toEqual({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web" },
      spec: { containers: [{ name: "nginx", image: "nginx:1.27" }] },
    });
  });

  it("reads a JSON Pod, whatever the file is called", async () => {
    const json = JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web" },
      spec: { containers: [] },
    });
    expect((await readManifestFile(await write("web", json))).kind).toBe("Pod");
  });

  it("reads a regular file through a symlink", async () => {
    const target = await write("target.yaml", POD_YAML);
    const link = join(dir, "link.yaml");
    await symlink(target, link);
    expect((await readManifestFile(link)).metadata).toEqual({ name: "web" });
  });

  it("reports invalid YAML with the file, line and column", async () => {
    const path = await write("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [web\nspec: {}\n");
    expect((await failure(readManifestFile(path))).message).toMatch(
      new RegExp(`^${path}: invalid YAML at line \\d+, column \\d+: .+`),
    );
  });

  it("leaves a Pod without containers to validation, which names the field", async () => {
    const path = await write(
      "empty.yaml",
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n",
    );
    const manifest = await readManifestFile(path);
    let error: unknown;
    try {
      toStaticPod(manifest, { source: "file", sourceName: path, nodeName: "n", seenAt: new Date(0) });
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).toBe(
      `${path}: invalid pod: spec.containers: must have at least one container`,
    );
  });

  it("refuses another kind or apiVersion, naming the file", async () => {
    const deployment = await write(
      "deploy.yaml",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
    );
    expect((await failure(readManifestFile(deployment))).message).toBe(
      `${deployment}: kind "Deployment" is not supported: nodelet runs Pod manifests`,
    );
    const noKind = await write("nokind.yaml", "apiVersion: v1\nmetadata:\n  name: web\n");
    expect((await failure(readManifestFile(noKind))).message).toBe(
      `${noKind}: kind is missing: expected "Pod" with apiVersion "v1"`,
    );
    const v2 = await write("v2.yaml", "apiVersion: v2\nkind: Pod\nmetadata:\n  name: web\n");
    expect((await failure(readManifestFile(v2))).message).toBe(
      `${v2}: apiVersion "v2": a Pod is apiVersion "v1"`,
    );
    const list = await write("list.yaml", "- a\n- b\n");
    expect((await failure(readManifestFile(list))).message).toContain("must be a manifest (a mapping");
  });

  it("refuses more than one document: one Pod per file", async () => {
    const path = await write("two.yaml", `${POD_YAML}---\n${POD_YAML}`);
    expect((await failure(readManifestFile(path))).message).toBe(
      `${path}: holds 2 YAML documents: nodelet reads one Pod per file`,
    );
    const trailing = await write("trailing.yaml", `${POD_YAML}---\n# nothing more\n`);
    expect((await readManifestFile(trailing)).kind).toBe("Pod");
  });

  it("refuses an empty file", async () => {
    const path = await write("blank.yaml", "# just a comment\n");
    expect((await failure(readManifestFile(path))).message).toBe(
      `${path}: is empty: expected a Pod manifest`,
    );
  });

  it("refuses a 10 MB file before reading it", async () => {
    const path = await write("huge.yaml", `${POD_YAML}# ${"x".repeat(10 * 1000 * 1000)}\n`);
    const started = Date.now();
    expect((await failure(readManifestFile(path))).message).toBe(`${path}: is 9.5 MiB; the limit is 1 MiB`);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("refuses a symlink loop", async () => {
    const a = join(dir, "loop-a.yaml");
    const b = join(dir, "loop-b.yaml");
    await symlink(b, a);
    await symlink(a, b);
    expect((await failure(readManifestFile(a))).message).toBe(
      `${a}: is a symlink loop (the link leads back to itself)`,
    );
  });

  it("refuses a dangling symlink", async () => {
    const link = join(dir, "dangling.yaml");
    await symlink(join(dir, "nowhere.yaml"), link);
    expect((await failure(readManifestFile(link))).message).toBe(
      `${link}: is a symlink to a file that does not exist`,
    );
  });

  it("refuses a FIFO, directly or through a symlink, without blocking", async () => {
    const fifo = join(dir, "pipe");
    execFileSync("mkfifo", [fifo]);
    expect((await failure(readManifestFile(fifo))).message).toBe(
      `${fifo}: is a named pipe (FIFO), not a regular file`,
    );
    const link = join(dir, "pipe.yaml");
    await symlink(fifo, link);
    expect((await failure(readManifestFile(link))).message).toBe(
      `${link}: is a symlink to ${fifo}, which is a named pipe (FIFO), not a regular file`,
    );
    const zero = join(dir, "zero.yaml");
    await symlink("/dev/zero", zero);
    expect((await failure(readManifestFile(zero))).message).toBe(
      `${zero}: is a symlink to /dev/zero, which is a character device, not a regular file`,
    );
  });

  it("reports a missing file, and a file removed between the check and the read", async () => {
    const missing = join(dir, "missing.yaml");
    expect((await failure(readManifestFile(missing))).message).toBe(`${missing}: does not exist`);

    const path = await write("vanishing.yaml", POD_YAML);
    const racing: ReadFs = {
      ...nodeReadFs,
      lstat: async (p) => {
        const info = await nodeReadFs.lstat(p);
        await unlink(p);
        return info;
      },
    };
    const err = await failure(readManifestFile(path, { fs: racing }));
    expect(err.message).toBe(`${path}: was removed while being read`);
    expect((err.cause as { code?: string }).code).toBe("ENOENT");
  });

  it("stops reading a file that grows past the limit while being read", async () => {
    const path = await write("growing.yaml", POD_YAML);
    const growing: ReadFs = {
      ...nodeReadFs,
      open: async (p, flags) => {
        const handle = await nodeReadFs.open(p, flags);
        return new Proxy(handle, {
          get(target, prop) {
            if (prop === "stat") {
              return async () => {
                const info = await target.stat();
                await appendFile(p, "#".repeat(2 * 1024 * 1024));
                return info;
              };
            }
            const value = Reflect.get(target, prop, target) as unknown;
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
      },
    };
    expect((await failure(readManifestFile(path, { fs: growing }))).message).toBe(
      `${path}: grew beyond 1 MiB while being read; the limit is that size`,
    );
  });

  it("refuses deep nesting before parsing it", async () => {
    const flow = await write(
      "deep-flow.yaml",
      `${POD_YAML}x: ${"{a: ".repeat(200_000)}1${"}".repeat(200_000)}\n`,
    );
    expect((await failure(readManifestFile(flow))).message).toBe(
      `${flow}: nesting is deeper than 100 levels; nodelet refuses it before parsing`,
    );
    const seq = await write("deep-seq.yaml", `${"- ".repeat(300_000)}x\n`);
    expect((await failure(readManifestFile(seq))).message).toContain("nesting is deeper than 100 levels");
    const json = await write("deep.json", `{"a": ${"[".repeat(300_000)}${"]".repeat(300_000)}}`);
    expect((await failure(readManifestFile(json))).message).toContain("nesting is deeper than 100 levels");
  });

  it("honours smaller limits", async () => {
    const path = await write("limits.yaml", POD_YAML);
    expect((await failure(readManifestFile(path, { maxBytes: 10 }))).message).toContain(
      "the limit is 10 bytes",
    );
    expect((await failure(readManifestFile(path, { maxDepth: 2 }))).message).toContain(
      "deeper than 2 levels",
    );
  });
});

describe("parsePodManifest and manifestKind", () => {
  it("accept what the caller allows", () => {
    expect(parsePodManifest(POD_YAML, "inline").kind).toBe("Pod");
    expect(manifestKind({ apiVersion: "v1", kind: "PodList", items: [] }, "u", ["Pod", "PodList"]).kind).toBe(
      "PodList",
    );
    expect(() => manifestKind({ apiVersion: "v1", kind: "PodList" }, "u", ["Pod"])).toThrow(
      'u: kind "PodList" is not supported: nodelet runs Pod manifests',
    );
  });
});
