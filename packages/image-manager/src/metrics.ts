import { registerMetric } from "@nodelet/runtime-api";
import { Counter, Histogram, type Registry } from "prom-client";

export const IMAGE_PULL_DURATION_SECONDS = "kubelet_image_pull_duration_seconds";
export const IMAGE_GARBAGE_COLLECTED_TOTAL = "kubelet_image_garbage_collected_total";

/** The kubelet's imagePullDurationBuckets, in seconds. */
export const IMAGE_PULL_DURATION_BUCKETS: readonly number[] = [
  1, 5, 10, 20, 30, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600,
];

const MB = 1024 * 1024;
const GB = 1024 * MB;

/** Lower bounds (exclusive) and labels of the kubelet's imageSizeBuckets. */
const IMAGE_SIZE_BUCKETS: ReadonlyArray<readonly [number, string]> = [
  [0, "0-10MB"],
  [10 * MB, "10MB-100MB"],
  [100 * MB, "100MB-500MB"],
  [500 * MB, "500MB-1GB"],
  [1 * GB, "1GB-5GB"],
  [5 * GB, "5GB-10GB"],
  [10 * GB, "10GB-20GB"],
  [20 * GB, "20GB-30GB"],
  [30 * GB, "30GB-40GB"],
  [40 * GB, "40GB-60GB"],
  [60 * GB, "60GB-100GB"],
  [100 * GB, "GT100GB"],
];

/** The `image_size_in_bytes` label for a size: "0-10MB" ... "GT100GB", or "N/A" when unknown (0). */
export function imageSizeBucket(sizeBytes: number): string {
  if (!(sizeBytes > 0)) return "N/A";
  for (let i = IMAGE_SIZE_BUCKETS.length - 1; i >= 0; i--) {
    const [lower, label] = IMAGE_SIZE_BUCKETS[i] as readonly [number, string];
    if (sizeBytes > lower) return label;
  }
  return "N/A";
}

/** `kubelet_image_pull_duration_seconds{image_size_in_bytes}`, registered once per registry. */
export function imagePullDurationMetric(registry: Registry): Histogram<"image_size_in_bytes"> {
  return registerMetric(registry, Histogram, {
    name: IMAGE_PULL_DURATION_SECONDS,
    help: "Duration in seconds to pull an image.",
    labelNames: ["image_size_in_bytes"],
    buckets: [...IMAGE_PULL_DURATION_BUCKETS],
  });
}

/** `kubelet_image_garbage_collected_total{reason}`, registered once per registry. */
export function imageGarbageCollectedMetric(registry: Registry): Counter<"reason"> {
  return registerMetric(registry, Counter, {
    name: IMAGE_GARBAGE_COLLECTED_TOTAL,
    help: "Total number of images garbage collected by the kubelet, whether through disk usage or image age.",
    labelNames: ["reason"],
  });
}
