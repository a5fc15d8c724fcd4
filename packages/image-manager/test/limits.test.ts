import { createManualClock, ErrorCode, isNodeletError, NodeletError } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import {
  createLimitedPuller,
  createParallelPuller,
  createSerialPuller,
  createSingleFlightPuller,
  createThrottledPuller,
  PULL_QPS_EXCEEDED,
  resolvePullLimits,
} from "../src/index.js";
import { createTokenBucket } from "../src/token-bucket.js";
import { flush, recordingPuller } from "./support/fakes.js";

describe("resolvePullLimits", () => {
  it("applies the kubelet's defaults", () => {
    expect(resolvePullLimits()).toEqual({
      serializeImagePulls: true,
      maxParallelImagePulls: undefined,
      registryPullQPS: 5,
      registryBurst: 10,
    });
  });

  it("stops serializing when maxParallelImagePulls > 1 and serializeImagePulls is unset", () => {
    expect(resolvePullLimits({ maxParallelImagePulls: 4 })).toMatchObject({
      serializeImagePulls: false,
      maxParallelImagePulls: 4,
    });
    expect(resolvePullLimits({ maxParallelImagePulls: 1 }).serializeImagePulls).toBe(true);
    expect(resolvePullLimits({ serializeImagePulls: false, maxParallelImagePulls: 0 })).toMatchObject({
      serializeImagePulls: false,
      maxParallelImagePulls: undefined,
    });
  });

  it("rejects contradictions and negative numbers as InvalidConfig", () => {
    for (const bad of [
      { serializeImagePulls: true, maxParallelImagePulls: 2 },
      { registryPullQPS: -1 },
      { registryBurst: -1 },
      { maxParallelImagePulls: Number.NaN },
    ]) {
      expect(() => resolvePullLimits(bad)).toThrowError(
        expect.objectContaining({ code: ErrorCode.InvalidConfig }),
      );
    }
  });
});

describe("token bucket", () => {
  it("lets a burst through, then refuses until the clock refills it", () => {
    const clock = createManualClock(1_000);
    const bucket = createTokenBucket(5, 10, clock);
    const first = Array.from({ length: 11 }, () => bucket.tryAccept());
    expect(first.filter(Boolean)).toHaveLength(10);
    expect(first[10]).toBe(false);
    clock.advance(100); // half a token at 5 QPS
    expect(bucket.tryAccept()).toBe(false);
    clock.advance(100);
    expect(bucket.tryAccept()).toBe(true);
    expect(bucket.tryAccept()).toBe(false);
    clock.advance(60_000); // never more than the burst
    expect(Array.from({ length: 12 }, () => bucket.tryAccept()).filter(Boolean)).toHaveLength(10);
  });

  it("accepts nothing with a burst of 0", () => {
    expect(createTokenBucket(5, 0, createManualClock()).tryAccept()).toBe(false);
  });
});

describe("throttled puller", () => {
  it('fails pulls beyond the burst with "pull QPS exceeded." (ErrImagePull) and never waits', async () => {
    const clock = createManualClock(0);
    const { puller, state } = recordingPuller({ autoRelease: true });
    const throttled = createThrottledPuller(puller, { registryPullQPS: 1, registryBurst: 3, clock });
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => throttled.pullImage({ image: `img-${i}:1` })),
    );
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "rejected",
    ]);
    const refused = (results[3] as PromiseRejectedResult).reason;
    expect(refused).toBeInstanceOf(NodeletError);
    expect(refused.code).toBe(ErrorCode.ErrImagePull);
    expect(refused.message).toBe(PULL_QPS_EXCEEDED);
    expect(state.calls).toHaveLength(3);

    clock.advance(1_000);
    await expect(throttled.pullImage({ image: "img-5:1" })).resolves.toMatchObject({ imageSize: 1234 });
    await expect(throttled.pullImage({ image: "img-6:1" })).rejects.toThrow(PULL_QPS_EXCEEDED);
  });

  it("does not throttle with QPS 0", async () => {
    const { puller, state } = recordingPuller({ autoRelease: true });
    const throttled = createThrottledPuller(puller, { registryPullQPS: 0, registryBurst: 0 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => throttled.pullImage({ image: `img-${i}:1` })));
    expect(state.calls).toHaveLength(50);
  });
});

describe("serial and parallel pullers", () => {
  it("serial: one pull at a time, in arrival order", async () => {
    const { puller, state } = recordingPuller();
    const serial = createSerialPuller(puller);
    const done: string[] = [];
    const all = Array.from({ length: 5 }, (_, i) =>
      serial.pullImage({ image: `img-${i}:1` }).then(() => done.push(`img-${i}:1`)),
    );
    for (let i = 0; i < 5; i++) {
      await flush();
      expect(state.pending).toHaveLength(1);
      state.releaseOne();
    }
    await Promise.all(all);
    expect(state.maxConcurrent).toBe(1);
    expect(state.calls.map((c) => c.image)).toEqual(done);
    expect(done).toEqual(["img-0:1", "img-1:1", "img-2:1", "img-3:1", "img-4:1"]);
  });

  it("parallel(3): never more than 3 at once", async () => {
    const { puller, state } = recordingPuller();
    const parallel = createParallelPuller(puller, 3);
    const all = Promise.all(
      Array.from({ length: 10 }, (_, i) => parallel.pullImage({ image: `img-${i}:1` })),
    );
    while (state.calls.length < 10) {
      await flush();
      expect(state.pending.length).toBeLessThanOrEqual(3);
      state.releaseOne();
    }
    state.releaseAll();
    await all;
    expect(state.maxConcurrent).toBe(3);
  });

  it("parallel with no limit (undefined or < 1) runs everything at once", async () => {
    for (const max of [undefined, 0, -1]) {
      const { puller, state } = recordingPuller();
      const parallel = createParallelPuller(puller, max);
      const all = Promise.all(
        Array.from({ length: 8 }, (_, i) => parallel.pullImage({ image: `img-${i}:1` })),
      );
      await flush();
      expect(state.pending).toHaveLength(8);
      state.releaseAll();
      await all;
      expect(state.maxConcurrent).toBe(8);
    }
  });

  it("a caller cancelled while queued is rejected at once and its pull never runs", async () => {
    const { puller, state } = recordingPuller();
    const serial = createSerialPuller(puller);
    const first = serial.pullImage({ image: "a:1" });
    const controller = new AbortController();
    const second = serial.pullImage({ image: "b:1", signal: controller.signal });
    const third = serial.pullImage({ image: "c:1" });
    await flush();
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: ErrorCode.Cancelled });
    state.releaseOne();
    await first;
    await flush();
    state.releaseOne();
    await third;
    expect(state.calls.map((c) => c.image)).toEqual(["a:1", "c:1"]);
  });
});

describe("single flight", () => {
  it("a second caller for the same image and credential shares the first's pull", async () => {
    const { puller, state } = recordingPuller();
    const shared = createSingleFlightPuller(puller);
    const a = shared.pullImage({ image: "busybox:1.36" });
    const b = shared.pullImage({ image: "busybox:1.36" });
    const other = shared.pullImage({ image: "busybox:1.36", auth: { username: "u" } as never });
    await flush();
    expect(state.calls).toHaveLength(2);
    state.releaseAll();
    const [ra, rb] = await Promise.all([a, b, other]);
    expect(ra).toEqual(rb);

    // Once settled, the next caller pulls again.
    const again = shared.pullImage({ image: "busybox:1.36" });
    await flush();
    state.releaseAll();
    await again;
    expect(state.calls).toHaveLength(3);
  });

  it("shares failures too", async () => {
    const { puller, state } = recordingPuller({ fail: () => new Error("boom") });
    const shared = createSingleFlightPuller(puller);
    const both = Promise.allSettled([shared.pullImage({ image: "x:1" }), shared.pullImage({ image: "x:1" })]);
    await flush();
    state.releaseAll();
    const results = await both;
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(state.calls).toHaveLength(1);
  });

  it("cancels the shared pull only when every caller has cancelled", async () => {
    const signals: Array<AbortSignal | undefined> = [];
    const { puller, state } = recordingPuller();
    const spying = {
      pullImage: (req: Parameters<typeof puller.pullImage>[0]) => {
        signals.push(req.signal);
        return puller.pullImage(req);
      },
    };
    const shared = createSingleFlightPuller(spying);
    const c1 = new AbortController();
    const c2 = new AbortController();
    const p1 = shared.pullImage({ image: "x:1", signal: c1.signal });
    const p2 = shared.pullImage({ image: "x:1", signal: c2.signal });
    await flush();
    c1.abort();
    await expect(p1).rejects.toMatchObject({ code: ErrorCode.Cancelled });
    expect(signals[0]?.aborted).toBe(false);
    c2.abort();
    await expect(p2).rejects.toMatchObject({ code: ErrorCode.Cancelled });
    expect(signals[0]?.aborted).toBe(true);
    state.releaseAll();
  });

  it("fans progress out to every caller", async () => {
    const { state } = recordingPuller();
    const shared = createSingleFlightPuller({
      async pullImage(req) {
        req.onProgress?.({ image: req.image, elapsedMs: 5 });
        return { imageRef: "sha256:1" };
      },
    });
    const seen: string[] = [];
    await Promise.all([
      shared.pullImage({ image: "x:1", onProgress: () => seen.push("a") }),
      shared.pullImage({ image: "x:1", onProgress: () => seen.push("b") }),
    ]);
    expect(seen.sort()).toEqual(["a", "b"]);
    expect(state.calls).toHaveLength(0);
  });
});

describe("createLimitedPuller", () => {
  it("composes single flight, the queue and the bucket with the kubelet's defaults", async () => {
    const clock = createManualClock(0);
    const { puller, state } = recordingPuller({ autoRelease: true });
    const limited = createLimitedPuller(puller, { clock });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => limited.pullImage({ image: `img-${i}:1` })),
    );
    expect(state.maxConcurrent).toBe(1);
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused).toHaveLength(2);
    expect(isNodeletError((refused[0] as PromiseRejectedResult).reason, ErrorCode.ErrImagePull)).toBe(true);
  });
});
