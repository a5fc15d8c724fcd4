// Stopping and starting on containerd: a second SIGTERM ends the agent (dist/cli.js) at once with
// 143 while a pod's preStop hook runs, and the pod is not killed because the agent exits; a port
// already taken fails the start before any pod is touched (the API listens before the sources start).

import { unlink } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { ErrorCode } from "@nodelet/runtime-api";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent.js";
import { parseFlags, resolveConfig } from "../../src/flags.js";
import {
  agentArgs,
  allRunning,
  type ChildAgent,
  ContainerState,
  type Dirs,
  makeDirs,
  openRuntime,
  podManifest,
  RUN_UNTIL_TERM,
  type RuntimeHarness,
  removeDirs,
  startChildAgent,
  waitFor,
  writeManifest,
} from "./support.js";

/** Waits for a log message: logs go to stderr (JSON when it is not a terminal). */
async function logged(a: ChildAgent, message: string): Promise<void> {
  await waitFor(`log message "${message}"`, () => `${a.stderr()}${a.logs.raw.join("\n")}`.includes(message), {
    timeoutMs: 60_000,
    describe: () => a.stderr().slice(-2000),
  });
}

let h: RuntimeHarness;
let dirs: Dirs;
let agent: ChildAgent | undefined;

beforeAll(async () => {
  h = await openRuntime();
  await h.removeAllPods();
  dirs = await makeDirs("shutdown");
}, 120_000);

afterAll(async () => {
  if (agent && agent.child.exitCode === null) agent.child.kill("SIGKILL");
  await h?.removeAllPods();
  h?.close();
  await removeDirs();
}, 120_000);

describe("shutdown", () => {
  it("a second SIGTERM exits at once with 143 during a preStop hook, and the pod keeps running", async () => {
    await writeManifest(
      h.env,
      dirs.manifests,
      "slow.yaml",
      podManifest(
        "slow",
        [
          {
            name: "main",
            command: RUN_UNTIL_TERM,
            lifecycle: { preStop: { exec: { command: ["sleep", "600"] } } },
          },
        ],
        { terminationGracePeriodSeconds: 600 },
      ),
    );
    agent = await startChildAgent(h.env, dirs);
    const running = agent;
    const pod = await waitFor(
      "pod slow running",
      async () =>
        (await running.api.pods()).find((p) => p.metadata.name === "slow-testnode" && allRunning(p)),
      { timeoutMs: 90_000 },
    );
    const uid = pod.metadata.uid ?? "";
    // Removing the manifest makes the agent kill the pod: the preStop hook (600 s) runs first.
    await unlink(join(dirs.manifests, "slow.yaml"));
    await logged(running, "killing pod: its manifest is gone or changed");
    running.child.kill("SIGTERM");
    await logged(running, "shutting down");
    expect(running.child.exitCode).toBeNull(); // waiting for the work in flight (the preStop hook)
    running.child.kill("SIGTERM");
    const exit = await Promise.race([
      running.exited,
      new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 30_000)),
    ]);
    expect(exit).toEqual({ code: 143, signal: null });
    // The pod was not killed because the agent exited: its container still runs.
    const containers = await h.containers(uid);
    expect(
      containers.filter((c) => c.state === ContainerState.CONTAINER_RUNNING).map((c) => c.metadata?.name),
    ).toEqual(["main"]);
  }, 240_000);

  it("a port already in use fails the start before any pod is created", async () => {
    await h.removeAllPods();
    await writeManifest(
      h.env,
      dirs.manifests,
      "early.yaml",
      podManifest("early", [{ name: "main", command: RUN_UNTIL_TERM }]),
    );
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const { config } = await resolveConfig({ flags: parseFlags(agentArgs(h.env, dirs, port)) });
      const a = createAgent({ config, logger: pino({ level: "silent" }) });
      await expect(a.start()).rejects.toMatchObject({
        code: ErrorCode.InvalidConfig,
        message: expect.stringContaining(`cannot listen on 127.0.0.1:${port}`),
      });
      await a.stop();
      const sandboxes = await h.runtime.listPodSandbox();
      expect(sandboxes.filter((s) => s.metadata?.name.startsWith("early"))).toEqual([]);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 120_000);
});
