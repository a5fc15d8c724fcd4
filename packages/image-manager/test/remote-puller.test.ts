import { AuthConfig } from "@nodelet/cri-api";
import { ErrorCode, NodeletError } from "@nodelet/runtime-api";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createRemotePuller } from "../src/index.js";
import { deferred, fakeImageService, image } from "./support/fakes.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("createRemotePuller", () => {
  it("pulls over the CRI with no deadline and reads the size from ImageStatus", async () => {
    const images = fakeImageService();
    images.onPull = async (name) => {
      images.images.push(image("sha256:abc", [name], 4_200_000));
      return "sha256:abc";
    };
    const auth = AuthConfig.fromPartial({ username: "u", password: "p" });
    const result = await createRemotePuller(images).pullImage({ image: "busybox:1.36", auth });
    expect(result).toEqual({ imageRef: "sha256:abc", imageSize: 4_200_000 });
    expect(images.pulls).toEqual([{ image: "busybox:1.36", auth, timeoutMs: 0 }]);
  });

  it("leaves the size out when ImageStatus fails", async () => {
    const images = fakeImageService();
    images.imageStatus = async () => {
      throw new Error("status unavailable");
    };
    await expect(createRemotePuller(images).pullImage({ image: "x:1" })).resolves.toEqual({
      imageRef: "sha256:x1",
    });
  });

  it("reports the elapsed time every interval while the pull runs, and stops when it ends", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const images = fakeImageService();
    const gate = deferred<string>();
    images.onPull = () => gate.promise;
    const progress: number[] = [];
    const pulling = createRemotePuller(images, { progressIntervalMs: 10_000 }).pullImage({
      image: "big:1",
      onProgress: (p) => {
        expect(p.image).toBe("big:1");
        progress.push(p.elapsedMs);
      },
    });
    await vi.advanceTimersByTimeAsync(35_000);
    expect(progress).toEqual([10_000, 20_000, 30_000]);
    gate.resolve("sha256:big");
    await pulling;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(progress).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("clears the timer when the pull fails", async () => {
    vi.useFakeTimers();
    const images = fakeImageService();
    images.onPull = async () => {
      throw new NodeletError(ErrorCode.Unknown, "failed to resolve reference");
    };
    await expect(
      createRemotePuller(images, { progressIntervalMs: 5 }).pullImage({ image: "x:1", onProgress: () => {} }),
    ).rejects.toThrow("failed to resolve reference");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("passes the signal to the CRI call", async () => {
    const images = fakeImageService();
    let seen: AbortSignal | undefined;
    images.onPull = async (_name, _auth, signal) => {
      seen = signal;
      return "sha256:1";
    };
    const controller = new AbortController();
    await createRemotePuller(images).pullImage({ image: "x:1", signal: controller.signal });
    expect(seen).toBe(controller.signal);
  });
});
