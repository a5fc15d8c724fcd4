import { createHash } from "node:crypto";
import type { AuthConfig } from "@nodelet/cri-api";
import { type Clock, ErrorCode, type ImagePullResult, NodeletError, systemClock } from "@nodelet/runtime-api";
import { pullQpsExceeded, throwIfAborted } from "./errors.js";
import { createPullQueue } from "./pull-queue.js";
import { createSingleFlight, type JoinOptions, type ProgressListener } from "./single-flight.js";
import { createTokenBucket } from "./token-bucket.js";

/** The kubelet's image-pull limits (KubeletConfiguration fields of the same names). */
export interface PullLimitOptions {
  /** One pull at a time, in arrival order. Default true, or false when maxParallelImagePulls > 1. */
  serializeImagePulls?: boolean | undefined;
  /** With serializeImagePulls false: at most this many pulls at once; undefined or < 1 is unlimited. */
  maxParallelImagePulls?: number | undefined;
  /** Pulls per second allowed to start (token bucket, never waits). Default 5; 0 disables the throttle. */
  registryPullQPS?: number | undefined;
  /** Size of the token bucket. Default 10. */
  registryBurst?: number | undefined;
  /** Drives the token bucket and the durations. Default the system clock. */
  clock?: Clock | undefined;
}

export const DEFAULT_REGISTRY_PULL_QPS = 5;
export const DEFAULT_REGISTRY_BURST = 10;

export interface ResolvedPullLimits {
  serializeImagePulls: boolean;
  /** undefined: no limit. */
  maxParallelImagePulls: number | undefined;
  registryPullQPS: number;
  registryBurst: number;
}

function invalid(message: string): NodeletError {
  return new NodeletError(ErrorCode.InvalidConfig, `invalid configuration: ${message}`);
}

/**
 * Applies the kubelet's defaults and checks: QPS and burst not negative, and no parallelism
 * above 1 while pulls are serialized.
 */
export function resolvePullLimits(options: PullLimitOptions = {}): ResolvedPullLimits {
  const max = options.maxParallelImagePulls;
  if (max !== undefined && !Number.isFinite(max)) {
    throw invalid(`maxParallelImagePulls ${max} must be a finite number`);
  }
  const serializeImagePulls = options.serializeImagePulls ?? !(max !== undefined && max > 1);
  if (serializeImagePulls && max !== undefined && max > 1) {
    throw invalid(
      `maxParallelImagePulls ${max} must be 1 or unset when serializeImagePulls is true; set serializeImagePulls to false to pull in parallel`,
    );
  }
  const registryPullQPS = options.registryPullQPS ?? DEFAULT_REGISTRY_PULL_QPS;
  const registryBurst = options.registryBurst ?? DEFAULT_REGISTRY_BURST;
  if (!(registryPullQPS >= 0))
    throw invalid(`registryPullQPS ${registryPullQPS} must not be a negative number`);
  if (!(registryBurst >= 0)) throw invalid(`registryBurst ${registryBurst} must not be a negative number`);
  return {
    serializeImagePulls,
    maxParallelImagePulls: max !== undefined && max >= 1 ? Math.floor(max) : undefined,
    registryPullQPS,
    registryBurst,
  };
}

export interface TimedPullResult extends ImagePullResult {
  /** Time the pull itself took, from leaving the queue to the result. */
  pullDurationMs: number;
}

export interface PullLimiter {
  /**
   * Runs `pull` under the limits, in the kubelet's order: callers with the same `key` share one
   * pull; the pull waits for a slot (serial or parallel); when it gets one it takes a token
   * from the bucket or fails with "pull QPS exceeded.".
   */
  run(
    key: string,
    image: string,
    pull: (
      signal: AbortSignal | undefined,
      onProgress: ProgressListener | undefined,
    ) => Promise<ImagePullResult>,
    options?: JoinOptions,
  ): Promise<TimedPullResult>;
}

export interface PullLimiterOptions {
  limits: ResolvedPullLimits;
  /** Share one pull among callers of the same key. Default true. */
  singleFlight?: boolean | undefined;
  clock?: Clock | undefined;
}

export function createPullLimiter(options: PullLimiterOptions): PullLimiter {
  const { limits } = options;
  const clock = options.clock ?? systemClock;
  const queue = createPullQueue(limits.serializeImagePulls ? 1 : limits.maxParallelImagePulls);
  const bucket =
    limits.registryPullQPS > 0
      ? createTokenBucket(limits.registryPullQPS, limits.registryBurst, clock)
      : undefined;
  const flight = options.singleFlight === false ? undefined : createSingleFlight<TimedPullResult>();

  const limited = (
    image: string,
    pull: (
      signal: AbortSignal | undefined,
      onProgress: ProgressListener | undefined,
    ) => Promise<ImagePullResult>,
    signal: AbortSignal | undefined,
    onProgress: ProgressListener | undefined,
  ) =>
    queue.run(
      image,
      async (): Promise<TimedPullResult> => {
        throwIfAborted(signal, image);
        const started = clock.now();
        if (bucket && !bucket.tryAccept()) throw pullQpsExceeded(image);
        const result = await pull(signal, onProgress);
        return { ...result, pullDurationMs: clock.now() - started };
      },
      signal,
    );

  return {
    run(key, image, pull, join = {}) {
      if (!flight) return limited(image, pull, join.signal, join.onProgress);
      return flight.run(key, image, ({ signal, emit }) => limited(image, pull, signal, emit), join);
    },
  };
}

/** A stable, non-reversible identity of a credential (or of none), for single-flight keys. */
export function credentialIdentity(auth: AuthConfig | undefined): string {
  if (!auth) return "anonymous";
  const fields = [
    auth.username,
    auth.password,
    auth.auth,
    auth.serverAddress,
    auth.identityToken,
    auth.registryToken,
  ];
  return createHash("sha256").update(JSON.stringify(fields)).digest("hex").slice(0, 32);
}
