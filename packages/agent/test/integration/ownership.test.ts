// Foreign pods are never killed. A kubelet's sandbox on the same containerd (no ownership label)
// survives every housekeeping pass, with one warning; an unlabelled sandbox that looks like an
// earlier nodelet's static pod is left alone too, unless --adopt-unlabelled-pods; nodelet's own
// pods are adopted after a restart, and those whose manifests vanished while it was down are
// killed, also when the manifest directory itself is missing (an empty source, as with the kubelet).
import { randomUUID } from "node:crypto";
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { NamespaceMode, PodSandboxConfig } from "@nodelet/cri-api";
import { ErrorCode, type V1Pod } from "@nodelet/runtime-api";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent.js";
import { parseFlags, resolveConfig } from "../../src/flags.js";
import {
  allRunning,
  type Dirs,
  makeDirs,
  openRuntime,
  podManifest,
  RUN_UNTIL_TERM,
  type RunningAgent,
  type RuntimeHarness,
  readySandboxes,
  removeDirs,
  startAgent,
  waitFor,
  waitForKilled,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: (RunningAgent & { agent: unknown }) | undefined;
const run = randomUUID().slice(0, 8);

/** A sandbox as another kubelet would create it: the kubelet's labels, no ownership label. */
async function foreignSandbox(
  name: string,
  annotations: Record<string, string>,
  uid: string = randomUUID(),
): Promise<string> {
  const config = PodSandboxConfig.fromPartial({
    metadata: { name, uid, namespace: "default", attempt: 0 },
    hostname: name,
    logDirectory: join(dirs.logs, `default_${name}_${uid}`),
    labels: {
      "io.kubernetes.pod.name": name,
      "io.kubernetes.pod.namespace": "default",
      "io.kubernetes.pod.uid": uid,
      app: name,
    },
    annotations: {
      ...annotations,
      "kubernetes.io/config.hash": annotations["kubernetes.io/config.hash"] ?? "",
    },
    linux: {
      securityContext: {
        namespaceOptions: {
          network: NamespaceMode.POD,
          pid: NamespaceMode.CONTAINER,
          ipc: NamespaceMode.POD,
        },
      },
    },
  });
  await h.runtime.runPodSandbox(config, "");
  return uid;
}

const warnedAbout = (a: RunningAgent, uid: string) =>
  a.logs.waitFor(`warning about ${uid}`, (l) => l.level === 40 && l.uid === uid, 60_000);

async function podByName(a: RunningAgent, name: string): Promise<V1Pod> {
  return waitFor(
    `pod ${name} running`,
    async () => {
      const pod = (await a.api.pods()).find((p) => p.metadata.name?.startsWith(`${name}-`));
      return pod && allRunning(pod) ? pod : undefined;
    },
    { timeoutMs: 90_000 },
  );
}

let foreignUid: string;
let legacyUid = "";

beforeAll(async () => {
  h = await openRuntime();
  await h.removeAllPods();
  dirs = await makeDirs("ownership");
  foreignUid = await foreignSandbox(`kubelet-pod-${run}`, { "kubernetes.io/config.source": "api" });
  legacyUid = randomUUID();
  await foreignSandbox(
    `old-nodelet-${run}`,
    { "kubernetes.io/config.source": "file", "kubernetes.io/config.hash": legacyUid },
    legacyUid,
  );
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await h?.removeAllPods();
  h?.close();
  await removeDirs();
}, 120_000);

describe("ownership", () => {
  it("refuses to start without a pod source, before touching the runtime", async () => {
    const { config } = await resolveConfig({
      flags: parseFlags([
        "--container-runtime-endpoint",
        h.env.criEndpoint,
        "--hostname-override",
        "testnode",
      ]),
    });
    const a = createAgent({ config, logger: pino({ level: "silent" }) });
    await expect(a.start()).rejects.toMatchObject({ code: ErrorCode.InvalidConfig });
    await a.stop();
  });

  let keptContainerIds: (string | undefined)[] = [];
  let goneUid: string;

  it("runs its own pods and leaves a kubelet's and an earlier nodelet's pods alone, warning once each", async () => {
    await writeManifest(
      h.env,
      dirs.manifests,
      "kept.yaml",
      podManifest("kept", [{ name: "main", command: RUN_UNTIL_TERM }]),
    );
    await writeManifest(
      h.env,
      dirs.manifests,
      "gone.yaml",
      podManifest("gone", [{ name: "main", command: RUN_UNTIL_TERM }]),
    );
    agent = await startAgent(h.env, dirs);
    const kept = await podByName(agent, "kept");
    goneUid = (await podByName(agent, "gone")).metadata.uid ?? "";
    keptContainerIds = (kept.status?.containerStatuses ?? []).map((c) => c.containerID);
    const foreignWarning = await warnedAbout(agent, foreignUid);
    expect(foreignWarning).toMatchObject({
      namespace: "default",
      name: `kubelet-pod-${run}`,
      owner: "foreign",
    });
    expect(await warnedAbout(agent, legacyUid)).toMatchObject({ owner: "legacy" });
    // The warning comes from the housekeeping pass that would have killed them.
    expect(await readySandboxes(h.runtime, foreignUid)).toHaveLength(1);
    expect(await readySandboxes(h.runtime, legacyUid)).toHaveLength(1);
    expect(agent.logs.filter((l) => l.level === 40 && l.uid === foreignUid)).toHaveLength(1);
    const sandboxes = await h.runtime.listPodSandbox();
    const own = sandboxes.find((s) => s.metadata?.uid === goneUid);
    expect(own?.labels["io.nodelet.managed-by"]).toBe("nodelet");
    await agent.stop();
    agent = undefined;
  }, 240_000);

  it("after a restart adopts its pods, kills its own whose manifests vanished, and (with the flag) an earlier nodelet's", async () => {
    await unlink(join(dirs.manifests, "gone.yaml"));
    agent = await startAgent(h.env, dirs, ["-v", "1", "--adopt-unlabelled-pods"]);
    await waitForKilled(h, goneUid, 60_000);
    await waitForKilled(h, legacyUid, 60_000);
    const kept = await podByName(agent, "kept");
    expect((kept.status?.containerStatuses ?? []).map((c) => c.containerID)).toEqual(keptContainerIds);
    await warnedAbout(agent, foreignUid);
    expect(await readySandboxes(h.runtime, foreignUid)).toHaveLength(1);
    await agent.stop();
    agent = undefined;
  }, 240_000);

  it("a manifest directory that does not exist is an empty source: its own pods go, a kubelet's stay", async () => {
    const missing: Dirs = { ...dirs, manifests: join(dirs.base, "no-such-dir") };
    agent = await startAgent(h.env, missing);
    await agent.logs.waitFor("missing path warning", (l) =>
      String(l.msg).includes("static pod path does not exist"),
    );
    const keptSandbox = (await h.runtime.listPodSandbox()).find((s) => s.metadata?.name.startsWith("kept-"));
    await waitForKilled(h, keptSandbox?.metadata?.uid ?? "", 60_000);
    await warnedAbout(agent, foreignUid);
    expect(await readySandboxes(h.runtime, foreignUid)).toHaveLength(1);
    // One warning per pod for the agent's whole life, however many housekeeping passes ran.
    expect(agent.logs.filter((l) => l.level === 40 && l.uid === foreignUid)).toHaveLength(1);
  }, 240_000);
});
