// The agent as a child process (dist/cli.js): killed with SIGKILL and started again it adopts the
// pods it finds (same containers, restart counts kept), converges manifests changed while it was
// down, and on SIGTERM it exits 0 leaving the pods running, as the kubelet does.
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import type { V1Pod } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allRunning,
  type ChildAgent,
  ContainerState,
  containerStatus,
  type Dirs,
  makeDirs,
  openRuntime,
  podManifest,
  RUN_UNTIL_TERM,
  type RuntimeHarness,
  removeDirs,
  startChildAgent,
  thenRunUntilTerm,
  waitForKilled,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: ChildAgent | undefined;

const idle = (name: string, value: string) =>
  podManifest(name, [{ name: "main", command: RUN_UNTIL_TERM, env: [{ name: "VERSION", value }] }]);

beforeAll(async () => {
  h = await openRuntime();
  await h.removeAllPods();
  dirs = await makeDirs("adoption");
  // Two containers; "flaky" fails on its first run only (its marker is in an emptyDir).
  await writeManifest(
    h.env,
    dirs.manifests,
    "pair.yaml",
    podManifest(
      "pair",
      [
        { name: "steady", command: RUN_UNTIL_TERM },
        {
          name: "flaky",
          command: thenRunUntilTerm("if [ ! -f /data/ran ]; then touch /data/ran; exit 1; fi"),
          volumeMounts: [{ name: "data", mountPath: "/data" }],
        },
      ],
      { volumes: [{ name: "data", emptyDir: {} }] },
    ),
  );
  await writeManifest(h.env, dirs.manifests, "doomed.yaml", idle("doomed", "1"));
  await writeManifest(h.env, dirs.manifests, "edited.yaml", idle("edited", "1"));
  agent = await startChildAgent(h.env, dirs);
});

afterAll(async () => {
  await agent?.stop();
  await h?.removeAllPods();
  h?.close();
  await removeDirs();
});

function ids(pod: V1Pod | undefined): Record<string, string | undefined> {
  return Object.fromEntries((pod?.status?.containerStatuses ?? []).map((c) => [c.name, c.containerID]));
}

function restarts(pod: V1Pod | undefined): Record<string, number> {
  return Object.fromEntries((pod?.status?.containerStatuses ?? []).map((c) => [c.name, c.restartCount]));
}

describe("a restarted agent", () => {
  let pairBefore: V1Pod;
  let runtimeIdsBefore: string[];
  let doomedUid: string;
  let editedUid: string;

  it("adopts the pods after SIGKILL: same container ids, no new containers, restart counts kept", async () => {
    const first = agent as ChildAgent;
    pairBefore = await first.api.waitForPod(
      "pair",
      "both running, flaky restarted once",
      (p) => allRunning(p) && containerStatus(p, "flaky")?.restartCount === 1,
    );
    doomedUid = (await first.api.waitForPod("doomed", "running", allRunning)).metadata.uid ?? "";
    editedUid = (await first.api.waitForPod("edited", "running", allRunning)).metadata.uid ?? "";
    const uid = pairBefore.metadata.uid ?? "";
    runtimeIdsBefore = (await h.containers(uid)).map((c) => c.id).sort();
    expect(runtimeIdsBefore).toHaveLength(3); // steady, flaky's first (exited) and second run

    first.child.kill("SIGKILL");
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
    // While it is down: one manifest deleted, one edited (next test checks they converge).
    await unlink(join(dirs.manifests, "doomed.yaml"));
    await writeManifest(h.env, dirs.manifests, "edited.yaml", idle("edited", "2"));

    agent = await startChildAgent(h.env, dirs, { port: first.port });
    const second = agent;
    const adopted = await second.api.waitForPod("pair", "running (adopted)", allRunning);
    expect(adopted.metadata.uid).toBe(uid);
    expect(ids(adopted)).toEqual(ids(pairBefore));
    expect(restarts(adopted)).toEqual({ flaky: 1, steady: 0 });
    expect(containerStatus(adopted, "flaky")?.lastState?.terminated).toMatchObject({ exitCode: 1 });

    // Several PLEG relists and periodic syncs later, still nothing new was created or restarted.
    await second.logs.waitFor("a periodic sync of pair after the restart", (l) => {
      return l.pod === "default/pair-testnode" && l.msg === "synced pod" && l.type === "sync";
    });
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await h.containers(uid)).map((c) => c.id).sort()).toEqual(runtimeIdsBefore);
    const later = await second.api.pod("pair");
    expect(ids(later)).toEqual(ids(pairBefore));
    expect(restarts(later)).toEqual({ flaky: 1, steady: 0 });
    expect(second.logs.events("pair", "Created")).toEqual([]);
    expect(second.logs.events("pair", "Killing")).toEqual([]);
  });

  it("converges what changed while it was down: a deleted manifest's pod is killed, an edited one replaced", async () => {
    const second = agent as ChildAgent;
    await waitForKilled(h, doomedUid);
    expect(await second.api.pod("doomed")).toBeUndefined();
    const edited = await second.api.waitForPod(
      "edited",
      "a new UID running",
      (p) => p.metadata.uid !== editedUid && allRunning(p),
    );
    await waitForKilled(h, editedUid);
    const newContainers = await h.containers(edited.metadata.uid ?? "");
    expect(newContainers.map((c) => c.state)).toEqual([ContainerState.CONTAINER_RUNNING]);
    const orphans = second.logs.filter((l) => l.msg === "killing a pod no source describes");
    expect(orphans.map((l) => l.pod).sort()).toEqual(["default/doomed-testnode", "default/edited-testnode"]);
  });

  it("on SIGTERM exits 0 and leaves the pods running", async () => {
    const second = agent as ChildAgent;
    const uid = pairBefore.metadata.uid ?? "";
    const running = (await h.containers(uid)).filter((c) => c.state === ContainerState.CONTAINER_RUNNING);
    expect(running).toHaveLength(2);
    second.child.kill("SIGTERM");
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(second.logs.find((l) => l.msg === "stopped; pods keep running")).toBeDefined();
    await new Promise((r) => setTimeout(r, 1_000));
    const after = await h.containers(uid);
    expect(
      after
        .filter((c) => c.state === ContainerState.CONTAINER_RUNNING)
        .map((c) => c.id)
        .sort(),
    ).toEqual(running.map((c) => c.id).sort());
    expect(after.map((c) => c.id).sort()).toEqual(runtimeIdsBefore);
  });
});
