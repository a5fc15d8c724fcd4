import { tmpdir } from "node:os";
import type { Container } from "@nodelet/cri-api";
import { createManualClock, ErrorCode, type ManualClock, NodeletError } from "@nodelet/runtime-api";
import { Registry } from "prom-client";
import { beforeEach, describe, expect, it } from "vitest";
import {
  createImageGCManager,
  DEFAULT_IMAGE_GC_POLICY,
  type FsStats,
  IMAGE_GARBAGE_COLLECTED_TOTAL,
  ImageGCError,
  type ImageGCManagerOptions,
  statfsStats,
  validateImageGCPolicy,
} from "../src/index.js";
import { eventLog, type FakeImageService, fakeImageService, fakeRuntime, image } from "./support/fakes.js";

let images: FakeImageService;
let clock: ManualClock;
let containers: Array<Partial<Container>>;
let fs: FsStats;
let log: ReturnType<typeof eventLog>;
let registry: Registry;
const T0 = 1_700_000_000_000;

function gc(options: Partial<ImageGCManagerOptions> = {}) {
  return createImageGCManager({
    images,
    runtime: fakeRuntime(() => containers),
    clock,
    recorder: log.recorder,
    nodeName: "node-1",
    registry,
    fsStats: async (mountpoint) => {
      expect(mountpoint).toBe(images.mountpoint);
      return fs;
    },
    ...options,
  });
}

async function collected(reason: string): Promise<number> {
  const metric = await registry.getSingleMetric(IMAGE_GARBAGE_COLLECTED_TOTAL)?.get();
  return metric?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function rejection(promise: Promise<unknown>): Promise<ImageGCError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ImageGCError);
    return err as ImageGCError;
  }
  throw new Error("expected a rejection");
}

const uses = (imageRef: string): Partial<Container> => ({ imageRef });

beforeEach(() => {
  clock = createManualClock(T0);
  containers = [];
  fs = { capacityBytes: 1000, availableBytes: 900 };
  log = eventLog();
  registry = new Registry();
  images = fakeImageService([
    image("sha256:never", ["never:1"], 30),
    image("sha256:a", ["a:1"], 60),
    image("sha256:b", ["b:1"], 60),
    image("sha256:g", ["g:1"], 60),
    image("sha256:inuse", ["inuse:1"], 500),
    image("sha256:pinned", ["pause:3.9"], 500, true),
  ]);
});

describe("policy", () => {
  it("defaults to the kubelet's 85/80, 2 min, no max age", () => {
    expect(DEFAULT_IMAGE_GC_POLICY).toEqual({
      highThresholdPercent: 85,
      lowThresholdPercent: 80,
      minAgeMs: 120_000,
      maxAgeMs: 0,
    });
    expect(gc().policy).toEqual(DEFAULT_IMAGE_GC_POLICY);
    expect(gc({ policy: { highThresholdPercent: 90, minAgeMs: undefined } as never }).policy).toMatchObject({
      highThresholdPercent: 90,
      minAgeMs: 120_000,
    });
  });

  it.each([
    [{ highThresholdPercent: 101 }, "invalid HighThresholdPercent 101, must be in range [0-100]"],
    [{ highThresholdPercent: -1 }, "invalid HighThresholdPercent -1, must be in range [0-100]"],
    [{ lowThresholdPercent: 101 }, "invalid LowThresholdPercent 101, must be in range [0-100]"],
    [{ lowThresholdPercent: 90 }, "LowThresholdPercent 90 can not be higher than HighThresholdPercent 85"],
    [{ minAgeMs: -1 }, "imageMinimumGCAge -1ms must not be negative"],
    [{ maxAgeMs: 60_000 }, "imageMaximumGCAge 1m0s must be greater than imageMinimumGCAge 2m0s"],
  ])("rejects %j as InvalidConfig", (override, message) => {
    expect(() => validateImageGCPolicy({ ...DEFAULT_IMAGE_GC_POLICY, ...override })).toThrowError(message);
    expect(() => gc({ policy: override })).toThrowError(
      expect.objectContaining({ code: ErrorCode.InvalidConfig }),
    );
  });

  it("accepts low = high and 0/0", () => {
    expect(() => gc({ policy: { highThresholdPercent: 0, lowThresholdPercent: 0 } })).not.toThrow();
    expect(() => gc({ policy: { highThresholdPercent: 50, lowThresholdPercent: 50 } })).not.toThrow();
  });

  it("high = 100 disables image GC", async () => {
    fs = { capacityBytes: 1000, availableBytes: 0 };
    const result = await gc({ policy: { highThresholdPercent: 100 } }).garbageCollect();
    expect(result.disabled).toBe(true);
    expect(images.removed).toEqual([]);
  });
});

describe("detection", () => {
  it("records firstDetected, lastUsed, size and pinned per image id", async () => {
    const m = gc();
    await m.detectImages(); // the first detection puts existing images in the unknown past
    clock.advance(1_000);
    containers = [uses("sha256:a")];
    images.images.push(image("sha256:new", ["new:1"], 7));
    await m.detectImages();
    const byId = Object.fromEntries(m.records().map((r) => [r.id, r]));
    expect(byId["sha256:never"]).toEqual({
      id: "sha256:never",
      repoTags: ["never:1"],
      firstDetectedMs: 0,
      lastUsedMs: 0,
      sizeBytes: 30,
      pinned: false,
    });
    expect(byId["sha256:a"]?.lastUsedMs).toBe(T0 + 1_000);
    expect(byId["sha256:new"]?.firstDetectedMs).toBe(T0 + 1_000);
    expect(byId["sha256:pinned"]?.pinned).toBe(true);

    images.images = images.images.filter((i) => i.id !== "sha256:new");
    await m.detectImages();
    expect(m.records().map((r) => r.id)).not.toContain("sha256:new");
  });

  it("counts imageRef, imageId and the container's image name as in use, and the sandbox image", async () => {
    containers = [{ imageId: "sha256:a" }, { image: { image: "b:1" } as never }, { imageRef: "sha256:g" }];
    const m = gc({ sandboxImage: "never:1" });
    await m.detectImages();
    clock.advance(10);
    await m.detectImages();
    const used = m
      .records()
      .filter((r) => r.lastUsedMs === T0 + 10)
      .map((r) => r.id)
      .sort();
    expect(used).toEqual(["sha256:a", "sha256:b", "sha256:g", "sha256:never"]);
  });
});

describe("garbageCollect for space", () => {
  async function history() {
    const m = gc();
    await m.detectImages();
    for (const [id, at] of [
      ["sha256:a", 1_000],
      ["sha256:b", 2_000],
      ["sha256:g", 3_000],
    ] as const) {
      clock.set(T0 + at);
      containers = [uses(id)];
      await m.detectImages();
    }
    clock.set(T0 + 4_000);
    containers = [uses("sha256:inuse")];
    images.images.push(image("sha256:young", ["young:1"], 900));
    return m;
  }

  it("does nothing below the high threshold", async () => {
    const m = await history();
    const result = await m.garbageCollect();
    expect(result).toMatchObject({ usagePercent: 10, amountToFreeBytes: 0, goalMet: true, removed: [] });
    expect(images.removed).toEqual([]);
  });

  it("removes unused images least recently used first, until usage would be at the low threshold", async () => {
    fs = { capacityBytes: 1000, availableBytes: 100 }; // 90 % used; free 1000*20/100 - 100 = 100
    const m = await history();
    const result = await m.garbageCollect();
    expect(result.usagePercent).toBe(90);
    expect(result.amountToFreeBytes).toBe(100);
    expect(result.removed.map((r) => [r.id, r.reason])).toEqual([
      ["sha256:never", "space"],
      ["sha256:a", "space"],
      ["sha256:b", "space"],
    ]);
    expect(result.spaceFreedBytes).toBe(150);
    expect(result.freedBytes).toBe(150);
    expect(result.goalMet).toBe(true);
    expect(images.removed).toEqual(["sha256:never", "sha256:a", "sha256:b"]);
    expect(await collected("space")).toBe(3);
    expect(m.records().map((r) => r.id)).not.toContain("sha256:a");
  });

  it("never removes in-use, pinned or too-young images; says so when it cannot free enough", async () => {
    fs = { capacityBytes: 10_000, availableBytes: 100 };
    const m = await history();
    const err = await rejection(m.garbageCollect());
    expect(err.reason).toBe("FreeDiskSpaceFailed");
    expect(err.code).toBe(ErrorCode.ResourceExhausted);
    expect(err.message).toBe(
      "Failed to garbage collect required amount of images. Attempted to free 1900 bytes, but only found 210 bytes eligible to free.",
    );
    expect(err.result.goalMet).toBe(false);
    expect(err.result.removed.map((r) => r.id)).toEqual(["sha256:never", "sha256:a", "sha256:b", "sha256:g"]);
    expect(images.images.map((i) => i.id).sort()).toEqual(["sha256:inuse", "sha256:pinned", "sha256:young"]);
    expect(log.events).toEqual([
      {
        object: { kind: "Node", name: "node-1", uid: "node-1" },
        type: "Warning",
        reason: "FreeDiskSpaceFailed",
        message: err.message,
      },
    ]);
  });

  it("breaks lastUsed ties by first detection, oldest first", async () => {
    fs = { capacityBytes: 1000, availableBytes: 100 };
    images.images = [image("sha256:old", ["old:1"], 50)];
    const m = gc({ policy: { minAgeMs: 1_000 } });
    await m.detectImages();
    clock.advance(500);
    images.images.push(image("sha256:mid", ["mid:1"], 50), image("sha256:late", ["late:1"], 50));
    await m.detectImages();
    clock.advance(100);
    images.images.unshift(image("sha256:newest", ["newest:1"], 50)); // listed first, detected last
    await m.detectImages();
    clock.advance(5_000);
    const result = await m.garbageCollect();
    expect(result.removed.map((r) => r.id)).toEqual(["sha256:old", "sha256:mid"]);
  });

  it("treats images it has never seen as detected now: nothing is old enough on a first pass", async () => {
    fs = { capacityBytes: 1000, availableBytes: 100 };
    const err = await rejection(gc().garbageCollect());
    expect(err.message).toContain("but only found 0 bytes eligible to free.");
    expect(images.removed).toEqual([]);
  });

  it("minAge 0 makes every unused image eligible", async () => {
    fs = { capacityBytes: 1000, availableBytes: 0 };
    containers = [uses("sha256:inuse")];
    const result = await gc({ policy: { minAgeMs: 0, lowThresholdPercent: 0 } })
      .garbageCollect()
      .catch((e: ImageGCError) => e.result);
    expect(result.removed.map((r) => r.id).sort()).toEqual([
      "sha256:a",
      "sha256:b",
      "sha256:g",
      "sha256:never",
    ]);
  });

  it("continues past a failed removal and reports it", async () => {
    fs = { capacityBytes: 1000, availableBytes: 100 };
    const m = await history();
    const remove = images.removeImage.bind(images);
    images.removeImage = async (spec, options) => {
      if (spec.image === "sha256:a") throw new NodeletError(ErrorCode.FailedPrecondition, "image is in use");
      return remove(spec, options);
    };
    const err = await rejection(m.garbageCollect());
    expect(err.reason).toBe("ImageDeletionFailed");
    expect(err.message).toBe(
      "wanted to free 100 bytes, but freed 150 bytes space with errors in image deletion: image is in use",
    );
    expect(err.result.removed.map((r) => r.id)).toEqual(["sha256:never", "sha256:b", "sha256:g"]);
  });

  it("zero capacity is InvalidDiskCapacity", async () => {
    fs = { capacityBytes: 0, availableBytes: 0 };
    const err = await rejection(gc().garbageCollect());
    expect(err.reason).toBe("InvalidDiskCapacity");
    expect(log.reasons()).toEqual(["InvalidDiskCapacity"]);
  });
});

describe("garbageCollect by age", () => {
  it("removes unused images not used for maxAge, once the manager has run longer than maxAge", async () => {
    const m = gc({ policy: { maxAgeMs: 60_000, minAgeMs: 0 } });
    await m.detectImages();
    clock.advance(50_000);
    containers = [uses("sha256:a")];
    await m.detectImages();
    containers = [uses("sha256:inuse")];

    clock.set(T0 + 59_000); // up for less than maxAge: nothing by age yet
    expect((await m.garbageCollect()).removed).toEqual([]);

    clock.set(T0 + 61_000);
    const result = await m.garbageCollect();
    expect(result.removed.map((r) => [r.id, r.reason])).toEqual([
      ["sha256:never", "age"],
      ["sha256:b", "age"],
      ["sha256:g", "age"],
    ]);
    expect(result.spaceFreedBytes).toBe(0);
    expect(await collected("age")).toBe(3);
    expect(images.images.map((i) => i.id).sort()).toEqual(["sha256:a", "sha256:inuse", "sha256:pinned"]);

    clock.set(T0 + 50_000 + 60_001);
    expect((await m.garbageCollect()).removed.map((r) => r.id)).toEqual(["sha256:a"]);
  });
});

describe("deleteUnusedImages", () => {
  it("removes every unused, unpinned image old enough", async () => {
    containers = [uses("sha256:inuse")];
    const result = await gc({ policy: { minAgeMs: 0 } }).deleteUnusedImages();
    expect(result.removed.map((r) => r.id).sort()).toEqual([
      "sha256:a",
      "sha256:b",
      "sha256:g",
      "sha256:never",
    ]);
  });
});

describe("statfsStats", () => {
  it("reads capacity and available bytes of a real filesystem", async () => {
    const stats = await statfsStats(tmpdir());
    expect(stats.capacityBytes).toBeGreaterThan(0);
    expect(stats.availableBytes).toBeGreaterThan(0);
    expect(stats.availableBytes).toBeLessThanOrEqual(stats.capacityBytes);
  });
});
