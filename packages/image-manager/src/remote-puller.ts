import { ImageSpec } from "@nodelet/cri-api";
import {
  type Clock,
  type ImageManagerService,
  type ImagePuller,
  type ImagePullRequest,
  type ImagePullResult,
  systemClock,
} from "@nodelet/runtime-api";

export interface RemotePullerOptions {
  /** Measures the elapsed time reported as progress. Default the system clock. */
  clock?: Clock | undefined;
  /** How often a running pull reports its elapsed time through onProgress. Default 10 000 ms. */
  progressIntervalMs?: number | undefined;
}

export const DEFAULT_PROGRESS_INTERVAL_MS = 10_000;

/**
 * The default ImagePuller: CRI PullImage with no deadline (the signal cancels it), reporting the
 * elapsed time every `progressIntervalMs` while it runs (the CRI tells nothing else), then the
 * image's size from one ImageStatus call, best effort.
 */
export function createRemotePuller(
  images: ImageManagerService,
  options: RemotePullerOptions = {},
): ImagePuller {
  const clock = options.clock ?? systemClock;
  const intervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  return {
    async pullImage(request: ImagePullRequest): Promise<ImagePullResult> {
      const { image, auth, sandboxConfig, signal, onProgress } = request;
      const spec = ImageSpec.fromPartial({ image });
      const started = clock.now();
      const timer =
        onProgress && intervalMs > 0
          ? setInterval(() => onProgress({ image, elapsedMs: clock.now() - started }), intervalMs)
          : undefined;
      timer?.unref();
      try {
        const imageRef = await images.pullImage(spec, auth, sandboxConfig, { signal, timeoutMs: 0 });
        let imageSize: number | undefined;
        try {
          const status = await images.imageStatus(spec, false, { signal });
          if (status.image) imageSize = Number(status.image.size);
        } catch {
          // The size is informative only; the pull succeeded.
        }
        return imageSize === undefined ? { imageRef } : { imageRef, imageSize };
      } finally {
        if (timer) clearInterval(timer);
      }
    },
  };
}
