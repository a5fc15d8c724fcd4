import type { Container, Pod } from "@nodelet/runtime-api";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { AGENT_METRIC_NAMES, countRunning, createAgentMetrics, POD_START_BUCKETS } from "../src/metrics.js";
import { runtimeContainer, runtimePod } from "./runtime-fixtures.js";

/** A relist's pod with its sandbox (when given a state) named after it. */
function podWith(id: string, sandbox: Container["state"] | undefined, containers: Container[]): Pod {
  return runtimePod(id, containers, sandbox ? [runtimeContainer(`${id}-sandbox`, sandbox)] : []);
}

describe("createAgentMetrics", () => {
  it("registers the kubelet's names", async () => {
    const registry = new Registry();
    const metrics = createAgentMetrics(registry);
    metrics.podStartDuration.observe(1.5);
    metrics.observePodWorker("sync", 0.02);
    metrics.podWorkerStartDuration.observe(0.001);
    metrics.plegRelistDuration.observe(0.01);
    metrics.plegRelistInterval.observe(1);
    metrics.plegLastSeen.set(1_767_225_600);
    metrics.desiredPods.set({ static: "true" }, 3);
    metrics.restartedPods.inc({ static: "true" });
    metrics.orphanedRuntimePods.inc();
    const text = await registry.metrics();
    for (const name of AGENT_METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);
    expect(text).toContain("# TYPE kubelet_pod_start_duration_seconds histogram");
    expect(text).toContain("# TYPE kubelet_pleg_last_seen_seconds gauge");
    expect(text).toContain("# TYPE kubelet_restarted_pods_total counter");
    expect(text).toContain('kubelet_pod_worker_duration_seconds_count{operation_type="sync"} 1');
    expect(text).toContain('kubelet_desired_pods{static="true"} 3');
    expect(text).toContain('kubelet_restarted_pods_total{static="true"} 1');
    expect(text).toContain("kubelet_orphaned_runtime_pods_total 1");
    expect(text).toContain("kubelet_pleg_last_seen_seconds 1767225600");
  });

  it("uses the kubelet's pod start buckets", async () => {
    const registry = new Registry();
    createAgentMetrics(registry).podStartDuration.observe(7);
    const text = await registry.metrics();
    for (const le of POD_START_BUCKETS) {
      expect(text).toContain(`kubelet_pod_start_duration_seconds_bucket{le="${le}"}`);
    }
    expect(text).toContain('kubelet_pod_start_duration_seconds_bucket{le="6"} 0');
    expect(text).toContain('kubelet_pod_start_duration_seconds_bucket{le="8"} 1');
  });

  it("registers once per registry and reuses what is there", () => {
    const registry = new Registry();
    const first = createAgentMetrics(registry);
    const second = createAgentMetrics(registry);
    expect(second.podStartDuration).toBe(first.podStartDuration);
    expect(second.runningContainers).toBe(first.runningContainers);
    expect(registry.getMetricsAsArray()).toHaveLength(AGENT_METRIC_NAMES.length);
  });

  it("sets the running gauges from a runtime listing, zeroing states that emptied", async () => {
    const registry = new Registry();
    const metrics = createAgentMetrics(registry);
    const pods = [
      podWith("a", "running", [runtimeContainer("a1", "running"), runtimeContainer("a2", "exited")]),
      podWith("b", "exited", [runtimeContainer("b1", "exited"), runtimeContainer("b2", "created")]),
      podWith("c", undefined, [runtimeContainer("c1", "running")]),
    ];
    expect(countRunning(pods)).toEqual({
      runningPods: 1,
      containers: { created: 1, running: 2, exited: 2, unknown: 0 },
    });
    metrics.updateRunning(pods);
    let text = await registry.metrics();
    expect(text).toContain("kubelet_running_pods 1");
    expect(text).toContain('kubelet_running_containers{container_state="running"} 2');
    expect(text).toContain('kubelet_running_containers{container_state="exited"} 2');
    expect(text).toContain('kubelet_running_containers{container_state="created"} 1');
    expect(text).toContain('kubelet_running_containers{container_state="unknown"} 0');
    metrics.updateRunning([]);
    text = await registry.metrics();
    expect(text).toContain("kubelet_running_pods 0");
    expect(text).toContain('kubelet_running_containers{container_state="running"} 0');
  });
});
