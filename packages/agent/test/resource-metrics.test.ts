import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { registerActiveResourcesGauge } from "../src/resource-metrics.js";

describe("nodelet_active_resources", () => {
  it("counts the process's active resources by type at each scrape", async () => {
    const registry = new Registry();
    registerActiveResourcesGauge(registry);
    registerActiveResourcesGauge(registry); // registered once
    const timer = setTimeout(() => undefined, 60_000);
    try {
      const text = await registry.metrics();
      const timeouts = Number(/^nodelet_active_resources\{type="Timeout"\} (\d+)$/m.exec(text)?.[1]);
      expect(timeouts).toBeGreaterThanOrEqual(1);
    } finally {
      clearTimeout(timer);
    }
  });
});
