// maxPods admission on the real runtime: the pod over the limit is rejected as the kubelet rejects
// it (Failed, OutOfpods) and nothing of it reaches containerd; a freed slot admits the next new pod.
import { appendFile, unlink } from "node:fs/promises";
import { join } from "node:path";
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
  waitForKilled,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: RunningAgent;

beforeAll(async () => {
  h = await openRuntime();
  await h.removeAllPods();
  dirs = await makeDirs("admission");
  await appendFile(dirs.configFile, "maxPods: 2\n");
  agent = await startAgent(h.env, dirs);
});

afterAll(async () => {
  await closeAgentSuite(agent, h);
});

const pod = (name: string) => podManifest(name, [{ name: "main", command: RUN_UNTIL_TERM }]);

describe("maxPods admission", () => {
  it("rejects the pod over maxPods with OutOfpods, starts none of it, and admits a new pod once a slot frees", async () => {
    await writeManifest(h.env, dirs.manifests, "adm-a.yaml", pod("adm-a"));
    await writeManifest(h.env, dirs.manifests, "adm-b.yaml", pod("adm-b"));
    const a = await agent.api.waitForPod("adm-a", "running", allRunning, 60_000);
    await agent.api.waitForPod("adm-b", "running", allRunning, 60_000);

    await writeManifest(h.env, dirs.manifests, "adm-c.yaml", pod("adm-c"));
    const c = await agent.api.waitForPod("adm-c", "rejected", (p) => p.status?.phase === "Failed", 60_000);
    expect(c.status?.reason).toBe("OutOfpods");
    expect(c.status?.message).toBe(
      "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2",
    );
    const cUid = c.metadata.uid ?? "";
    expect(await h.containers(cUid)).toEqual([]);
    expect((await h.runtime.listPodSandbox()).filter((s) => s.metadata?.uid === cUid)).toEqual([]);

    // A freed slot does not bring a rejected pod back (the kubelet's rejection is final)...
    await unlink(join(dirs.manifests, "adm-a.yaml"));
    await waitForKilled(h, a.metadata.uid ?? "", 60_000);
    await waitFor("adm-a to leave /pods", async () => (await agent.api.pod("adm-a")) === undefined, {
      timeoutMs: 60_000,
    });
    expect((await agent.api.pod("adm-c"))?.status?.reason).toBe("OutOfpods");
    // ...but a new pod takes it.
    await writeManifest(h.env, dirs.manifests, "adm-d.yaml", pod("adm-d"));
    await agent.api.waitForPod("adm-d", "running", allRunning, 60_000);
    expect((await agent.api.pod("adm-c"))?.status?.phase).toBe("Failed");
    expect(await h.containers(cUid)).toEqual([]);
  });
});
