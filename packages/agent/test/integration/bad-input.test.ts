// Bad manifests next to a good pod: each gives a clear error naming its file, the agent stays
// healthy, and the good pod is left alone. Bad command lines and config files stop the CLI with
// the right exit code and a message.
import { rm, symlink, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { V1Pod } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  agentArgs,
  allRunning,
  ContainerState,
  closeAgentSuite,
  containerStatus,
  type Dirs,
  freePort,
  type LogLine,
  makeDirs,
  openAgentSuite,
  podManifest,
  RUN_UNTIL_TERM,
  type RunningAgent,
  type RuntimeHarness,
  runCli,
  runtimeId,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: RunningAgent;
let good: V1Pod;

beforeAll(async () => {
  ({ h, dirs, agent } = await openAgentSuite("bad"));
  await writeManifest(
    h.env,
    dirs.manifests,
    "good.yaml",
    podManifest("good", [{ name: "main", command: RUN_UNTIL_TERM }]),
  );
  good = await agent.api.waitForPod("good", "running", allRunning);
});

afterAll(async () => {
  await closeAgentSuite(agent, h);
});

const BAD_FILES = ["broken.yaml", "empty.yaml", "deploy.yaml", "huge.yaml", "loop.yaml", "dangling.yaml"];

/** The error line the manifest directory source logs for `file`. */
function manifestError(file: string): Promise<LogLine> {
  const path = join(dirs.manifests, file);
  return agent.logs.waitFor(`an error naming ${file}`, (l) => {
    return l.level >= 50 && l.msg === "cannot use static pod manifest" && l.path === path;
  });
}

async function expectHealthyAndGoodUntouched(): Promise<void> {
  const healthz = await agent.api.get("/healthz");
  expect(healthz).toMatchObject({ status: 200, body: "ok" });
  const now = await agent.api.pod("good");
  expect(now?.metadata.uid).toBe(good.metadata.uid);
  const id = containerStatus(good, "main")?.containerID;
  expect(containerStatus(now, "main")?.containerID).toBe(id);
  expect(containerStatus(now, "main")?.state?.running).toBeDefined();
  const containers = await h.containers(good.metadata.uid ?? "");
  expect(containers.map((c) => [c.id, c.state])).toEqual([[runtimeId(id), ContainerState.CONTAINER_RUNNING]]);
  // Only the good pod is desired.
  expect((await agent.api.pods()).map((p) => p.metadata.name)).toEqual(["good-testnode"]);
}

describe("bad manifests next to a good pod", () => {
  it("invalid YAML", async () => {
    await writeManifest(
      h.env,
      dirs.manifests,
      "broken.yaml",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: [oops\n",
    );
    const line = await manifestError("broken.yaml");
    expect(line.err).toMatch(/broken\.yaml: invalid YAML at line \d+, column \d+/);
    await expectHealthyAndGoodUntouched();
  });

  it("a Pod without containers", async () => {
    await writeManifest(h.env, dirs.manifests, "empty.yaml", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "empty" },
      spec: { containers: [] },
    });
    const line = await manifestError("empty.yaml");
    expect(line.err).toMatch(/empty\.yaml: invalid pod: spec\.containers/);
    await expectHealthyAndGoodUntouched();
  });

  it("kind Deployment", async () => {
    await writeManifest(h.env, dirs.manifests, "deploy.yaml", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "deploy" },
      spec: {},
    });
    const line = await manifestError("deploy.yaml");
    expect(line.err).toBe(
      `${join(dirs.manifests, "deploy.yaml")}: kind "Deployment" is not supported: nodelet runs Pod manifests`,
    );
    await expectHealthyAndGoodUntouched();
  });

  it("a 10 MB file", async () => {
    await writeManifest(h.env, dirs.manifests, "huge.yaml", `# ${"x".repeat(10 * 1024 * 1024)}\n`);
    const line = await manifestError("huge.yaml");
    expect(line.err).toMatch(/huge\.yaml: is 10(\.0)? ?MiB; the limit is 1(\.0)? ?MiB/);
    await expectHealthyAndGoodUntouched();
  });

  it("a symlink loop", async () => {
    await symlink("loop.yaml", join(dirs.manifests, "loop.yaml"));
    const line = await manifestError("loop.yaml");
    expect(line.err).toMatch(/loop\.yaml: is a symlink loop/);
    await expectHealthyAndGoodUntouched();
  });

  it("a dangling symlink (a file removed before it could be read)", async () => {
    await symlink(join(dirs.base, "gone.yaml"), join(dirs.manifests, "dangling.yaml"));
    const line = await manifestError("dangling.yaml");
    expect(line.err).toMatch(/dangling\.yaml: is a symlink to a file that does not exist/);
    await expectHealthyAndGoodUntouched();
  });

  it("files written and removed at once, over and over, while the agent reads the directory", async () => {
    const churn = join(dirs.manifests, "churn.yaml");
    const manifest = JSON.stringify(podManifest("churn", [{ name: "main", image: h.env.images.busybox }]));
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      await writeFile(churn, manifest);
      await new Promise((r) => setTimeout(r, Math.random() * 20));
      await unlink(churn);
    }
    // Whatever the reads saw, nothing crashed; once the file is gone for good its problem (if one
    // was logged) is resolved and no pod of it is left.
    await new Promise((r) => setTimeout(r, 1_500));
    const errors = agent.logs.filter((l) => l.path === churn && l.msg === "cannot use static pod manifest");
    for (const e of errors)
      expect(e.err).toMatch(/churn\.yaml: (was removed while being read|.*does not exist)/);
    await expectHealthyAndGoodUntouched();
  });

  it("each problem is logged once, not again with every change of the other pods", async () => {
    // The churn above added and removed a pod many times; the bad files did not change.
    expect(agent.logs.filter((l) => l.msg === "pod added").length).toBeGreaterThan(1);
    for (const file of BAD_FILES) {
      const path = join(dirs.manifests, file);
      const lines = agent.logs.filter((l) => l.level >= 50 && (l.path === path || l.origin === path));
      expect(
        lines.map((l) => l.err ?? l.msg),
        file,
      ).toHaveLength(1);
    }
  });

  it("the good pod kept its container through all of it, and removing the bad files changes nothing", async () => {
    for (const file of BAD_FILES) await rm(join(dirs.manifests, file));
    await agent.logs.waitFor("the problem with huge.yaml resolved", (l) => {
      return l.msg === "static pod manifest problem resolved" && l.path === join(dirs.manifests, "huge.yaml");
    });
    await expectHealthyAndGoodUntouched();
    expect(agent.logs.events("good", "Killing")).toEqual([]);
    expect(agent.logs.events("good", "Created")).toHaveLength(1);
  });
});

describe("bad command lines and config files", () => {
  it("an unknown flag: exit code 2 and a message naming it", async () => {
    const result = await runCli(["--no-such-flag"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^nodelet: .*--no-such-flag/);
    expect(result.stderr).toContain("--help");
  });

  it("an invalid config value: exit code 1 naming the field", async () => {
    const other = await makeDirs("badconfig");
    await writeFile(
      other.configFile,
      "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nsyncFrequency: soon\n",
    );
    const result = await runCli(agentArgs(h.env, other, await freePort()));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/syncFrequency: "soon" is not a duration/);
    expect(result.stderr).toContain(other.configFile);
  });

  it("a non-loopback --address without TLS: refuses to start and says why", async () => {
    const other = await makeDirs("badaddress");
    // Replaces the loopback --address of agentArgs (the later flag wins).
    const result = await runCli([...agentArgs(h.env, other, await freePort()), "--address", "0.0.0.0"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/0\.0\.0\.0 is not a loopback address/);
    expect(result.stderr).toMatch(/--tls-cert-file/);
  });
});
