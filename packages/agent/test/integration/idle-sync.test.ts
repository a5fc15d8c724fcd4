// A periodic sync of a pod whose containers did not change reads no status from the runtime: the
// pod cache serves it (issue 14). The syncs themselves must still happen.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allRunning,
  closeAgentSuite,
  type Dirs,
  makeDirs,
  openRuntime,
  podManifest,
  RUN_UNTIL_TERM,
  type RunningAgent,
  type RuntimeHarness,
  startAgent,
  waitFor,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: RunningAgent;

beforeAll(async () => {
  h = await openRuntime();
  await h.removeAllPods();
  dirs = await makeDirs("idle-sync"); // syncFrequency 2s
  agent = await startAgent(h.env, dirs);
});

afterAll(async () => {
  await closeAgentSuite(agent, h);
});

async function counters(): Promise<{ syncs: number; statusReads: number }> {
  const text = (await agent.api.get("/metrics")).body;
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return {
    syncs: value(/^kubelet_pod_worker_duration_seconds_count\{operation_type="sync"\} (\S+)/m),
    statusReads:
      value(/^kubelet_runtime_operations_total\{operation_type="container_status"\} (\S+)/m) +
      value(/^kubelet_runtime_operations_total\{operation_type="podsandbox_status"\} (\S+)/m),
  };
}

describe("periodic sync of an unchanged pod", () => {
  it("syncs every syncFrequency without reading the pod's status again", async () => {
    await writeManifest(
      h.env,
      dirs.manifests,
      "calm.yaml",
      podManifest("calm", [{ name: "main", command: RUN_UNTIL_TERM }]),
    );
    await agent.api.waitForPod("calm", "running", allRunning, 60_000);
    // The first syncs after the start may read: the PLEG reports the container's start.
    await waitFor("two periodic syncs", async () => (await counters()).syncs >= 2, { timeoutMs: 60_000 });
    const before = await counters();
    await waitFor("three periodic syncs", async () => (await counters()).syncs >= before.syncs + 3, {
      timeoutMs: 60_000,
    });
    const after = await counters();
    expect(after.statusReads, JSON.stringify({ before, after })).toBe(before.statusReads);
    expect((await agent.api.pod("calm"))?.status?.phase).toBe("Running");
  });
});
