import { describe, expect, it } from "vitest";
import { registerOnce } from "../src/index.js";

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
