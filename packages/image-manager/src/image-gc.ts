import { hostname } from "node:os";
import { ContainerFilter, ImageSpec } from "@nodelet/cri-api";
import {
  type Clock,
  ErrorCode,
  type EventType,
  formatGoDuration,
  type ImageManagerService,
  NodeletError,
  type RuntimeService,
  systemClock,
} from "@nodelet/runtime-api";
import type { Registry } from "prom-client";
import { aggregateMessage } from "./errors.js";
import { type FsStatsReader, statfsStats } from "./fs-stats.js";
import { imageGarbageCollectedMetric } from "./metrics.js";

/** The kubelet's ImageGCPolicy (imageGCHighThresholdPercent, imageGCLowThresholdPercent, imageMinimumGCAge, imageMaximumGCAge). */
export interface ImageGCPolicy {
  /** Usage (%) at or above which image GC runs. 100 turns image GC off. */
  highThresholdPercent: number;
  /** Usage (%) image GC frees down to. */
  lowThresholdPercent: number;
  /** Images detected more recently than this are never removed for space. */
  minAgeMs: number;
  /** Unused images whose last use is older than this are removed whatever the usage; 0 turns it off. */
  maxAgeMs: number;
}

export const DEFAULT_IMAGE_GC_POLICY: Readonly<ImageGCPolicy> = Object.freeze({
  highThresholdPercent: 85,
  lowThresholdPercent: 80,
  minAgeMs: 120_000,
  maxAgeMs: 0,
});

/**
 * Receives node-level events (FreeDiskSpaceFailed, InvalidDiskCapacity). runtime-api's
 * EventRecorder only addresses pods, hence this type.
 */
export interface NodeEventRecorder {
  event(
    object: { kind: "Node"; name: string; uid: string },
    type: EventType,
    reason: string,
    message: string,
  ): void;
}

export interface ImageGCManagerOptions {
  images: ImageManagerService;
  /** Containers in every state are listed to find the images in use. */
  runtime: RuntimeService;
  policy?: Partial<ImageGCPolicy> | undefined;
  clock?: Clock | undefined;
  recorder?: NodeEventRecorder | undefined;
  /** The node the events are about. Default the host name. */
  nodeName?: string | undefined;
  /** Where `kubelet_image_garbage_collected_total` is registered. */
  registry?: Registry | undefined;
  /** The pod sandbox (pause) image, always treated as in use. */
  sandboxImage?: string | undefined;
  /**
   * Capacity and free space of the image filesystem, given the mountpoint from CRI ImageFsInfo.
   * Default statfs(2).
   */
  fsStats?: FsStatsReader | undefined;
}

/** What image GC knows of an image. Times are ms since the epoch; 0 means never / unknown past. */
export interface ImageRecord {
  id: string;
  repoTags: string[];
  firstDetectedMs: number;
  lastUsedMs: number;
  sizeBytes: number;
  pinned: boolean;
}

export type ImageGCReason = "age" | "space";

export interface RemovedImage {
  id: string;
  repoTags: string[];
  sizeBytes: number;
  reason: ImageGCReason;
}

export interface ImageGCResult {
  /** Images removed, in the order they were removed. */
  removed: RemovedImage[];
  /** Bytes freed by every removal (their image sizes). */
  freedBytes: number;
  /** Image filesystem figures seen after the age pass; undefined when GC is disabled. */
  capacityBytes?: number | undefined;
  availableBytes?: number | undefined;
  usagePercent?: number | undefined;
  /** What the space pass set out to free; 0 when usage was below the high threshold. */
  amountToFreeBytes: number;
  /** Bytes the space pass freed. */
  spaceFreedBytes: number;
  /** The space pass freed what it set out to (always true below the high threshold). */
  goalMet: boolean;
  /** highThresholdPercent is 100: nothing was looked at. */
  disabled: boolean;
}

export type ImageGCFailure = "FreeDiskSpaceFailed" | "InvalidDiskCapacity" | "ImageDeletionFailed";

/** Image GC did not do all it had to; `result` says what it did. */
export class ImageGCError extends NodeletError {
  readonly reason: ImageGCFailure;
  readonly result: ImageGCResult;

  constructor(reason: ImageGCFailure, message: string, result: ImageGCResult, cause?: unknown) {
    const code =
      reason === "FreeDiskSpaceFailed"
        ? ErrorCode.ResourceExhausted
        : reason === "InvalidDiskCapacity"
          ? ErrorCode.Internal
          : ErrorCode.Unknown;
    super(code, message, {
      ...(cause === undefined ? {} : { cause }),
      details: { reason, freedBytes: result.freedBytes, amountToFreeBytes: result.amountToFreeBytes },
    });
    this.name = "ImageGCError";
    this.reason = reason;
    this.result = result;
  }
}

export interface ImageGCManager {
  readonly policy: Readonly<ImageGCPolicy>;
  /**
   * Records the images present and those in use (the kubelet does this every 5 min). The first
   * call records the images already there as detected at an unknown time in the past (0), as the
   * kubelet's first detection at startup does; later calls record new images as detected now.
   */
  detectImages(): Promise<void>;
  /**
   * 1) With maxAgeMs > 0, once the manager has existed longer than maxAgeMs: removes unused images
   * whose last use is older than maxAgeMs. 2) If usage of the image filesystem is at or above
   * highThresholdPercent: removes unused, unpinned images older than minAgeMs, least recently
   * used first, until usage would be at lowThresholdPercent. Rejects with ImageGCError when it
   * could not free enough or a removal failed.
   */
  garbageCollect(): Promise<ImageGCResult>;
  /** Removes every unused, unpinned image older than minAgeMs (the eviction manager's call). */
  deleteUnusedImages(): Promise<ImageGCResult>;
  /** A snapshot of the records. */
  records(): ImageRecord[];
}

function invalidPolicy(message: string): NodeletError {
  return new NodeletError(ErrorCode.InvalidConfig, message);
}

/** The kubelet's checks of the policy; throws InvalidConfig. */
export function validateImageGCPolicy(policy: ImageGCPolicy): void {
  const { highThresholdPercent: high, lowThresholdPercent: low, minAgeMs, maxAgeMs } = policy;
  if (!(high >= 0 && high <= 100)) {
    throw invalidPolicy(`invalid HighThresholdPercent ${high}, must be in range [0-100]`);
  }
  if (!(low >= 0 && low <= 100)) {
    throw invalidPolicy(`invalid LowThresholdPercent ${low}, must be in range [0-100]`);
  }
  if (low > high) {
    throw invalidPolicy(`LowThresholdPercent ${low} can not be higher than HighThresholdPercent ${high}`);
  }
  if (!(minAgeMs >= 0)) throw invalidPolicy(`imageMinimumGCAge ${minAgeMs}ms must not be negative`);
  if (!(maxAgeMs >= 0)) throw invalidPolicy(`imageMaximumGCAge ${maxAgeMs}ms must not be negative`);
  if (maxAgeMs > 0 && maxAgeMs <= minAgeMs) {
    throw invalidPolicy(
      `imageMaximumGCAge ${formatGoDuration(maxAgeMs)} must be greater than imageMinimumGCAge ${formatGoDuration(minAgeMs)}`,
    );
  }
}

type Candidate = ImageRecord;

function emptyResult(): ImageGCResult {
  return {
    removed: [],
    freedBytes: 0,
    amountToFreeBytes: 0,
    spaceFreedBytes: 0,
    goalMet: true,
    disabled: false,
  };
}

/**
 * The kubelet's image garbage collector (pkg/kubelet/images/image_gc_manager.go) over the CRI.
 * Throws InvalidConfig for an invalid policy.
 */
export function createImageGCManager(options: ImageGCManagerOptions): ImageGCManager {
  const policy: ImageGCPolicy = { ...DEFAULT_IMAGE_GC_POLICY, ...definedOnly(options.policy ?? {}) };
  validateImageGCPolicy(policy);
  const { images, runtime, recorder, sandboxImage } = options;
  const clock = options.clock ?? systemClock;
  const fsStats = options.fsStats ?? statfsStats;
  const nodeName = options.nodeName ?? hostname();
  const collected = options.registry ? imageGarbageCollectedMetric(options.registry) : undefined;
  const records = new Map<string, ImageRecord>();
  const beganGC = clock.now();
  let initialized = false;
  let tail: Promise<unknown> = Promise.resolve();

  // One detection or collection at a time, as the kubelet's imageRecordsLock.
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };

  const nodeEvent = (reason: string, message: string) => {
    recorder?.event({ kind: "Node", name: nodeName, uid: nodeName }, "Warning", reason, message);
  };

  /** Updates the records; returns the references (ids, tags, digests) in use. */
  const detect = async (detectTime: number): Promise<Set<string>> => {
    const [listed, containers] = await Promise.all([
      images.listImages(),
      runtime.listContainers(ContainerFilter.fromPartial({})),
    ]);
    const inUse = new Set<string>();
    for (const c of containers) {
      for (const ref of [c.imageRef, c.imageId, c.image?.image]) if (ref) inUse.add(ref);
    }
    if (sandboxImage) {
      inUse.add(sandboxImage);
      try {
        const status = await images.imageStatus(ImageSpec.fromPartial({ image: sandboxImage }), false);
        if (status.image) inUse.add(status.image.id);
      } catch {
        // As the kubelet: a sandbox image it cannot inspect is simply not added.
      }
    }
    const now = clock.now();
    const current = new Set<string>();
    for (const image of listed) {
      current.add(image.id);
      let record = records.get(image.id);
      if (!record) {
        record = {
          id: image.id,
          repoTags: [],
          firstDetectedMs: detectTime,
          lastUsedMs: 0,
          sizeBytes: 0,
          pinned: false,
        };
        records.set(image.id, record);
      }
      const used = [image.id, ...image.repoTags, ...image.repoDigests].some((ref) => inUse.has(ref));
      if (used) {
        record.lastUsedMs = now;
        inUse.add(image.id);
      }
      record.repoTags = [...image.repoTags];
      record.sizeBytes = Number(image.size);
      record.pinned = image.pinned;
    }
    for (const id of records.keys()) if (!current.has(id)) records.delete(id);
    return inUse;
  };

  /** Unused, unpinned images, least recently used first, then first detected first. */
  const evictionOrder = async (freeTime: number): Promise<Candidate[]> => {
    const inUse = await detect(freeTime);
    const candidates = [...records.values()]
      .filter((r) => !inUse.has(r.id) && !r.pinned)
      .map((r) => ({ ...r, repoTags: [...r.repoTags] }));
    candidates.sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.firstDetectedMs - b.firstDetectedMs);
    return candidates;
  };

  const remove = async (image: Candidate, reason: ImageGCReason, result: ImageGCResult) => {
    await images.removeImage(ImageSpec.fromPartial({ image: image.id }));
    records.delete(image.id);
    collected?.inc({ reason });
    result.removed.push({ id: image.id, repoTags: image.repoTags, sizeBytes: image.sizeBytes, reason });
    result.freedBytes += image.sizeBytes;
  };

  /** The space pass: removes candidates until `bytesToFree` is reached. */
  const freeSpace = async (
    bytesToFree: number,
    freeTime: number,
    candidates: readonly Candidate[],
    result: ImageGCResult,
  ): Promise<void> => {
    const errors: unknown[] = [];
    for (const image of candidates) {
      if (image.lastUsedMs >= freeTime) continue; // used during this very pass
      if (freeTime - image.firstDetectedMs < policy.minAgeMs) continue; // may be about to be used
      try {
        await remove(image, "space", result);
      } catch (err) {
        errors.push(err);
        continue;
      }
      result.spaceFreedBytes += image.sizeBytes;
      if (result.spaceFreedBytes >= bytesToFree) break;
    }
    if (errors.length > 0) {
      result.goalMet = result.spaceFreedBytes >= bytesToFree;
      const bytes = bytesToFree === Number.MAX_SAFE_INTEGER ? "all unused images" : `${bytesToFree} bytes`;
      throw new ImageGCError(
        "ImageDeletionFailed",
        `wanted to free ${bytes}, but freed ${result.spaceFreedBytes} bytes space with errors in image deletion: ${aggregateMessage(errors)}`,
        result,
        errors.length === 1 ? errors[0] : new AggregateError(errors),
      );
    }
  };

  return {
    policy: Object.freeze({ ...policy }),

    detectImages() {
      return exclusive(async () => {
        await detect(initialized ? clock.now() : 0);
        initialized = true;
      });
    },

    garbageCollect() {
      return exclusive(async () => {
        const result = emptyResult();
        if (policy.highThresholdPercent >= 100) return { ...result, disabled: true };
        const freeTime = clock.now();
        let candidates = await evictionOrder(freeTime);

        if (policy.maxAgeMs > 0 && freeTime - beganGC > policy.maxAgeMs) {
          const errors: unknown[] = [];
          const remaining: Candidate[] = [];
          for (const image of candidates) {
            if (freeTime - image.lastUsedMs > policy.maxAgeMs) {
              try {
                await remove(image, "age", result);
              } catch (err) {
                errors.push(err);
                remaining.push(image);
              }
            } else {
              remaining.push(image);
            }
          }
          candidates = remaining;
          if (errors.length > 0) {
            throw new ImageGCError(
              "ImageDeletionFailed",
              `wanted to free images older than ${formatGoDuration(policy.maxAgeMs)}, encountered errors in image deletion: ${aggregateMessage(errors)}`,
              result,
              errors.length === 1 ? errors[0] : new AggregateError(errors),
            );
          }
        }

        const fsInfo = await images.imageFsInfo();
        const mountpoint = fsInfo.imageFilesystems[0]?.fsId?.mountpoint;
        if (!mountpoint) {
          throw new NodeletError(
            ErrorCode.InvalidResponse,
            "ImageFsInfo reported no image filesystem with a mountpoint; cannot tell the disk usage",
          );
        }
        const stats = await fsStats(mountpoint);
        const capacity = Math.max(0, Math.trunc(stats.capacityBytes));
        const available = Math.min(Math.max(0, Math.trunc(stats.availableBytes)), capacity);
        result.capacityBytes = capacity;
        result.availableBytes = available;
        if (capacity === 0) {
          const message = `invalid capacity 0 on image filesystem (${mountpoint})`;
          nodeEvent("InvalidDiskCapacity", message);
          throw new ImageGCError("InvalidDiskCapacity", message, result);
        }
        const usagePercent = 100 - Math.trunc((available * 100) / capacity);
        result.usagePercent = usagePercent;
        if (usagePercent >= policy.highThresholdPercent) {
          // Integer arithmetic as the kubelet's int64: capacity × (100 − low) / 100 − available.
          const amountToFree =
            Number((BigInt(capacity) * BigInt(100 - policy.lowThresholdPercent)) / 100n) - available;
          result.amountToFreeBytes = amountToFree;
          await freeSpace(amountToFree, freeTime, candidates, result);
          result.goalMet = result.spaceFreedBytes >= amountToFree;
          if (!result.goalMet) {
            const message =
              `Failed to garbage collect required amount of images. Attempted to free ${amountToFree} bytes, ` +
              `but only found ${result.spaceFreedBytes} bytes eligible to free.`;
            nodeEvent("FreeDiskSpaceFailed", message);
            throw new ImageGCError("FreeDiskSpaceFailed", message, result);
          }
        }
        return result;
      });
    },

    deleteUnusedImages() {
      return exclusive(async () => {
        const result = emptyResult();
        const freeTime = clock.now();
        const candidates = await evictionOrder(freeTime);
        await freeSpace(Number.MAX_SAFE_INTEGER, freeTime, candidates, result);
        result.goalMet = true;
        return result;
      });
    },

    records() {
      return [...records.values()].map((r) => ({ ...r, repoTags: [...r.repoTags] }));
    },
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
