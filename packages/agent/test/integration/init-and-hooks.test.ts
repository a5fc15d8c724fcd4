// Init containers (in order, sharing an emptyDir with the main container) and lifecycle hooks
// (postStart seen by the main container, preStop run when the manifest is removed).
import { mkdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allRunning,
  closeAgentSuite,
  condition,
  containerStatus,
  type Dirs,
  initContainerStatus,
  openAgentSuite,
  podManifest,
  RUN_UNTIL_TERM,
  type RunningAgent,
  type RuntimeHarness,
  runtimeId,
  thenRunUntilTerm,
  waitFor,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: RunningAgent;

beforeAll(async () => {
  ({ h, dirs, agent } = await openAgentSuite("init-hooks"));
});

afterAll(async () => {
  await closeAgentSuite(agent, h);
});

async function execText(containerID: string | undefined, cmd: string[]): Promise<string> {
  const result = await h.runtime.execSync(runtimeId(containerID), cmd, 5);
  return result.stdout.toString();
}

describe("init containers", () => {
  it("run one after the other before the main container, sharing an emptyDir; statuses Completed", async () => {
    const mount = { volumeMounts: [{ name: "work", mountPath: "/work" }] };
    await writeManifest(
      h.env,
      dirs.manifests,
      "init.yaml",
      podManifest("init", [{ name: "main", command: RUN_UNTIL_TERM, ...mount }], {
        volumes: [{ name: "work", emptyDir: {} }],
        initContainers: [
          { name: "first", command: ["sh", "-c", "sleep 1; echo first >> /work/order"], ...mount },
          // Fails (and the pod would not start) unless the first one finished before it ran.
          {
            name: "second",
            command: ["sh", "-c", "grep -qx first /work/order && echo second >> /work/order"],
            ...mount,
          },
        ],
      }),
    );
    const pod = await agent.api.waitForPod("init", "running", allRunning);
    for (const name of ["first", "second"]) {
      const status = initContainerStatus(pod, name);
      expect(status?.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
      expect(status?.ready).toBe(true);
      expect(status?.restartCount).toBe(0);
    }
    const first = initContainerStatus(pod, "first")?.state?.terminated;
    const second = initContainerStatus(pod, "second")?.state?.terminated;
    expect(Date.parse(second?.startedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(first?.finishedAt ?? ""));
    expect(condition(pod, "Initialized")).toBe("True");
    const main = containerStatus(pod, "main");
    expect(await execText(main?.containerID, ["cat", "/work/order"])).toBe("first\nsecond\n");
    // Three containers in the runtime: two exited init containers and the running main one.
    expect((await h.containers(pod.metadata.uid ?? "")).map((c) => c.metadata?.name).sort()).toEqual([
      "first",
      "main",
      "second",
    ]);
  });
});

describe("lifecycle hooks", () => {
  it("postStart exec writes a file the main container sees", async () => {
    await writeManifest(
      h.env,
      dirs.manifests,
      "poststart.yaml",
      podManifest("poststart", [
        {
          name: "main",
          command: thenRunUntilTerm("until [ -f /tmp/hook ]; do sleep 0.1; done; cp /tmp/hook /tmp/seen"),
          lifecycle: { postStart: { exec: { command: ["sh", "-c", "echo from-poststart > /tmp/hook"] } } },
        },
      ]),
    );
    const pod = await agent.api.waitForPod("poststart", "running", allRunning);
    const id = containerStatus(pod, "main")?.containerID;
    const seen = await waitFor("the main container to copy the hook's file", async () => {
      const text = await execText(id, ["cat", "/tmp/seen"]).catch(() => "");
      return text === "" ? undefined : text;
    });
    expect(seen).toBe("from-poststart\n");
    expect(agent.logs.events("poststart", "FailedPostStartHook")).toEqual([]);
  });

  it("a failing postStart hook kills the container (FailedPostStartHook) and it is restarted", async () => {
    await writeManifest(
      h.env,
      dirs.manifests,
      "badhook.yaml",
      podManifest("badhook", [
        {
          name: "main",
          command: RUN_UNTIL_TERM,
          lifecycle: { postStart: { exec: { command: ["sh", "-c", "echo hook-broke; exit 7"] } } },
        },
      ]),
    );
    const pod = await agent.api.waitForPod("badhook", "restarted", (p) => {
      return (containerStatus(p, "main")?.restartCount ?? 0) >= 1;
    });
    const failed = agent.logs.events("badhook", "FailedPostStartHook");
    expect(failed.length).toBeGreaterThan(0);
    // The kubelet keeps the hook's output out of the event (it may hold secrets).
    expect(failed[0]?.msg).toBe("PostStartHook failed");
    expect(agent.logs.events("badhook", "Killing")[0]?.msg).toMatch(/FailedPostStartHook/);
    expect((await h.containers(pod.metadata.uid ?? "")).length).toBeGreaterThanOrEqual(2);
  });

  it("preStop exec runs when the manifest is removed", async () => {
    const hostDir = join(dirs.base, "prestop");
    await mkdir(hostDir);
    await writeManifest(
      h.env,
      dirs.manifests,
      "prestop.yaml",
      podManifest(
        "prestop",
        [
          {
            name: "main",
            command: RUN_UNTIL_TERM,
            volumeMounts: [{ name: "host", mountPath: "/host" }],
            lifecycle: {
              preStop: { exec: { command: ["sh", "-c", "echo stopped-by-prestop > /host/marker"] } },
            },
          },
        ],
        { volumes: [{ name: "host", hostPath: { path: hostDir, type: "Directory" } }] },
      ),
    );
    await agent.api.waitForPod("prestop", "running", allRunning);
    await expect(readFile(join(hostDir, "marker"), "utf8")).rejects.toThrow(/ENOENT/);
    await unlink(join(dirs.manifests, "prestop.yaml"));
    await agent.api.waitForGone("prestop");
    const marker = await waitFor("the preStop hook's file on the host", () =>
      readFile(join(hostDir, "marker"), "utf8").catch(() => undefined),
    );
    expect(marker).toBe("stopped-by-prestop\n");
  });
});
