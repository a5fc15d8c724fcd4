import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, NodeletError, type V1Pod } from "@nodelet/runtime-api";
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { createPodConfig, type PodChange } from "../src/pod-config.js";
import { createManifestDirSource } from "../src/sources/manifest-dir.js";
import { createManifestUrlSource } from "../src/sources/manifest-url.js";
import type { PodSource, PodSourceName, PodSourceUpdate } from "../src/sources/types.js";
import { ConfigAnnotation, toStaticPod } from "../src/static-pod.js";

interface FakeSource extends PodSource {
  send(pods: V1Pod[], errors?: PodSourceUpdate["errors"]): void;
  started: boolean;
  stopped: boolean;
}

function fakeSource(name: PodSourceName = "file"): FakeSource {
  let listener: ((update: PodSourceUpdate) => void) | undefined;
  const source: FakeSource = {
    name,
    started: false,
    stopped: false,
    start(onUpdate) {
      source.started = true;
      listener = onUpdate;
    },
    async stop() {
      source.stopped = true;
    },
    send(pods, errors = []) {
      listener?.({ source: name, pods, errors });
    },
  };
  return source;
}

function staticPod(
  name: string,
  options: { image?: string; seen?: string; uid?: string; source?: PodSourceName } = {},
) {
  const source = options.source ?? "file";
  return toStaticPod(
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, ...(options.uid === undefined ? {} : { uid: options.uid }) },
      spec: { containers: [{ name: "app", image: options.image ?? "nginx:1.27" }] },
    },
    {
      source,
      sourceName: source === "file" ? `/manifests/${name}.yaml` : "http://127.0.0.1/pods",
      nodeName: "node-a",
      seenAt: new Date(options.seen ?? "2026-01-01T00:00:00Z"),
    },
  );
}

function setup(...sources: FakeSource[]) {
  const config = createPodConfig(sources);
  const changes: PodChange[] = [];
  config.onChange((change) => changes.push(change));
  config.start();
  const names = (pods: V1Pod[]) => pods.map((p) => p.metadata.name);
  return { config, changes, names };
}

describe("createPodConfig", () => {
  it("starts the sources and is ready once each has sent a first update", () => {
    const file = fakeSource("file");
    const http = fakeSource("http");
    const { config } = setup(file, http);
    expect(file.started && http.started).toBe(true);
    expect(config.allSourcesReady()).toBe(false);
    file.send([]);
    expect(config.allSourcesReady()).toBe(false);
    http.send([]);
    expect(config.allSourcesReady()).toBe(true);
    expect(createPodConfig([]).allSourcesReady()).toBe(true);
  });

  it("reports added pods and lists the desired pods by namespace and name", () => {
    const file = fakeSource();
    const { config, changes, names } = setup(file);
    const web = staticPod("web");
    const api = staticPod("api");
    file.send([web, api]);
    expect(changes).toHaveLength(1);
    expect(names(changes[0]?.added ?? [])).toEqual(["web-node-a", "api-node-a"]);
    expect(changes[0]?.updated).toEqual([]);
    expect(changes[0]?.removed).toEqual([]);
    expect(names(config.pods())).toEqual(["api-node-a", "web-node-a"]);
    expect(config.pod(web.metadata.uid ?? "")).toBe(web);
  });

  it("reports nothing when a rescan finds the same pods, keeping the first seen time", () => {
    const file = fakeSource();
    const { config, changes } = setup(file);
    file.send([staticPod("web", { seen: "2026-01-01T00:00:00Z" })]);
    file.send([staticPod("web", { seen: "2026-01-01T00:05:00Z" })]);
    expect(changes).toHaveLength(1);
    expect(config.pods()[0]?.metadata.annotations?.[ConfigAnnotation.seen]).toBe("2026-01-01T00:00:00Z");
  });

  it("reports a changed manifest as the old pod removed and a new one added", () => {
    const file = fakeSource();
    const { config, changes } = setup(file);
    const before = staticPod("web");
    const after = staticPod("web", { image: "nginx:1.28" });
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    file.send([before]);
    file.send([after]);
    expect(changes[1]).toEqual({ added: [after], updated: [], removed: [before] });
    expect(config.pods()).toEqual([after]);
  });

  it("reports a pod whose manifest is gone as removed", () => {
    const file = fakeSource();
    const { config, changes } = setup(file);
    const web = staticPod("web");
    file.send([web, staticPod("api")]);
    file.send([staticPod("api")]);
    expect(changes[1]).toEqual({ added: [], updated: [], removed: [web] });
    expect(config.pods().map((p) => p.metadata.name)).toEqual(["api-node-a"]);
  });

  it("reports a changed pod with a fixed UID as updated, keeping its first seen time", () => {
    const file = fakeSource();
    const { config, changes } = setup(file);
    file.send([staticPod("web", { uid: "fixed", seen: "2026-01-01T00:00:00Z" })]);
    file.send([staticPod("web", { uid: "fixed", image: "nginx:1.28", seen: "2026-01-02T00:00:00Z" })]);
    expect(changes[1]?.added).toEqual([]);
    expect(changes[1]?.removed).toEqual([]);
    expect(changes[1]?.updated).toHaveLength(1);
    const updated = config.pods()[0];
    expect(updated?.spec.containers[0]?.image).toBe("nginx:1.28");
    expect(updated?.metadata.annotations?.[ConfigAnnotation.seen]).toBe("2026-01-01T00:00:00Z");
  });

  it("merges the sources, each update replacing only its own source's set", () => {
    const file = fakeSource("file");
    const http = fakeSource("http");
    const { config, changes } = setup(file, http);
    file.send([staticPod("a")]);
    http.send([staticPod("b", { source: "http" })]);
    file.send([]);
    expect(changes.map((c) => [c.added.length, c.removed.length])).toEqual([
      [1, 0],
      [1, 0],
      [0, 1],
    ]);
    expect(config.pods().map((p) => p.metadata.name)).toEqual(["b-node-a"]);
  });

  it("keeps the latest errors of each source", () => {
    const file = fakeSource("file");
    const http = fakeSource("http");
    const { config } = setup(file, http);
    const bad = new NodeletError(ErrorCode.InvalidPod, "/m/bad.yaml: invalid YAML");
    file.send([staticPod("a")], [{ origin: "/m/bad.yaml", error: bad }]);
    const down = new NodeletError(ErrorCode.InvalidPod, "http://x answered HTTP 500");
    http.send([], [{ origin: "http://x", error: down }]);
    expect(config.errors()).toEqual([
      { source: "file", origin: "/m/bad.yaml", error: bad },
      { source: "http", origin: "http://x", error: down },
    ]);
    file.send([staticPod("a")]);
    expect(config.errors()).toEqual([{ source: "http", origin: "http://x", error: down }]);
  });

  it("keeps the first of two pods with the same name, reporting the other", () => {
    const file = fakeSource("file");
    const http = fakeSource("http");
    const { config } = setup(file, http);
    const fromFile = staticPod("web");
    file.send([fromFile]);
    http.send([staticPod("web", { source: "http" })]);
    expect(config.pods()).toEqual([fromFile]);
    const errors = config.errors();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.source).toBe("http");
    expect(errors[0]?.origin).toBe("http:default/web-node-a");
    expect(errors[0]?.error.message).toContain(
      "a pod with the same name default/web-node-a is already desired",
    );
  });

  it("survives a failing listener, and unsubscribes", () => {
    const file = fakeSource();
    const config = createPodConfig([file], {
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
    });
    const seen: PodChange[] = [];
    config.onChange(() => {
      throw new Error("listener bug");
    });
    const unsubscribe = config.onChange((change) => seen.push(change));
    config.start();
    file.send([staticPod("a")]);
    expect(seen).toHaveLength(1);
    unsubscribe();
    file.send([]);
    expect(seen).toHaveLength(1);
    expect(config.pods()).toEqual([]);
  });

  it("stops the sources and ignores updates afterwards", async () => {
    const file = fakeSource();
    const { config, changes } = setup(file);
    await config.stop();
    expect(file.stopped).toBe(true);
    file.send([staticPod("a")]);
    expect(changes).toEqual([]);
    expect(config.pods()).toEqual([]);
  });

  it("works with the real directory and URL sources", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nodelet-podconfig-"));
    try {
      await writeFile(
        join(dir, "web.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    image: nginx:1\n",
      );
      const body = JSON.stringify({
        apiVersion: "v1",
        kind: "PodList",
        items: [{ metadata: { name: "remote" }, spec: { containers: [{ name: "c", image: "busybox:1" }] } }],
      });
      // A pino logger is what the agent passes.
      const logger = pino({ level: "silent" });
      const config = createPodConfig(
        [
          createManifestDirSource({
            dir,
            nodeName: "node-a",
            fileCheckFrequencyMs: 60_000,
            watch: false,
            logger,
          }),
          createManifestUrlSource({
            url: "http://manifests.invalid/pods",
            nodeName: "node-a",
            httpCheckFrequencyMs: 60_000,
            fetch: async () => new Response(body),
            logger,
          }),
        ],
        { logger },
      );
      config.start();
      await vi.waitFor(() => expect(config.allSourcesReady()).toBe(true), { timeout: 3000, interval: 10 });
      expect(config.pods().map((p) => p.metadata.name)).toEqual(["remote-node-a", "web-node-a"]);
      await config.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
