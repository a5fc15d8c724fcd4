// Container garbage collection in the agent against the real containerd, with the GC loop every
// second (the container GC test hook) instead of every minute: a crash loop keeps one dead instance
// and its restart count only rises, a deleted pod leaves nothing behind (containers, sandboxes, log
// directory, pod directory), a pod recreated under the same name is never touched, and an agent
// started after pods were deleted while it was down collects their leftovers.
import { access, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { V1Pod } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent.js";
import { parseFlags, resolveConfig } from "../../src/flags.js";
import { createLogger } from "../../src/logging.js";
import {
  AgentApi,
  agentArgs,
  allRunning,
  ContainerState,
  containerStatus,
  type Dirs,
  freePort,
  LogLines,
  makeDirs,
  openRuntime,
  podManifest,
  type RuntimeHarness,
  removeDirs,
  runtimeId,
  waitFor,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: { api: AgentApi; logs: LogLines; stop(): Promise<void> } | undefined;

/** The agent in this process with container GC every second. */
async function startGCAgent() {
  const port = await freePort();
  const { config } = await resolveConfig({ flags: parseFlags(agentArgs(h.env, dirs, port, ["-v", "1"])) });
  const logs = new LogLines();
  const logger = createLogger({ verbosity: config.verbosity, pretty: false, destination: logs.stream() });
  const instance = createAgent({ config, logger, containerGCPeriodMs: 1000 });
  const bound = await instance.start();
  const api = new AgentApi(`http://127.0.0.1:${bound.port}`);
  await waitFor("/healthz ok", async () => (await api.get("/healthz")).status === 200, { timeoutMs: 15_000 });
  return { api, logs, stop: () => instance.stop() };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** What the runtime and the disk still hold of a pod UID. */
async function leftovers(uid: string) {
  const sandboxes = (await h.runtime.listPodSandbox()).filter((s) => s.metadata?.uid === uid).length;
  const containers = (await h.containers(uid)).length;
  const logDirs = (await readdir(dirs.logs)).filter((d) => d.endsWith(`_${uid}`)).length;
  const podDir = (await exists(join(dirs.root, "pods", uid))) ? 1 : 0;
  return { sandboxes, containers, logDirs, podDir };
}

/** Container GC passes so far, from the pass-duration histogram on /metrics. */
async function gcPasses(api: AgentApi): Promise<number> {
  const { body } = await api.get("/metrics");
  const line = body
    .split("\n")
    .find((l) => l.startsWith("kubelet_container_garbage_collection_duration_seconds_count"));
  return Number(line?.split(" ")[1] ?? 0);
}

const nothing = { sandboxes: 0, containers: 0, logDirs: 0, podDir: 0 };

async function waitForNothingLeft(uid: string, timeoutMs = 150_000): Promise<void> {
  await waitFor(
    `nothing left of pod ${uid}`,
    async () => JSON.stringify(await leftovers(uid)) === JSON.stringify(nothing),
    { timeoutMs, describe: async () => JSON.stringify(await leftovers(uid)) },
  );
}

const withEmptyDir = (name: string) =>
  podManifest(
    name,
    [
      {
        name: "main",
        command: ["sh", "-c", "echo data > /data/file; trap 'exit 0' TERM; while true; do sleep 1; done"],
        volumeMounts: [{ name: "data", mountPath: "/data" }],
      },
    ],
    { volumes: [{ name: "data", emptyDir: {} }] },
  );

beforeAll(async () => {
  h = await openRuntime();
  await h.removeAllPods();
  dirs = await makeDirs("container-gc");
  agent = await startGCAgent();
});

afterAll(async () => {
  await agent?.stop();
  await h?.removeAllPods();
  h?.close();
  await removeDirs();
});

describe("container garbage collection in the agent", () => {
  it("keeps one dead instance of a crash-looping container while its restart count rises", async () => {
    const api = agent?.api as AgentApi;
    await writeManifest(
      h.env,
      dirs.manifests,
      "crash.yaml",
      podManifest("crash", [{ name: "app", command: ["sh", "-c", "sleep 1; exit 3"] }]),
    );
    const seen: number[] = [];
    let uid = "";
    // Backoff (10 s, then 20 s) makes restart 2 come after about 35 s.
    await waitFor(
      "restart count 2 with one dead instance kept",
      async () => {
        const pod = await api.pod("crash");
        uid = pod?.metadata.uid ?? "";
        const count = containerStatus(pod, "app")?.restartCount;
        if (count !== undefined) seen.push(count);
        if (count === undefined || count < 2) return false;
        const exited = (await h.containers(uid)).filter((c) => c.state !== ContainerState.CONTAINER_RUNNING);
        return exited.length === 1;
      },
      { timeoutMs: 180_000, intervalMs: 250 },
    );
    // Never reused, never lower.
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] as number);
    const instances = await h.containers(uid);
    const attempts = instances.map((c) => c.metadata?.attempt ?? -1);
    expect(new Set(attempts).size).toBe(attempts.length);
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
    await unlink(join(dirs.manifests, "crash.yaml"));
    await waitForNothingLeft(uid);
  }, 300_000);

  it("leaves no container, sandbox, log directory or pod directory of a deleted pod", async () => {
    const api = agent?.api as AgentApi;
    await writeManifest(h.env, dirs.manifests, "doomed.yaml", withEmptyDir("doomed"));
    const pod = await api.waitForPod("doomed", "running", allRunning, 60_000);
    const uid = pod.metadata.uid ?? "";
    const before = await leftovers(uid);
    expect(before).toMatchObject({ sandboxes: 1, containers: 1, logDirs: 1, podDir: 1 });
    await unlink(join(dirs.manifests, "doomed.yaml"));
    await api.waitForGone("doomed", 60_000);
    await waitForNothingLeft(uid);
  }, 300_000);

  it("removes nothing of a pod recreated under the same name", async () => {
    const api = agent?.api as AgentApi;
    await writeManifest(h.env, dirs.manifests, "same.yaml", withEmptyDir("same"));
    const first = await api.waitForPod("same", "running", allRunning, 60_000);
    const oldUid = first.metadata.uid ?? "";
    // An edit gives the static pod a new UID: the old one is killed, the new one started.
    const edited = withEmptyDir("same") as { spec: { containers: { env?: object[] }[] } };
    const main = edited.spec.containers[0];
    if (main) main.env = [{ name: "VERSION", value: "2" }];
    await writeManifest(h.env, dirs.manifests, "same.yaml", edited);
    const second = await api.waitForPod(
      "same",
      "recreated and running",
      (p: V1Pod) => p.metadata.uid !== oldUid && allRunning(p),
      60_000,
    );
    const newUid = second.metadata.uid ?? "";
    const id = runtimeId(containerStatus(second, "main")?.containerID);
    await waitForNothingLeft(oldUid);
    // Three passes later the new pod still runs the same container in a ready sandbox.
    const passes = await gcPasses(api);
    await waitFor("three more GC passes", async () => (await gcPasses(api)) >= passes + 3, {
      timeoutMs: 60_000,
    });
    const now = await api.pod("same");
    expect(now?.metadata.uid).toBe(newUid);
    expect(runtimeId(containerStatus(now, "main")?.containerID)).toBe(id);
    expect(containerStatus(now, "main")?.restartCount).toBe(0);
    expect(await leftovers(newUid)).toMatchObject({ sandboxes: 1, containers: 1, logDirs: 1, podDir: 1 });
    await unlink(join(dirs.manifests, "same.yaml"));
    await waitForNothingLeft(newUid);
  }, 360_000);

  it("collects the leftovers of pods deleted while the agent was down", async () => {
    let api = agent?.api as AgentApi;
    await writeManifest(h.env, dirs.manifests, "kept.yaml", withEmptyDir("kept"));
    await writeManifest(h.env, dirs.manifests, "gone.yaml", withEmptyDir("gone"));
    const kept = await api.waitForPod("kept", "running", allRunning, 60_000);
    const gone = await api.waitForPod("gone", "running", allRunning, 60_000);
    const keptId = runtimeId(containerStatus(kept, "main")?.containerID);
    await agent?.stop();
    agent = undefined;
    await unlink(join(dirs.manifests, "gone.yaml"));
    agent = await startGCAgent();
    api = agent.api;
    await waitForNothingLeft(gone.metadata.uid ?? "");
    const adopted = await api.waitForPod("kept", "running", allRunning, 60_000);
    expect(runtimeId(containerStatus(adopted, "main")?.containerID)).toBe(keptId);
    expect(await leftovers(kept.metadata.uid ?? "")).toMatchObject({
      sandboxes: 1,
      containers: 1,
      podDir: 1,
    });
  }, 360_000);
});
