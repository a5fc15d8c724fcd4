// Node credentials: `<root-dir>/config.json` (docker config) lets the agent pull from the
// registry that needs basic auth; without it the pull fails and /pods says so.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  allRunning,
  containerStatus,
  type Dirs,
  makeDirs,
  openRuntime,
  podManifest,
  RUN_UNTIL_TERM,
  type RunningAgent,
  type RuntimeHarness,
  removeDirs,
  startAgent,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let agent: RunningAgent | undefined;

beforeAll(async () => {
  h = await openRuntime();
  await h.removeAllPods();
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  await h.removeAllPods();
});

afterAll(async () => {
  h?.close();
  await removeDirs();
});

// Always pull: the image may already be in containerd from an earlier run, and IfNotPresent
// would then not ask the registry at all.
const privatePod = podManifest("private", [
  { name: "main", image: "{{authBusybox}}", imagePullPolicy: "Always", command: RUN_UNTIL_TERM },
]);

describe("node credentials from <root-dir>/config.json", () => {
  it("with the registry's credentials in config.json, a pod with the private image runs", async () => {
    const dirs: Dirs = await makeDirs("creds");
    const { username, password } = h.env.auth;
    await writeFile(
      join(dirs.root, "config.json"),
      JSON.stringify({
        auths: {
          [h.env.registries.auth]: { auth: Buffer.from(`${username}:${password}`).toString("base64") },
        },
      }),
    );
    agent = await startAgent(h.env, dirs);
    await writeManifest(h.env, dirs.manifests, "private.yaml", privatePod);
    const pod = await agent.api.waitForPod("private", "running", allRunning);
    // (status.image is containerd's first tag of the image, which the plain registry's busybox
    // shares: the pull event is what shows the private registry was used.)
    const pulled = agent.logs.events("private", "Pulled");
    expect(pulled[0]?.msg).toContain(`Successfully pulled image "${h.env.images.authBusybox}"`);
    expect(containerStatus(pod, "main")?.imageID).toMatch(/^sha256:|@sha256:/);
  });

  it("without config.json the pull fails: ErrImagePull, then ImagePullBackOff", async () => {
    const dirs: Dirs = await makeDirs("nocreds");
    agent = await startAgent(h.env, dirs);
    await writeManifest(h.env, dirs.manifests, "private.yaml", privatePod);
    const failed = await agent.api.waitForPod("private", "ErrImagePull", (p) => {
      return containerStatus(p, "main")?.state?.waiting?.reason === "ErrImagePull";
    });
    expect(containerStatus(failed, "main")?.state?.waiting?.message).toMatch(
      /401 Unauthorized|unauthorized/i,
    );
    expect(failed.status?.phase).toBe("Pending");
    const backOff = await agent.api.waitForPod("private", "ImagePullBackOff", (p) => {
      return containerStatus(p, "main")?.state?.waiting?.reason === "ImagePullBackOff";
    });
    expect(containerStatus(backOff, "main")?.state?.waiting?.message).toMatch(/Back-off pulling image/);
    // Nothing ran.
    expect(await h.containers(backOff.metadata.uid ?? "")).toEqual([]);
    expect(agent.logs.events("private", "Failed").length).toBeGreaterThan(0);
  });
});
