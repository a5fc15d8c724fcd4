import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthConfig,
  ContainerConfig,
  type Image,
  ImageSpec,
  NamespaceMode,
  PodSandboxConfig,
} from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import {
  createManualClock,
  type DockerKeyring,
  ErrorCode,
  type ImageManagerService,
  type ImagePuller,
  isRegistryUnauthorized,
  NodeletError,
  type RuntimeService,
  type V1Container,
  type V1Pod,
} from "@nodelet/runtime-api";
import { readTestEnv, type TestEnv } from "@nodelet/testenv";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createImageGCManager,
  createImageManager,
  createRemotePuller,
  IMAGE_GARBAGE_COLLECTED_TOTAL,
  ImageGCError,
  type ImageManagerOptions,
} from "../../src/index.js";

let env: TestEnv;
let images: ImageManagerService;
let runtime: RuntimeService;
const runId = `${process.pid}-${Date.now().toString(36)}`;
const logRoot = mkdtempSync(join(tmpdir(), "nodelet-image-manager-"));
const sandboxes: string[] = [];

beforeAll(async () => {
  env = await readTestEnv();
  images = await createRemoteImageService(env.criEndpoint);
  runtime = await createRemoteRuntimeService(env.criEndpoint);
  await images.pullImage(ImageSpec.fromPartial({ image: env.images.busybox }), undefined, undefined);
});

afterAll(async () => {
  for (const id of sandboxes) {
    await runtime.stopPodSandbox(id).catch(() => undefined);
    await runtime.removePodSandbox(id).catch(() => undefined);
  }
  images?.close();
  runtime?.close();
});

function pod(name: string): V1Pod {
  return {
    metadata: { name, namespace: "image-manager-test", uid: `${name}-${runId}` },
    spec: { containers: [] },
  };
}

function container(image: string, imagePullPolicy?: V1Container["imagePullPolicy"]): V1Container {
  return { name: "app", image, ...(imagePullPolicy ? { imagePullPolicy } : {}) };
}

/** Wraps the real puller, counting calls and the most that ran at once. */
function counting(inner: ImagePuller) {
  let running = 0;
  const stats = { calls: [] as string[], maxConcurrent: 0 };
  const puller: ImagePuller = {
    async pullImage(request) {
      stats.calls.push(request.image);
      running += 1;
      stats.maxConcurrent = Math.max(stats.maxConcurrent, running);
      try {
        return await inner.pullImage(request);
      } finally {
        running -= 1;
      }
    },
  };
  return { puller, stats };
}

function events() {
  const list: Array<{ reason: string; message: string }> = [];
  return {
    list,
    recorder: {
      event: (_o: unknown, _t: unknown, reason: string, message: string) => list.push({ reason, message }),
    },
  };
}

function manager(options: Partial<ImageManagerOptions> = {}) {
  const counted = counting(createRemotePuller(images));
  const log = events();
  const m = createImageManager({ images, puller: counted.puller, recorder: log.recorder, ...options });
  return { m, stats: counted.stats, log };
}

async function rejection(promise: Promise<unknown>): Promise<NodeletError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(NodeletError);
    return err as NodeletError;
  }
  throw new Error("expected a rejection");
}

async function present(image: string): Promise<boolean> {
  return (await images.imageStatus(ImageSpec.fromPartial({ image }), false)).image !== undefined;
}

describe("pull policies against containerd", () => {
  it("IfNotPresent with the image present pulls nothing", async () => {
    const { m, stats, log } = manager();
    const ref = await m.ensureImageExists(
      pod("present"),
      container(env.images.busybox, "IfNotPresent"),
      [],
      undefined,
    );
    const status = await images.imageStatus(ImageSpec.fromPartial({ image: env.images.busybox }), false);
    expect(ref).toBe(status.image?.id);
    expect(stats.calls).toEqual([]);
    expect(log.list).toEqual([
      { reason: "Pulled", message: `Container image "${env.images.busybox}" already present on machine` },
    ]);
  });

  it("Never with an absent image is ErrImageNeverPull", async () => {
    const absent = `${env.registries.plain}/nodelet/absent-${runId}:1`;
    const { m, stats } = manager();
    const err = await rejection(m.ensureImageExists(pod("never"), container(absent, "Never"), [], undefined));
    expect(err.code).toBe(ErrorCode.ErrImageNeverPull);
    expect(err.message).toBe(`Container image "${absent}" is not present with pull policy of Never`);
    expect(stats.calls).toEqual([]);
  });

  it("Always pulls, and reports the pull with its size", async () => {
    const { m, stats, log } = manager();
    const ref = await m.ensureImageExists(
      pod("always"),
      container(env.images.busybox, "Always"),
      [],
      undefined,
    );
    expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(stats.calls).toEqual([env.images.busybox]);
    const pulled = log.list.find((e) => e.reason === "Pulled")?.message ?? "";
    expect(pulled).toMatch(
      /^Successfully pulled image ".+" in [0-9.]+m?s \([0-9.]+m?s including waiting\)\. Image size: [1-9][0-9]* bytes\.$/,
    );
    console.log(`[image-manager] ${pulled}`);
  });
});

describe("credentials and backoff against the auth registry", () => {
  it("wrong password: ErrImagePull (401), then ImagePullBackOff, then success with the right one", async () => {
    const clock = createManualClock(Date.now());
    let password = "wrong";
    const asked: string[] = [];
    const keyring: DockerKeyring = {
      async lookup(repository) {
        asked.push(repository);
        if (!repository.startsWith(`${env.registries.auth}/`)) return [];
        return [AuthConfig.fromPartial({ username: env.auth.username, password })];
      },
    };
    const { m, stats, log } = manager({ keyring, clock });
    const p = pod("auth");
    const c = container(env.images.authBusybox, "Always");

    const first = await rejection(m.ensureImageExists(p, c, [], undefined));
    expect(first.code).toBe(ErrorCode.ErrImagePull);
    expect(first.message).toMatch(/401 Unauthorized/);
    expect(isRegistryUnauthorized(first)).toBe(true);
    expect(asked[0]).toBe(env.images.authBusybox.replace(/:[^:/]+$/, ""));
    expect(log.list.find((e) => e.reason === "Failed")?.message).toMatch(
      new RegExp(`^Failed to pull image "${env.images.authBusybox}": .*401 Unauthorized`),
    );
    console.log(`[image-manager] ${first.message}`);

    password = env.auth.password;
    clock.advance(5_000);
    const second = await rejection(m.ensureImageExists(p, c, [], undefined));
    expect(second.code).toBe(ErrorCode.ImagePullBackOff);
    expect(second.message).toBe(`Back-off pulling image "${env.images.authBusybox}"`);
    expect(stats.calls).toHaveLength(1);

    clock.advance(5_000);
    await expect(m.ensureImageExists(p, c, [], undefined)).resolves.toMatch(/^sha256:/);
    expect(stats.calls).toHaveLength(2);
    expect(log.list.map((e) => e.reason)).toEqual(["Pulling", "Failed", "BackOff", "Pulling", "Pulled"]);
  });
});

describe("pull limits against the plain registry", () => {
  async function pullAllBench(options: Partial<ImageManagerOptions>) {
    const { m, stats } = manager(options);
    const started = performance.now();
    const refs = await Promise.all(
      env.images.bench.map((image, i) =>
        m.ensureImageExists(pod(`bench-${i}`), container(image, "Always"), [], undefined),
      ),
    );
    return { refs, stats, ms: Math.round(performance.now() - started) };
  }

  it("parallel(4): the 10 bench images, never more than 4 at once", async () => {
    const { refs, stats, ms } = await pullAllBench({ maxParallelImagePulls: 4 });
    expect(new Set(refs).size).toBe(10);
    expect(stats.calls).toHaveLength(10);
    expect(stats.maxConcurrent).toBeLessThanOrEqual(4);
    expect(stats.maxConcurrent).toBeGreaterThan(1);
    console.log(`[image-manager] parallel(4): 10 pulls in ${ms} ms, at most ${stats.maxConcurrent} at once`);
  });

  it("serial (the default): one at a time", async () => {
    const { stats, ms } = await pullAllBench({});
    expect(stats.calls).toHaveLength(10);
    expect(stats.maxConcurrent).toBe(1);
    console.log(`[image-manager] serial: 10 pulls in ${ms} ms, at most ${stats.maxConcurrent} at once`);
  });

  it("two callers for the same absent image at once: one pull", async () => {
    const image = env.images.bench[9] as string;
    await images.removeImage(ImageSpec.fromPartial({ image }));
    expect(await present(image)).toBe(false);
    const { m, stats } = manager();
    const [a, b] = await Promise.all([
      m.ensureImageExists(pod("same-1"), container(image, "IfNotPresent"), [], undefined),
      m.ensureImageExists(pod("same-2"), container(image, "IfNotPresent"), [], undefined),
    ]);
    expect(a).toBe(b);
    expect(stats.calls).toEqual([image]);
  });
});

/**
 * The CRI image service as image GC may see it here: only the images `keep` selects, and removal
 * only of ids in `removable` (other suites share this containerd and need busybox, pause and more).
 */
function scopedImages(
  keep: (image: Image) => boolean,
  removable: ReadonlySet<string>,
  removed: string[] = [],
): ImageManagerService {
  return {
    listImages: async (filter, options) => (await images.listImages(filter, options)).filter(keep),
    streamImages: (filter, options) => images.streamImages(filter, options),
    imageStatus: (spec, verbose, options) => images.imageStatus(spec, verbose, options),
    pullImage: (spec, auth, sandbox, options) => images.pullImage(spec, auth, sandbox, options),
    removeImage: async (spec, options) => {
      if (!removable.has(spec.image))
        throw new Error(`test guard: ${spec.image} is not this test's to remove`);
      removed.push(spec.image);
      return images.removeImage(spec, options);
    },
    imageFsInfo: (options) => images.imageFsInfo(options),
    close: () => {},
  };
}

describe("image GC on the real runtime", () => {
  const protectedImages = () => [
    env.images.busybox,
    env.images.busyboxLatest,
    env.images.pause,
    env.images.authBusybox,
  ];

  it("removes unused old bench images, keeps the one in use and the one too young", async () => {
    const [inUse, old1, old2, young] = env.images.bench.slice(5, 9) as [string, string, string, string];
    for (const image of [inUse, old1, old2]) {
      await images.pullImage(ImageSpec.fromPartial({ image }), undefined, undefined);
    }
    const idOf = async (image: string) =>
      (await images.imageStatus(ImageSpec.fromPartial({ image }), false)).image?.id ?? "";
    const protectedIds = new Set(await Promise.all(protectedImages().map(idOf)));
    protectedIds.delete("");

    // A running container from `inUse`.
    const uid = `gc-${runId}`;
    const config = PodSandboxConfig.fromPartial({
      metadata: { name: "gc", uid, namespace: "image-manager-test", attempt: 0 },
      hostname: "gc",
      logDirectory: join(logRoot, uid),
      labels: { "io.kubernetes.pod.uid": uid },
      linux: {
        securityContext: { namespaceOptions: { network: NamespaceMode.POD, pid: NamespaceMode.CONTAINER } },
      },
    });
    const sandboxId = await runtime.runPodSandbox(config, "");
    sandboxes.push(sandboxId);
    const containerId = await runtime.createContainer(
      sandboxId,
      ContainerConfig.fromPartial({
        metadata: { name: "app", attempt: 0 },
        image: { image: inUse },
        command: ["sleep", "3600"],
        logPath: "app/0.log",
      }),
      config,
    );
    await runtime.startContainer(containerId);

    // Image GC sees only this test's bench images, and may remove only those.
    const mine = new Set([inUse, old1, old2, young]);
    const removable = new Set((await Promise.all([old1, old2, young, inUse].map(idOf))).filter(Boolean));
    for (const id of protectedIds) expect(removable.has(id)).toBe(false);
    const removed: string[] = [];
    const scoped = scopedImages((i) => i.repoTags.some((t) => mine.has(t)), removable, removed);

    const clock = createManualClock(Date.now());
    const gc = createImageGCManager({
      images: scoped,
      runtime,
      clock,
      sandboxImage: env.images.pause,
      // Triggers whatever this disk's usage: everything used must go, which it cannot.
      policy: { highThresholdPercent: 1, lowThresholdPercent: 0, minAgeMs: 60_000 },
    });
    // `young` must be absent at the startup detection (earlier tests pulled every bench image).
    await images.removeImage(ImageSpec.fromPartial({ image: young }));
    expect(await present(young)).toBe(false);
    await gc.detectImages(); // startup detection: what is there is old
    await images.pullImage(ImageSpec.fromPartial({ image: young }), undefined, undefined);
    removable.add(await idOf(young));
    clock.advance(1_000);

    // Protected images need not all be present (a fresh runtime has no busybox:latest yet): what
    // was there must still be there.
    const presentBefore = new Map<string, boolean>();
    for (const image of protectedImages()) presentBefore.set(image, await present(image));
    const err = await gc.garbageCollect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageGCError);
    const { result, reason, message } = err as ImageGCError;
    expect(reason).toBe("FreeDiskSpaceFailed");
    expect(message).toMatch(
      /^Failed to garbage collect required amount of images\. Attempted to free \d+ bytes, but only found \d+ bytes eligible to free\.$/,
    );
    console.log(
      `[image-manager] GC: usage ${result.usagePercent}% of ${result.capacityBytes} bytes; ${message}; removed ${result.removed
        .map((r) => `${r.repoTags[0]} (${r.sizeBytes} bytes)`)
        .join(", ")}`,
    );
    expect(result.removed.map((r) => r.repoTags[0]).sort()).toEqual([old1, old2].sort());
    expect(result.removed.every((r) => r.reason === "space")).toBe(true);
    expect(removed.sort()).toEqual(result.removed.map((r) => r.id).sort());

    expect(await present(old1)).toBe(false);
    expect(await present(old2)).toBe(false);
    expect(await present(inUse)).toBe(true);
    expect(await present(young)).toBe(true);
    for (const image of protectedImages()) {
      if (presentBefore.get(image)) expect(await present(image), image).toBe(true);
    }
  });

  it("with a reachable goal, removes the least recently used image only, and counts it", async () => {
    const [a, b] = env.images.bench.slice(6, 8) as [string, string];
    for (const image of [a, b])
      await images.pullImage(ImageSpec.fromPartial({ image }), undefined, undefined);
    const idOf = async (image: string) =>
      (await images.imageStatus(ImageSpec.fromPartial({ image }), false)).image?.id ?? "";
    const ids = new Set(await Promise.all([a, b].map(idOf)));
    const scoped = scopedImages((i) => ids.has(i.id), ids);
    const clock = createManualClock(Date.now());
    const registry = new Registry();
    const gc = createImageGCManager({
      images: scoped,
      runtime,
      clock,
      registry,
      policy: { highThresholdPercent: 50, lowThresholdPercent: 50, minAgeMs: 60_000 },
      // 51 % used; reaching 50 % takes one byte.
      fsStats: async () => ({ capacityBytes: 1_000_000_000, availableBytes: 499_999_999 }),
    });
    await gc.detectImages();
    clock.advance(1_000);
    const result = await gc.garbageCollect();
    expect(result).toMatchObject({ usagePercent: 51, amountToFreeBytes: 1, goalMet: true });
    expect(result.removed).toHaveLength(1);
    expect(ids.has(result.removed[0]?.id ?? "")).toBe(true);
    const metric = await registry.getSingleMetric(IMAGE_GARBAGE_COLLECTED_TOTAL)?.get();
    expect(metric?.values.find((v) => v.labels.reason === "space")?.value).toBe(1);
  });
});
