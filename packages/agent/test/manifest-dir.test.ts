import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createManualClock, ErrorCode, type Logger, type V1Pod } from "@nodelet/runtime-api";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createManifestDirSource, type DirFs, nodeDirFs } from "../src/sources/manifest-dir.js";
import type { PodSource, PodSourceUpdate } from "../src/sources/types.js";
import { ConfigAnnotation } from "../src/static-pod.js";

function podYaml(name: string, image = "nginx:1.27"): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: app\n    image: ${image}\n`;
}

let root: string;
let dir: string;
const sources: PodSource[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "nodelet-dir-"));
  dir = join(root, "manifests");
  await mkdir(dir);
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  await rm(root, { recursive: true, force: true });
});

interface Started {
  updates: PodSourceUpdate[];
  last(): PodSourceUpdate;
  names(): string[];
}

function start(options: Partial<Parameters<typeof createManifestDirSource>[0]> = {}): Started {
  const source = createManifestDirSource({
    dir,
    nodeName: "node-a",
    fileCheckFrequencyMs: 60_000,
    debounceMs: 20,
    ...options,
  });
  sources.push(source);
  const updates: PodSourceUpdate[] = [];
  source.start((update) => updates.push(update));
  const last = (): PodSourceUpdate => {
    const update = updates.at(-1);
    if (update === undefined) throw new Error("no update yet");
    return update;
  };
  return { updates, last, names: () => last().pods.map((p) => p.metadata.name ?? "") };
}

const waitFor = <T>(check: () => T): Promise<T> => vi.waitFor(check, { timeout: 3000, interval: 10 });

describe("createManifestDirSource", () => {
  it("sends the full set after the first read, skipping hidden files and subdirectories", async () => {
    await writeFile(join(dir, "b.yaml"), podYaml("beta"));
    await writeFile(
      join(dir, "a.json"),
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "alpha" },
        spec: { containers: [{ name: "c", image: "busybox:1" }] },
      }),
    );
    await writeFile(join(dir, ".hidden.yaml"), podYaml("hidden"));
    await writeFile(join(dir, ".swp"), "not yaml: [");
    await mkdir(join(dir, "nested"));
    await writeFile(join(dir, "nested", "c.yaml"), podYaml("nested"));
    const clock = createManualClock(Date.parse("2026-11-27T12:00:00Z"));
    const s = start({ clock });
    await waitFor(() => expect(s.updates).toHaveLength(1));
    expect(s.last().source).toBe("file");
    expect(s.last().errors).toEqual([]);
    expect(s.names()).toEqual(["alpha-node-a", "beta-node-a"]);
    const beta = s.last().pods[1] as V1Pod;
    expect(beta.metadata.annotations).toMatchObject({
      [ConfigAnnotation.source]: "file",
      [ConfigAnnotation.seen]: "2026-11-27T12:00:00Z",
    });
    expect(beta.spec.nodeName).toBe("node-a");
  });

  it("sees files appear, change and disappear", async () => {
    await writeFile(join(dir, "web.yaml"), podYaml("web"));
    const s = start();
    await waitFor(() => expect(s.names()).toEqual(["web-node-a"]));
    const firstUid = s.last().pods[0]?.metadata.uid;

    await writeFile(join(dir, "db.yaml"), podYaml("db"));
    await waitFor(() => expect(s.names()).toEqual(["db-node-a", "web-node-a"]));

    // An editor's atomic save: write aside, rename over.
    await writeFile(join(dir, ".web.yaml.tmp"), podYaml("web", "nginx:1.28"));
    await rename(join(dir, ".web.yaml.tmp"), join(dir, "web.yaml"));
    await waitFor(() => {
      const web = s.last().pods.find((p) => p.metadata.name === "web-node-a");
      expect(web?.spec.containers[0]?.image).toBe("nginx:1.28");
      expect(web?.metadata.uid).not.toBe(firstUid);
    });

    await unlink(join(dir, "db.yaml"));
    await waitFor(() => expect(s.names()).toEqual(["web-node-a"]));
  });

  it("takes a file caught half-written as being written: its last pod stays and no problem shows until it settles", async () => {
    await writeFile(join(dir, "web.yaml"), podYaml("web"));
    const clock = createManualClock(Date.now() - 600_000);
    const s = start({ clock, debounceMs: 0, watch: false, writeSettleMs: 100 });
    await waitFor(() => expect(s.names()).toEqual(["web-node-a"]));
    const uid = s.last().pods[0]?.metadata.uid;
    // Truncated by a writer that has not finished: the file's time is within writeSettleMs of now.
    await writeFile(join(dir, "web.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: [\n");
    await writeFile(join(dir, "new.yaml"), "");
    // Past the periodic rescan, within writeSettleMs of the writes. One millisecond ahead because
    // a file's mtime has sub-millisecond precision and Date.now() is truncated: a file written
    // in the same millisecond would otherwise be "later" than the clock and still settling after
    // exactly writeSettleMs.
    clock.set(Date.now() + 1);
    await clock.settle();
    await waitFor(() => expect(s.updates.length).toBeGreaterThanOrEqual(2));
    expect(s.last().errors).toEqual([]);
    expect(s.names()).toEqual(["web-node-a"]);
    expect(s.last().pods[0]?.metadata.uid).toBe(uid);
    // Still broken once the time has passed: now it is a problem, and the pod is gone.
    const seen = s.updates.length;
    await clock.advanceAsync(100);
    await waitFor(() => expect(s.updates.length).toBeGreaterThan(seen));
    expect(
      s
        .last()
        .errors.map((e) => e.origin)
        .sort(),
    ).toEqual([join(dir, "new.yaml"), join(dir, "web.yaml")]);
    expect(s.names()).toEqual([]);
  });

  it("delivers good pods next to a bad file and reports the bad one", async () => {
    await writeFile(join(dir, "good.yaml"), podYaml("good"));
    await writeFile(join(dir, "broken.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: [\n");
    await writeFile(
      join(dir, "nocontainers.yaml"),
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers: []\n",
    );
    await writeFile(
      join(dir, "deploy.yaml"),
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n",
    );
    await symlink(join(dir, "loop2"), join(dir, "loop1"));
    await symlink(join(dir, "loop1"), join(dir, "loop2"));
    const logged: string[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (obj) => logged.push(String((obj as { err?: unknown }).err)),
    };
    const s = start({ logger });
    await waitFor(() => expect(s.updates).toHaveLength(1));
    expect(s.names()).toEqual(["good-node-a"]);
    const errors = s.last().errors;
    expect(errors.map((e) => e.origin)).toEqual([
      join(dir, "broken.yaml"),
      join(dir, "deploy.yaml"),
      join(dir, "loop1"),
      join(dir, "loop2"),
      join(dir, "nocontainers.yaml"),
    ]);
    for (const { error } of errors) expect(error.code).toBe(ErrorCode.InvalidPod);
    expect(errors[0]?.error.message).toMatch(/broken\.yaml: invalid YAML at line \d+, column \d+/);
    expect(errors[1]?.error.message).toContain(
      'kind "Deployment" is not supported: nodelet runs Pod manifests',
    );
    expect(errors[2]?.error.message).toContain("is a symlink loop");
    expect(errors[4]?.error.message).toContain("spec.containers: must have at least one container");
    expect(logged).toHaveLength(5);

    // Fixing the file brings its pod in and clears its error.
    await writeFile(join(dir, "broken.yaml"), podYaml("fixed"));
    await waitFor(() => expect(s.names()).toEqual(["fixed-node-a", "good-node-a"]));
    expect(s.last().errors).toHaveLength(4);
  });

  it("drops a second pod with the same name, reporting the file", async () => {
    await writeFile(join(dir, "a.yaml"), podYaml("web"));
    await writeFile(join(dir, "b.yaml"), podYaml("web", "nginx:1.28"));
    const s = start();
    await waitFor(() => expect(s.updates).toHaveLength(1));
    expect(s.last().pods.map((p) => p.spec.containers[0]?.image)).toEqual(["nginx:1.27"]);
    expect(s.last().errors).toHaveLength(1);
    expect(s.last().errors[0]?.origin).toBe(join(dir, "b.yaml"));
    expect(s.last().errors[0]?.error.message).toContain(
      `pod default/web-node-a is already defined by ${join(dir, "a.yaml")}`,
    );
  });

  it("reports a missing directory as an empty set, and picks it up once created", async () => {
    await rm(dir, { recursive: true });
    const warnings: string[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (_obj, msg) => warnings.push(msg ?? ""),
      error: () => undefined,
    };
    const s = start({ fileCheckFrequencyMs: 50, logger });
    await waitFor(() => expect(s.updates.length).toBeGreaterThanOrEqual(1));
    expect(s.last()).toEqual({ source: "file", pods: [], errors: [] });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(warnings).toEqual(["static pod path does not exist; it is checked again every rescan"]);

    await mkdir(dir);
    await writeFile(join(dir, "late.yaml"), podYaml("late"));
    await waitFor(() => expect(s.names()).toEqual(["late-node-a"]));

    // The watcher is set up on the new directory too.
    await writeFile(join(dir, "later.yaml"), podYaml("later"));
    await waitFor(() => expect(s.names()).toEqual(["late-node-a", "later-node-a"]));
  });

  it("watches a symlinked directory", async () => {
    const link = join(root, "link");
    await symlink(dir, link);
    const s = start({ dir: link });
    await waitFor(() => expect(s.updates).toHaveLength(1));
    await writeFile(join(dir, "web.yaml"), podYaml("web"));
    await waitFor(() => expect(s.names()).toEqual(["web-node-a"]));
    expect(s.last().pods[0]?.metadata.annotations?.[ConfigAnnotation.source]).toBe("file");
  });

  it("rescans every fileCheckFrequency without a watcher", async () => {
    const s = start({ watch: false, fileCheckFrequencyMs: 50 });
    await waitFor(() => expect(s.updates).toHaveLength(1));
    expect(s.names()).toEqual([]);
    await writeFile(join(dir, "web.yaml"), podYaml("web"));
    await waitFor(() => expect(s.names()).toEqual(["web-node-a"]));
  });

  it("reads a single manifest file as the path", async () => {
    const file = join(dir, "only.yaml");
    await writeFile(file, podYaml("only"));
    const s = start({ dir: file });
    await waitFor(() => expect(s.names()).toEqual(["only-node-a"]));
    await writeFile(file, podYaml("only", "nginx:1.28"));
    await waitFor(() => expect(s.last().pods[0]?.spec.containers[0]?.image).toBe("nginx:1.28"));
  });

  it("does not read unchanged files again", async () => {
    await writeFile(join(dir, "web.yaml"), podYaml("web"));
    let opens = 0;
    const fs: DirFs = {
      ...nodeDirFs,
      open: (path, flags) => {
        opens++;
        return nodeDirFs.open(path, flags);
      },
    };
    const s = start({ fs, watch: false, fileCheckFrequencyMs: 20 });
    await waitFor(() => expect(s.updates.length).toBeGreaterThanOrEqual(4));
    expect(opens).toBe(1);
    expect(new Set(s.updates.map((u) => u.pods[0]?.metadata.uid)).size).toBe(1);
  });

  it("reads a burst of new files a few at once, and lists them in name order", async () => {
    const names = Array.from({ length: 20 }, (_, i) => `pod-${String(i).padStart(2, "0")}`);
    await Promise.all(names.map((n) => writeFile(join(dir, `${n}.yaml`), podYaml(n))));
    let inFlight = 0;
    let most = 0;
    const fs: DirFs = {
      ...nodeDirFs,
      open: async (path, flags) => {
        most = Math.max(most, ++inFlight);
        try {
          // Later names finish first: the set must still come out in name order.
          await new Promise((r) => setTimeout(r, 40 - names.findIndex((n) => path.includes(n))));
          return await nodeDirFs.open(path, flags);
        } finally {
          inFlight--;
        }
      },
    };
    const s = start({ fs, watch: false });
    await waitFor(() => expect(s.updates.length).toBe(1));
    expect(s.names()).toEqual(names.map((n) => `${n}-node-a`));
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(8);
  });

  it("resolves the watched path once, not at every rescan", async () => {
    await writeFile(join(dir, "web.yaml"), podYaml("web"));
    let resolved = 0;
    const fs: DirFs = {
      ...nodeDirFs,
      realpath: (path) => {
        if (path === dir) resolved++;
        return nodeDirFs.realpath(path);
      },
    };
    const s = start({ fs, fileCheckFrequencyMs: 20 });
    await waitFor(() => expect(s.updates.length).toBeGreaterThanOrEqual(4));
    expect(resolved).toBe(1);
  });

  it("sends nothing after stop", async () => {
    await writeFile(join(dir, "web.yaml"), podYaml("web"));
    const source = createManifestDirSource({
      dir,
      nodeName: "node-a",
      fileCheckFrequencyMs: 20,
      debounceMs: 5,
    });
    const updates: PodSourceUpdate[] = [];
    source.start((update) => updates.push(update));
    await waitFor(() => expect(updates.length).toBeGreaterThanOrEqual(1));
    await source.stop();
    const count = updates.length;
    await writeFile(join(dir, "db.yaml"), podYaml("db"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(updates).toHaveLength(count);
  });
});
