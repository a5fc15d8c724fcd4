import type { ImagePuller, ImagePullRequest, ImagePullResult } from "@nodelet/runtime-api";
import {
  createPullLimiter,
  credentialIdentity,
  type PullLimiter,
  type PullLimitOptions,
  resolvePullLimits,
} from "./limits.js";

export interface LimitedPullerOptions extends PullLimitOptions {
  /**
   * Callers pulling the same image with the same credential while a pull of it runs wait for
   * that pull and share its result. Default true.
   */
  singleFlight?: boolean | undefined;
}

function wrap(puller: ImagePuller, limiter: PullLimiter): ImagePuller {
  return {
    async pullImage(request: ImagePullRequest): Promise<ImagePullResult> {
      const key = `${request.image}\n${credentialIdentity(request.auth)}`;
      const { imageRef, imageSize } = await limiter.run(
        key,
        request.image,
        (signal, onProgress) => puller.pullImage({ ...request, signal, onProgress }),
        { signal: request.signal, onProgress: request.onProgress },
      );
      return imageSize === undefined ? { imageRef } : { imageRef, imageSize };
    },
  };
}

/**
 * Any ImagePuller behind the kubelet's limits, with the kubelet's defaults: serialized pulls
 * (or `maxParallelImagePulls` at once), a token bucket of `registryBurst` refilled at
 * `registryPullQPS` that refuses rather than waits ("pull QPS exceeded."), and one pull per
 * image and credential at a time. Throws InvalidConfig for contradictory limits.
 */
export function createLimitedPuller(puller: ImagePuller, options: LimitedPullerOptions = {}): ImagePuller {
  return wrap(
    puller,
    createPullLimiter({
      limits: resolvePullLimits(options),
      singleFlight: options.singleFlight,
      clock: options.clock,
    }),
  );
}

/** One pull at a time, first come first served (the kubelet's serial puller). */
export function createSerialPuller(puller: ImagePuller): ImagePuller {
  return createLimitedPuller(puller, { serializeImagePulls: true, registryPullQPS: 0, singleFlight: false });
}

/** At most `maxParallelImagePulls` pulls at once; undefined or < 1 is unlimited (the kubelet's parallel puller). */
export function createParallelPuller(puller: ImagePuller, maxParallelImagePulls?: number): ImagePuller {
  return createLimitedPuller(puller, {
    serializeImagePulls: false,
    maxParallelImagePulls,
    registryPullQPS: 0,
    singleFlight: false,
  });
}

/** Only the token bucket: a pull that finds it empty fails with "pull QPS exceeded." (ErrImagePull). */
export function createThrottledPuller(
  puller: ImagePuller,
  options: Pick<PullLimitOptions, "registryPullQPS" | "registryBurst" | "clock"> = {},
): ImagePuller {
  return createLimitedPuller(puller, { ...options, serializeImagePulls: false, singleFlight: false });
}

/** Only the sharing: concurrent pulls of the same image with the same credential become one. */
export function createSingleFlightPuller(puller: ImagePuller): ImagePuller {
  return createLimitedPuller(puller, { serializeImagePulls: false, registryPullQPS: 0, singleFlight: true });
}
