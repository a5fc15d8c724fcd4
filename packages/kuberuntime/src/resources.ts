import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { LinuxContainerResources } from "@nodelet/cri-api";
import {
  effectiveRequests,
  getPodQOS,
  isInitContainer,
  isRestartableInitContainer,
  quantityToInt,
  quantityToMilli,
  type V1Container,
  type V1Pod,
  type V1Quantity,
} from "@nodelet/runtime-api";

// Numbers from pkg/kubelet/cm (MilliCPUToShares) and kr/helpers_linux.go (milliCPUToQuota).
const MIN_SHARES = 2;
const MAX_SHARES = 262144;
const SHARES_PER_CPU = 1024;
const MILLI_CPU_TO_CPU = 1000;
const MIN_QUOTA_PERIOD_US = 1000;

// pkg/kubelet/qos/policy.go
const GUARANTEED_OOM_SCORE_ADJ = -997;
const BEST_EFFORT_OOM_SCORE_ADJ = 1000;

/** The API's SystemCriticalPriority: pods at or above it are critical. */
const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

/** cpu.shares for a cpu amount in thousandths: ×1024/1000, at least 2 (also for 0), at most 262144. */
export function milliCPUToShares(milliCPU: number): number {
  if (milliCPU === 0) return MIN_SHARES;
  const shares = Math.floor((milliCPU * SHARES_PER_CPU) / MILLI_CPU_TO_CPU);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** CFS quota (µs per period) for a cpu limit in thousandths; 0 means no limit; at least 1000 µs. */
export function milliCPUToQuota(milliCPU: number, periodUs: number): number {
  if (milliCPU === 0) return 0;
  const quota = Math.floor((milliCPU * periodUs) / MILLI_CPU_TO_CPU);
  return Math.max(MIN_QUOTA_PERIOD_US, quota);
}

export type MemorySwapBehavior = "NoSwap" | "LimitedSwap" | "";

export interface LinuxResourcesOptions {
  /** Enforce cpu limits with CFS quota (the kubelet's cpuCFSQuota, default true). */
  cpuCFSQuota: boolean;
  /** CFS period in µs (the kubelet's cpuCFSQuotaPeriod, 100000 = 100 ms by default). */
  cpuCFSQuotaPeriodUs: number;
  /** The kubelet's memorySwap.swapBehavior; "" means NoSwap. */
  memorySwapBehavior: MemorySwapBehavior;
  /** The node runs cgroup v1 (otherwise the unified v2 hierarchy). */
  cgroupV1: boolean;
  /**
   * Whether the kernel offers swap accounting (see detectSwapController); when false the kubelet
   * configures nothing about swap. Defaults to true.
   */
  swapControllerAvailable?: boolean;
  /**
   * The kubelet's singleProcessOOMKill. When false (its default on cgroup v2) an OOM kill takes the
   * whole container: `memory.oom.group=1`. Ignored on cgroup v1.
   */
  singleProcessOOMKill?: boolean;
  /** Node memory and swap, for LimitedSwap; without both LimitedSwap falls back to NoSwap. */
  memoryCapacityBytes?: number;
  swapCapacityBytes?: number;
}

/**
 * The container's Linux resources, as the kubelet's generateLinuxContainerResources without the
 * OOM score (the caller sets `oomScoreAdj` from oomScoreAdjust). Hugepage limits are left empty:
 * the kubelet lists every page size of the host with limit 0 unless the container asks for some.
 */
export function computeLinuxResources(
  pod: V1Pod,
  container: V1Container,
  options: LinuxResourcesOptions,
): LinuxContainerResources {
  const requests = container.resources?.requests ?? {};
  const limits = container.resources?.limits ?? {};
  // With no cpu request the kubelet takes the limit (what the API server would have defaulted).
  const cpuRequest = requests.cpu ?? limits.cpu;
  const cpuLimitMilli = milli(limits.cpu);
  const memoryLimit = limits.memory === undefined ? 0 : quantityToInt(limits.memory);

  const resources = LinuxContainerResources.fromPartial({
    cpuShares: BigInt(milliCPUToShares(milli(cpuRequest))),
    memoryLimitInBytes: BigInt(memoryLimit),
  });
  if (options.cpuCFSQuota) {
    resources.cpuQuota = BigInt(milliCPUToQuota(cpuLimitMilli, options.cpuCFSQuotaPeriodUs));
    resources.cpuPeriod = BigInt(options.cpuCFSQuotaPeriodUs);
  }
  if (!options.cgroupV1 && !(options.singleProcessOOMKill ?? false)) {
    resources.unified["memory.oom.group"] = "1";
  }
  configureSwap(resources, pod, container, options);
  return resources;
}

// configureContainerSwapResources + swapConfigurationHelper (kr/kuberuntime_container_linux.go).
function configureSwap(
  resources: LinuxContainerResources,
  pod: V1Pod,
  container: V1Container,
  options: LinuxResourcesOptions,
): void {
  if (!(options.swapControllerAvailable ?? true)) return;
  if (options.cgroupV1) {
    // Swap is never granted on v1: memory+swap equals memory, so nothing is swapped above the
    // limit. With no limit both stay 0 (unlimited).
    resources.memorySwapLimitInBytes = resources.memoryLimitInBytes;
    return;
  }
  const swap = limitedSwapBytes(pod, container, options);
  resources.unified["memory.swap.max"] = String(swap ?? 0);
}

// GetContainerSwapBehavior and calcSwapForBurstablePods: LimitedSwap only for Burstable,
// non-critical pods whose container requests memory below its limit.
function limitedSwapBytes(
  pod: V1Pod,
  container: V1Container,
  options: LinuxResourcesOptions,
): number | undefined {
  if (options.memorySwapBehavior !== "LimitedSwap") return undefined;
  const { memoryCapacityBytes, swapCapacityBytes } = options;
  if (memoryCapacityBytes === undefined || swapCapacityBytes === undefined || memoryCapacityBytes <= 0) {
    return undefined;
  }
  if (isCriticalPod(pod) || getPodQOS(pod) !== "Burstable") return undefined;
  const request = bytes(effectiveRequests(container).memory);
  const limit = bytes(container.resources?.limits?.memory);
  if ((request === 0 && limit === 0) || request === limit) return undefined;
  if (request > memoryCapacityBytes) return undefined;
  return Math.floor((request / memoryCapacityBytes) * swapCapacityBytes);
}

/**
 * `types.IsCriticalPod`: a static pod (config source other than the API server), a mirror pod, or
 * a priority at or above system-critical. Most nodelet pods are static, hence critical.
 */
export function isCriticalPod(pod: V1Pod): boolean {
  const annotations = pod.metadata.annotations ?? {};
  const source = annotations["kubernetes.io/config.source"];
  if (source !== undefined && source !== "api") return true;
  if (annotations["kubernetes.io/config.mirror"] !== undefined) return true;
  return (pod.spec.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;
}

/**
 * The kubelet's OOM score for a container (`qos.GetContainerOOMScoreAdjust`): Guaranteed −997,
 * BestEffort 1000, Burstable 1000 − 1000×request/capacity clamped to [3, 999]. A restartable init
 * container (sidecar) scores no higher than the regular container with the smallest memory request.
 * Node-critical pods (priorityClassName system-node-critical) also get −997; nodelet's pod type
 * has no priorityClassName, so that case is not detected.
 */
export function oomScoreAdjust(pod: V1Pod, container: V1Container, memoryCapacityBytes: number): number {
  const qos = getPodQOS(pod);
  if (qos === "Guaranteed") return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === "BestEffort") return BEST_EFFORT_OOM_SCORE_ADJ;
  const score = (request: number) => 1000 - Math.trunc((1000 * request) / memoryCapacityBytes);
  let adjust = score(bytes(effectiveRequests(container).memory));
  if (isSidecar(pod, container) && pod.spec.containers.length > 0) {
    const minRequest = Math.min(...pod.spec.containers.map((c) => bytes(effectiveRequests(c).memory)));
    adjust = Math.min(adjust, score(minRequest));
  }
  // Below Guaranteed's floor (1000 − 997) never; and one below BestEffort at most.
  if (adjust < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adjust >= BEST_EFFORT_OOM_SCORE_ADJ) return BEST_EFFORT_OOM_SCORE_ADJ - 1;
  return adjust;
}

function isSidecar(pod: V1Pod, container: V1Container): boolean {
  return isRestartableInitContainer(container) && isInitContainer(pod, container.name);
}

/**
 * Whether the kernel accounts swap, as the kubelet's swapControllerAvailable: on cgroup v1 the
 * root's `memory.memsw.limit_in_bytes`; on v2 `memory.swap.max` in this process's own cgroup (the
 * root cgroup has none, so a process in the root reads as "not available").
 */
export async function detectSwapController(
  cgroupV1: boolean,
  cgroupRoot = "/sys/fs/cgroup",
): Promise<boolean> {
  let path = join(cgroupRoot, "memory", "memory.memsw.limit_in_bytes");
  if (!cgroupV1) {
    let own: string | undefined;
    try {
      own = (await readFile("/proc/self/cgroup", "utf8")).split("\n").find((line) => line.startsWith("0::"));
    } catch {
      return false;
    }
    if (own === undefined) return false;
    path = join(cgroupRoot, own.slice(3), "memory.swap.max");
  }
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function milli(quantity: V1Quantity | undefined): number {
  return quantity === undefined ? 0 : quantityToMilli(quantity);
}

function bytes(quantity: V1Quantity | undefined): number {
  return quantity === undefined ? 0 : quantityToInt(quantity);
}
