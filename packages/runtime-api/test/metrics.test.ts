import { describe, expect, it } from "vitest";
import {
  DEFAULT_METRIC_BUCKETS,
  exponentialBuckets,
  OPERATION_DURATION_BUCKETS,
  registerMetric,
  registerOnce,
} from "../src/index.js";

describe("registerOnce", () => {
  it("creates a metric the first time and hands back the registered one after", () => {
    const registered = new Map<string, unknown>();
    const registry = { getSingleMetric: (name: string) => registered.get(name) };
    let created = 0;
    const create = () => {
      created++;
      const metric = { name: "m" };
      registered.set("m", metric);
      return metric;
    };
    const first = registerOnce(registry, "m", create);
    const second = registerOnce(registry, "m", create);
    expect(second).toBe(first);
    expect(created).toBe(1);
  });
});

describe("registerMetric", () => {
  class FakeCounter {
    constructor(readonly config: { name: string; help: string; registers: unknown[] }) {
      for (const r of config.registers) (r as FakeRegistry).metrics.set(config.name, this);
    }
  }
  class FakeRegistry {
    readonly metrics = new Map<string, unknown>();
    getSingleMetric(name: string): unknown {
      return this.metrics.get(name);
    }
  }

  it("constructs the metric with the registry as its register, once per registry", () => {
    const registry = new FakeRegistry();
    const first = registerMetric(registry, FakeCounter, { name: "c_total", help: "h" });
    expect(first.config).toEqual({ name: "c_total", help: "h", registers: [registry] });
    expect(registerMetric(registry, FakeCounter, { name: "c_total", help: "h" })).toBe(first);
    expect(registerMetric(new FakeRegistry(), FakeCounter, { name: "c_total", help: "h" })).not.toBe(first);
  });
});

describe("buckets", () => {
  it("are the kubelet's", () => {
    expect(DEFAULT_METRIC_BUCKETS).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    expect(exponentialBuckets(1, 2, 4)).toEqual([1, 2, 4, 8]);
    expect(OPERATION_DURATION_BUCKETS).toHaveLength(14);
    expect(OPERATION_DURATION_BUCKETS[1]).toBeCloseTo(0.0125);
  });
});
