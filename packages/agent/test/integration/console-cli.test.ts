// `nodelet get pods|events` and `nodelet describe pod` against a running agent on containerd:
// every output format parsed back, -w sees a new pod and its events, errors give exit codes 1/2.
import { Readable, Writable } from "node:stream";
import type { V1Pod } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { runClientVerb } from "../../src/client/index.js";
import type { V1EventList } from "../../src/events.js";
import {
  allRunning,
  closeAgentSuite,
  type Dirs,
  NODE_NAME,
  openAgentSuite,
  podManifest,
  RUN_UNTIL_TERM,
  type RunningAgent,
  type RuntimeHarness,
  waitFor,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: RunningAgent;
const POD = `console-web-${NODE_NAME}`;

beforeAll(async () => {
  ({ h, dirs, agent } = await openAgentSuite("console-cli"));
  await writeManifest(
    h.env,
    dirs.manifests,
    "console-web.yaml",
    podManifest("console-web", [{ name: "main", command: RUN_UNTIL_TERM }]),
  );
  await agent.api.waitForPod("console-web", "running", allRunning, 60_000);
});

afterAll(async () => {
  await closeAgentSuite(agent, h);
});

interface Run {
  code: Promise<number | undefined>;
  stdout(): string;
  stderr(): string;
  abort(): void;
}

function sink(chunks: string[]): Writable {
  return new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
}

/** Runs `nodelet <argv> --server <agent>` in this process. */
function start(argv: string[]): Run {
  const out: string[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  const code = runClientVerb([...argv, "--server", agent.api.baseUrl], {
    stdout: sink(out),
    stderr: sink(err),
    stdin: Readable.from([]),
    signal: controller.signal,
  });
  return { code, stdout: () => out.join(""), stderr: () => err.join(""), abort: () => controller.abort() };
}

async function run(argv: string[]): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
  const r = start(argv);
  const code = await r.code;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

describe("nodelet get pods", () => {
  it("prints kubectl's table, and -o wide adds the IP", async () => {
    const table = await run(["get", "pods"]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines.find((l) => l.includes(POD))).toMatch(
      new RegExp(`^default\\s+${POD}\\s+1/1\\s+Running\\s+0\\s+\\d+s$`),
    );
    const pod = await agent.api.pod("console-web");
    const wide = await run(["get", "pods", "-n", "default", "-o", "wide"]);
    expect(wide.stdout.split("\n")[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE$/);
    expect(wide.stdout).toContain(pod?.status?.podIP ?? "no ip");
  });

  it("-o json, yaml and name parse back to the agent's pods", async () => {
    const json = JSON.parse((await run(["get", "pods", "-o", "json"])).stdout) as {
      kind: string;
      items: V1Pod[];
    };
    expect(json.kind).toBe("List");
    expect(json.items.map((p) => p.metadata.name)).toContain(POD);
    const one = parseYaml((await run(["get", "pods", POD, "-o", "yaml"])).stdout) as V1Pod;
    expect(one.metadata.name).toBe(POD);
    expect(one.status?.phase).toBe("Running");
    expect((await run(["get", "pods", "-o", "name"])).stdout.split("\n")).toContain(`pod/${POD}`);
  });

  it("exit codes: 1 for a pod the agent does not run, 2 for bad usage", async () => {
    const missing = await run(["get", "pods", "no-such-pod"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('pod "no-such-pod" not found');
    const badType = await run(["get", "nodes"]);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain('unknown resource type "nodes"');
    const badFormat = await run(["get", "pods", "-o", "table"]);
    expect(badFormat.code).toBe(2);
    const unreachable = await runClientVerb(["get", "pods", "--server", "http://127.0.0.1:1"], {
      stdout: sink([]),
      stderr: sink([]),
      stdin: Readable.from([]),
      signal: new AbortController().signal,
    });
    expect(unreachable).toBe(1);
  });

  it("-w prints a pod added after it started", async () => {
    const watch = start(["get", "pods", "-w", "-o", "name"]);
    try {
      await waitFor("the first list", () => watch.stdout().includes(`pod/${POD}`), { timeoutMs: 30_000 });
      await writeManifest(
        h.env,
        dirs.manifests,
        "console-late.yaml",
        podManifest("console-late", [{ name: "main", command: RUN_UNTIL_TERM }]),
      );
      await waitFor(
        "the new pod in the watch",
        () => watch.stdout().includes(`pod/console-late-${NODE_NAME}`),
        {
          timeoutMs: 60_000,
          describe: () => watch.stdout() + watch.stderr(),
        },
      );
    } finally {
      watch.abort();
    }
    expect(await watch.code).toBe(0);
  });
});

describe("nodelet get events and describe pod", () => {
  it("lists the pod's events as a table and as an EventList", async () => {
    const table = await run(["get", "events", "--for", `pod/${POD}`]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^NAMESPACE\s+LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
    expect(table.stdout).toMatch(new RegExp(`Normal\\s+Started\\s+pod/${POD}\\s+Started container main`));
    const list = JSON.parse((await run(["get", "events", "-o", "json"])).stdout) as V1EventList;
    expect(list.kind).toBe("EventList");
    const started = list.items.find((e) => e.involvedObject.name === POD && e.reason === "Started");
    expect(started).toMatchObject({ type: "Normal", involvedObject: { fieldPath: "spec.containers{main}" } });
  });

  it("-w prints the events of a pod started after it", async () => {
    const watch = start(["get", "events", "-w", "-n", "default"]);
    try {
      await waitFor("the first list", () => watch.stdout().includes(POD), { timeoutMs: 30_000 });
      await writeManifest(
        h.env,
        dirs.manifests,
        "console-events.yaml",
        podManifest("console-events", [{ name: "main", command: RUN_UNTIL_TERM }]),
      );
      await waitFor(
        "the new pod's Started event",
        () => new RegExp(`Started\\s+pod/console-events-${NODE_NAME}`).test(watch.stdout()),
        { timeoutMs: 60_000, describe: () => watch.stdout() + watch.stderr() },
      );
    } finally {
      watch.abort();
    }
    expect(await watch.code).toBe(0);
  });

  it("describe shows the containers, their state and the events at the bottom", async () => {
    const out = await run(["describe", "pod", POD]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(new RegExp(`^Name:\\s+${POD}$`, "m"));
    expect(out.stdout).toMatch(/^Status:\s+Running$/m);
    expect(out.stdout).toMatch(/^ {2}main:$/m);
    expect(out.stdout).toMatch(/^ {4}State:\s+Running$/m);
    expect(out.stdout).toMatch(/^ {4}Restart Count:\s+0$/m);
    expect(out.stdout).toMatch(/Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n/);
    expect(out.stdout).toMatch(/Normal\s+Started\s+\S+\s+kubelet\s+Started container main/);
    const missing = await run(["describe", "pod", "nope"]);
    expect(missing.code).toBe(1);
  });
});
