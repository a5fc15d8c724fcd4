// Restart policies against real containers: Always with a crashing container (CrashLoopBackOff,
// real 10 s back-off), Never with a job that completes, OnFailure with a failing container.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ContainerState,
  closeAgentSuite,
  condition,
  containerStatus,
  type Dirs,
  openAgentSuite,
  podManifest,
  type RunningAgent,
  type RuntimeHarness,
  readySandboxes,
  thenRunUntilTerm,
  waitFor,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: RunningAgent;

beforeAll(async () => {
  ({ h, dirs, agent } = await openAgentSuite("restart"));
  // All three at once: the back-off test is the long one, the others finish meanwhile.
  await writeManifest(
    h.env,
    dirs.manifests,
    "crash.yaml",
    podManifest("crash", [{ name: "main", command: ["sh", "-c", "echo crashing; exit 3"] }]),
  );
  await writeManifest(
    h.env,
    dirs.manifests,
    "job.yaml",
    podManifest("job", [{ name: "main", command: ["sh", "-c", "sleep 1; echo done"] }], {
      restartPolicy: "Never",
    }),
  );
  // Fails on its first run only (the marker lives in an emptyDir, which outlives the container).
  await writeManifest(
    h.env,
    dirs.manifests,
    "retry.yaml",
    podManifest(
      "retry",
      [
        {
          name: "main",
          command: thenRunUntilTerm("if [ ! -f /data/ran ]; then touch /data/ran; exit 1; fi"),
          volumeMounts: [{ name: "data", mountPath: "/data" }],
        },
      ],
      { restartPolicy: "OnFailure", volumes: [{ name: "data", emptyDir: {} }] },
    ),
  );
});

afterAll(async () => {
  await closeAgentSuite(agent, h);
});

describe("restart policies", () => {
  it("Always: a crashing container is restarted and shows CrashLoopBackOff with a growing restartCount", async () => {
    const crashing = await agent.api.waitForPod("crash", "CrashLoopBackOff after a restart", (p) => {
      const s = containerStatus(p, "main");
      return s?.state?.waiting?.reason === "CrashLoopBackOff" && s.restartCount >= 1;
    });
    const status = containerStatus(crashing, "main");
    expect(status?.state?.waiting?.message).toMatch(
      /^back-off 10s restarting failed container=main pod=crash-testnode/,
    );
    expect(status?.lastState?.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
    expect(crashing.status?.phase).toBe("Running");
    expect(condition(crashing, "Ready")).toBe("False");
    const before = status?.restartCount ?? 0;

    // The 10 s back-off passes and the container runs (and crashes) once more.
    const later = await agent.api.waitForPod(
      "crash",
      `restartCount above ${before}`,
      (p) => (containerStatus(p, "main")?.restartCount ?? 0) > before,
      25_000,
    );
    expect(containerStatus(later, "main")?.restartCount).toBe(before + 1);
    const containers = await h.containers(crashing.metadata.uid ?? "");
    expect(containers.length).toBeGreaterThanOrEqual(2);
    expect(agent.logs.events("crash", "BackOff").length).toBeGreaterThan(0);
  });

  it("Never: a job that exits 0 makes the pod Succeeded with Completed, exit code 0", async () => {
    const done = await agent.api.waitForPod("job", "Succeeded", (p) => p.status?.phase === "Succeeded");
    const status = containerStatus(done, "main");
    expect(status?.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(status?.restartCount).toBe(0);
    expect(condition(done, "Ready")).toBe("False");
    // Never restarted: exactly one container in the runtime, exited.
    const containers = await h.containers(done.metadata.uid ?? "");
    expect(containers.map((c) => c.state)).toEqual([ContainerState.CONTAINER_EXITED]);
    expect(containerStatus(done, "main")?.containerID).toBe(`containerd://${containers[0]?.id}`);
    // As the kubelet does with a terminal pod, its sandbox is stopped (its IP released).
    await waitFor("the job's sandbox to be stopped", async () => {
      return (await readySandboxes(h.runtime, done.metadata.uid ?? "")).length === 0;
    });
    const after = await agent.api.pod("job");
    expect(after?.status?.phase).toBe("Succeeded");
    expect(containerStatus(after, "main")?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: "Completed",
    });
  });

  it("OnFailure: a container that exits 1 is restarted", async () => {
    const restarted = await agent.api.waitForPod("retry", "running again after exit 1", (p) => {
      const s = containerStatus(p, "main");
      return s?.state?.running !== undefined && s.restartCount >= 1;
    });
    const status = containerStatus(restarted, "main");
    expect(status?.restartCount).toBe(1);
    expect(status?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
    expect(restarted.status?.phase).toBe("Running");
    const containers = await h.containers(restarted.metadata.uid ?? "");
    expect(containers.map((c) => c.state)).toEqual([
      ContainerState.CONTAINER_RUNNING,
      ContainerState.CONTAINER_EXITED,
    ]);
  });
});
