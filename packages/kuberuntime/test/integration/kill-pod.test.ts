import { findContainerStatusByName } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busybox, createHarness, type Harness } from "./support.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});

describe("killPod and adoption against containerd", () => {
  it("runs preStop before SIGTERM and respects the grace period", async () => {
    const mount = [{ name: "log", mountPath: "/log" }];
    const pod = h.pod(
      "prestop",
      [
        busybox(
          h.env,
          "app",
          // On SIGTERM, note it and exit; preStop writes first.
          ["sh", "-c", "trap 'echo term >> /log/events; exit 0' TERM; while true; do sleep 0.2; done"],
          {
            volumeMounts: mount,
            lifecycle: { preStop: { exec: { command: ["sh", "-c", "echo prestop >> /log/events"] } } },
          },
        ),
      ],
      { volumes: [{ name: "log", emptyDir: {} }], terminationGracePeriodSeconds: 5 },
    );
    await h.waitFor("app to run", async () => {
      await h.sync(pod);
      return findContainerStatusByName(await h.status(pod), "app")?.state === "running";
    });
    const dir = `${h.rootDir}/pods/${pod.metadata.uid}/volumes/kubernetes.io~empty-dir/log`;
    const running = (await h.manager.getPods(false)).find((p) => p.id === pod.metadata.uid);
    expect(running?.containers).toHaveLength(1);
    const started = Date.now();
    await h.manager.killPod(pod, running as never);
    expect(Date.now() - started).toBeLessThan(5000); // it exited on SIGTERM, well inside the grace
    const { readFile } = await import("node:fs/promises");
    expect((await readFile(`${dir}/events`, "utf8")).split("\n").filter(Boolean)).toEqual([
      "prestop",
      "term",
    ]);
    const status = await h.status(pod);
    expect(status.sandboxStatuses[0]?.state).toBe(1); // NOTREADY: stopped, removal left to GC
  });

  it("kills with SIGKILL once the grace period is over", async () => {
    const pod = h.pod(
      "stubborn",
      [busybox(h.env, "app", ["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"])],
      {
        terminationGracePeriodSeconds: 3,
      },
    );
    await h.waitFor("app to run", async () => {
      await h.sync(pod);
      return findContainerStatusByName(await h.status(pod), "app")?.state === "running";
    });
    const running = (await h.manager.getPods(false)).find((p) => p.id === pod.metadata.uid);
    const started = Date.now();
    await h.manager.killPod(pod, running as never);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(2900);
    const app = findContainerStatusByName(await h.status(pod), "app");
    expect(app?.exitCode).toBe(137);
  });

  it("lets a second manager adopt the pods of the first and kill them without the Pod object", async () => {
    const pod = h.pod("adopted", [
      busybox(h.env, "app", ["sleep", "3600"]),
      busybox(h.env, "b", ["sleep", "3600"]),
    ]);
    await h.sync(pod);
    const second = await h.newManager();
    const seen = (await second.getPods(false)).find((p) => p.id === pod.metadata.uid);
    expect(seen?.name).toBe("adopted");
    expect(seen?.containers.map((c) => c.name).sort()).toEqual(["app", "b"]);
    // Syncing the same spec through the second manager keeps the containers.
    const before = (await h.status(pod, second)).containerStatuses.map((c) => c.id.id).sort();
    const result = await h.sync(pod, undefined, second);
    expect(result.syncResults.filter((r) => r.action === "StartContainer")).toEqual([]);
    expect((await h.status(pod, second)).containerStatuses.map((c) => c.id.id).sort()).toEqual(before);
    // Killing with no Pod object rebuilds what it needs from labels and annotations.
    await second.killPod(undefined, seen as never);
    const after = await h.status(pod, second);
    expect(after.containerStatuses.every((c) => c.state === "exited")).toBe(true);
  });
});
