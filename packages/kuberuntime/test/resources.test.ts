import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Container, V1Pod, V1ResourceRequirements } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import {
  computeLinuxResources,
  detectSwapController,
  isCriticalPod,
  type LinuxResourcesOptions,
  milliCPUToQuota,
  milliCPUToShares,
  oomScoreAdjust,
} from "../src/resources.js";

const GiB = 2 ** 30;

function c(name: string, resources?: V1ResourceRequirements, extra: Partial<V1Container> = {}): V1Container {
  return { name, ...(resources ? { resources } : {}), ...extra };
}

function pod(containers: V1Container[], initContainers: V1Container[] = []): V1Pod {
  return { metadata: { name: "p", uid: "u" }, spec: { containers, initContainers } };
}

const v2: LinuxResourcesOptions = {
  cpuCFSQuota: true,
  cpuCFSQuotaPeriodUs: 100_000,
  memorySwapBehavior: "NoSwap",
  cgroupV1: false,
};
const v1: LinuxResourcesOptions = { ...v2, cgroupV1: true };

describe("cpu conversions", () => {
  it.each([
    [0, 2],
    [1, 2],
    [2, 2],
    [500, 512],
    [1000, 1024],
    [250, 256],
    [10_000_000, 262144],
  ])("milliCPUToShares(%i) = %i", (milli, shares) => {
    expect(milliCPUToShares(milli)).toBe(shares);
  });

  it.each([
    [0, 100_000, 0],
    [500, 100_000, 50_000],
    [100, 100_000, 10_000],
    [1, 100_000, 1000],
    [9, 100_000, 1000],
    [2000, 100_000, 200_000],
    [500, 50_000, 25_000],
  ])("milliCPUToQuota(%i, %i) = %i", (milli, period, quota) => {
    expect(milliCPUToQuota(milli, period)).toBe(quota);
  });
});

describe("computeLinuxResources", () => {
  it("takes shares from the request and quota from the limit", () => {
    const container = c("a", { requests: { cpu: "500m" }, limits: { cpu: "1", memory: "256Mi" } });
    const r = computeLinuxResources(pod([container]), container, v2);
    expect(r.cpuShares).toBe(512n);
    expect(r.cpuQuota).toBe(100_000n);
    expect(r.cpuPeriod).toBe(100_000n);
    expect(r.memoryLimitInBytes).toBe(268435456n);
    expect(r.oomScoreAdj).toBe(0n);
    expect(r.hugepageLimits).toEqual([]);
  });

  it("takes shares from the limit when there is no request", () => {
    const container = c("a", { limits: { cpu: "100m" } });
    const r = computeLinuxResources(pod([container]), container, v2);
    expect(r.cpuShares).toBe(102n);
    expect(r.cpuQuota).toBe(10_000n);
  });

  it("gives 2 shares, no quota and no memory limit to a container without resources", () => {
    const container = c("a");
    const r = computeLinuxResources(pod([container]), container, v2);
    expect(r.cpuShares).toBe(2n);
    expect(r.cpuQuota).toBe(0n);
    expect(r.cpuPeriod).toBe(100_000n);
    expect(r.memoryLimitInBytes).toBe(0n);
  });

  it("floors the quota at 1000 µs", () => {
    const container = c("a", { limits: { cpu: "1m" } });
    expect(computeLinuxResources(pod([container]), container, v2).cpuQuota).toBe(1000n);
  });

  it("sets neither quota nor period without cpuCFSQuota", () => {
    const container = c("a", { limits: { cpu: "1" } });
    const r = computeLinuxResources(pod([container]), container, { ...v2, cpuCFSQuota: false });
    expect(r.cpuQuota).toBe(0n);
    expect(r.cpuPeriod).toBe(0n);
  });

  it("uses the configured CFS period", () => {
    const container = c("a", { limits: { cpu: "500m" } });
    const r = computeLinuxResources(pod([container]), container, { ...v2, cpuCFSQuotaPeriodUs: 50_000 });
    expect(r.cpuQuota).toBe(25_000n);
    expect(r.cpuPeriod).toBe(50_000n);
  });

  it("on cgroup v1 with NoSwap sets memory+swap to the memory limit", () => {
    const container = c("a", { limits: { memory: "1Gi" } });
    const r = computeLinuxResources(pod([container]), container, v1);
    expect(r.memoryLimitInBytes).toBe(BigInt(GiB));
    expect(r.memorySwapLimitInBytes).toBe(r.memoryLimitInBytes);
    expect(r.unified).toEqual({});
  });

  it("on cgroup v1 never grants LimitedSwap", () => {
    const container = c("a", { requests: { memory: "256Mi" }, limits: { memory: "1Gi" } });
    const r = computeLinuxResources(pod([container]), container, {
      ...v1,
      memorySwapBehavior: "LimitedSwap",
      memoryCapacityBytes: 4 * GiB,
      swapCapacityBytes: 4 * GiB,
    });
    expect(r.memorySwapLimitInBytes).toBe(BigInt(GiB));
  });

  it("on cgroup v2 disables swap and groups OOM kills", () => {
    const container = c("a", { limits: { memory: "1Gi" } });
    const r = computeLinuxResources(pod([container]), container, v2);
    expect(r.unified).toEqual({ "memory.oom.group": "1", "memory.swap.max": "0" });
    expect(r.memorySwapLimitInBytes).toBe(0n);
  });

  it("leaves swap alone without a swap controller, and the OOM group with singleProcessOOMKill", () => {
    const container = c("a", { limits: { memory: "1Gi" } });
    expect(
      computeLinuxResources(pod([container]), container, {
        ...v2,
        swapControllerAvailable: false,
        singleProcessOOMKill: true,
      }).unified,
    ).toEqual({});
    expect(
      computeLinuxResources(pod([container]), container, { ...v1, swapControllerAvailable: false })
        .memorySwapLimitInBytes,
    ).toBe(0n);
  });

  it("grants LimitedSwap in proportion to the memory request for a Burstable, non-critical pod", () => {
    const container = c("a", { requests: { memory: "1Gi" }, limits: { memory: "2Gi" } });
    const options: LinuxResourcesOptions = {
      ...v2,
      memorySwapBehavior: "LimitedSwap",
      memoryCapacityBytes: 4 * GiB,
      swapCapacityBytes: 2 * GiB,
    };
    expect(computeLinuxResources(pod([container]), container, options).unified["memory.swap.max"]).toBe(
      String(GiB / 2),
    );
    const staticPod: V1Pod = {
      ...pod([container]),
      metadata: { name: "p", annotations: { "kubernetes.io/config.source": "file" } },
    };
    expect(computeLinuxResources(staticPod, container, options).unified["memory.swap.max"]).toBe("0");
    const equal = c("a", { requests: { memory: "1Gi", cpu: "1" }, limits: { memory: "1Gi" } });
    expect(computeLinuxResources(pod([equal]), equal, options).unified["memory.swap.max"]).toBe("0");
  });
});

describe("isCriticalPod", () => {
  it("is true for static and mirror pods and system-critical priorities", () => {
    const base = pod([c("a")]);
    expect(isCriticalPod(base)).toBe(false);
    expect(
      isCriticalPod({ ...base, metadata: { annotations: { "kubernetes.io/config.source": "api" } } }),
    ).toBe(false);
    expect(
      isCriticalPod({ ...base, metadata: { annotations: { "kubernetes.io/config.source": "file" } } }),
    ).toBe(true);
    expect(
      isCriticalPod({ ...base, metadata: { annotations: { "kubernetes.io/config.mirror": "x" } } }),
    ).toBe(true);
    expect(isCriticalPod({ ...base, spec: { ...base.spec, priority: 2_000_000_000 } })).toBe(true);
  });
});

describe("oomScoreAdjust", () => {
  const capacity = 4 * GiB;

  it("is -997 for a Guaranteed pod", () => {
    const container = c("a", { limits: { cpu: "1", memory: "1Gi" } });
    expect(oomScoreAdjust(pod([container]), container, capacity)).toBe(-997);
  });

  it("is 1000 for a BestEffort pod", () => {
    const container = c("a");
    expect(oomScoreAdjust(pod([container]), container, capacity)).toBe(1000);
  });

  it("is 1000 - 1000 × request / capacity for a Burstable pod", () => {
    const container = c("a", { requests: { memory: "1Gi" } });
    expect(oomScoreAdjust(pod([container]), container, capacity)).toBe(750);
  });

  it("clamps Burstable to [3, 999]", () => {
    const big = c("a", { requests: { memory: "4Gi" } });
    expect(oomScoreAdjust(pod([big]), big, capacity)).toBe(3);
    const cpuOnly = c("b", { requests: { cpu: "100m" } });
    expect(oomScoreAdjust(pod([cpuOnly]), cpuOnly, capacity)).toBe(999);
  });

  it("keeps a sidecar no higher than the regular container with the smallest request", () => {
    const app = c("app", { requests: { memory: "2Gi" } });
    const small = c("small", { requests: { memory: "1Gi" } });
    const sidecar = c("proxy", { requests: { memory: "256Mi" } }, { restartPolicy: "Always" });
    const p = pod([app, small], [sidecar]);
    expect(oomScoreAdjust(p, app, capacity)).toBe(500);
    expect(oomScoreAdjust(p, small, capacity)).toBe(750);
    expect(oomScoreAdjust(p, sidecar, capacity)).toBe(750);
    const initOnly = c("setup", { requests: { memory: "256Mi" } });
    expect(oomScoreAdjust(pod([app], [initOnly]), initOnly, capacity)).toBe(938);
  });
});

describe("detectSwapController", () => {
  it("on cgroup v1 looks for memory.memsw.limit_in_bytes", async () => {
    const root = await mkdtemp(join(tmpdir(), "nodelet-cgroup-"));
    try {
      expect(await detectSwapController(true, root)).toBe(false);
      await mkdir(join(root, "memory"));
      await writeFile(join(root, "memory", "memory.memsw.limit_in_bytes"), "9223372036854771712\n");
      expect(await detectSwapController(true, root)).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("on cgroup v2 never finds memory.swap.max in an empty hierarchy", async () => {
    const root = await mkdtemp(join(tmpdir(), "nodelet-cgroup-"));
    try {
      expect(await detectSwapController(false, root)).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
