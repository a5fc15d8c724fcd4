// A debug gauge of the process's active handles and requests by type (timers, sockets, file
// requests...), from process.getActiveResourcesInfo(): a leak of timers or listeners over hours
// shows as a count that grows with nothing else changing. The benchmarks read it from /metrics.
import { registerMetric } from "@nodelet/runtime-api";
import { Gauge, type GaugeConfiguration, type Registry } from "prom-client";

export function registerActiveResourcesGauge(registry: Registry): void {
  const config: GaugeConfiguration<"type"> = {
    name: "nodelet_active_resources",
    help: "The agent process's active resources (handles and requests) by type, as Node reports them",
    labelNames: ["type"],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
      for (const [type, n] of counts) this.set({ type }, n);
    },
  };
  registerMetric(registry, Gauge<"type">, config);
}
