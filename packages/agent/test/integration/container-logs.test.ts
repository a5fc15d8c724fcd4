// /containerLogs and `nodelet logs` against real containers: the kubelet's parameters and answers,
// following to the container's exit, a client that goes away, previous after a restart.
import { readdirSync, readlinkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeAgentSuite,
  containerStatus,
  type Dirs,
  NODE_NAME,
  openAgentSuite,
  podManifest,
  type RunningAgent,
  type RuntimeHarness,
  runCli,
  thenRunUntilTerm,
  waitFor,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: RunningAgent;

const numbered = (n: number) => `i=0; while [ $i -lt ${n} ]; do echo "line $i"; i=$((i+1)); done`;
const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join("");

const pod = (name: string) => `${name}-${NODE_NAME}`;
const logsPath = (name: string, container = "main", query = "") =>
  `/containerLogs/default/${pod(name)}/${container}${query ? `?${query}` : ""}`;

async function get(path: string, signal?: AbortSignal) {
  const res = await fetch(`${agent.api.baseUrl}${path}`, { signal: signal ?? AbortSignal.timeout(30_000) });
  return { status: res.status, body: await res.text(), type: res.headers.get("content-type") ?? "" };
}

/** The agent's open descriptors on files under the pod logs directory. */
function openLogFds(): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dirs.logs)) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

beforeAll(async () => {
  ({ h, dirs, agent } = await openAgentSuite("logs"));
  await writeManifest(
    h.env,
    dirs.manifests,
    "talker.yaml",
    podManifest("talker", [
      { name: "main", command: thenRunUntilTerm(`${numbered(50)}; sleep 1; echo oops >&2`) },
    ]),
  );
  await writeManifest(
    h.env,
    dirs.manifests,
    "pair.yaml",
    podManifest("pair", [
      { name: "a", command: thenRunUntilTerm("echo from-a") },
      { name: "b", command: thenRunUntilTerm("echo from-b") },
    ]),
  );
  await waitFor("talker's 51 lines", async () => {
    const res = await get(logsPath("talker"));
    return res.status === 200 && res.body.split("\n").length === 52;
  });
});

afterAll(async () => {
  await closeAgentSuite(agent, h);
});

describe("/containerLogs", () => {
  it("answers with the log and the kubelet's parameters", async () => {
    const all = await get(logsPath("talker"));
    expect(all.type).toBe("text/plain; charset=utf-8");
    expect(all.body).toBe(`${lines(0, 50)}oops\n`);
    expect((await get(logsPath("talker", "main", "tailLines=2"))).body).toBe("line 49\noops\n");
    expect((await get(logsPath("talker", "main", "limitBytes=7"))).body).toBe("line 0\n");
    expect((await get(logsPath("talker", "main", "tailLines=1&limitBytes=3"))).body).toBe("oop");
    expect((await get(logsPath("talker", "main", "sinceSeconds=3600"))).body).toBe(all.body);
    expect((await get(logsPath("talker", "main", "sinceTime=2999-01-01T00:00:00Z"))).body).toBe("");
    const stamped = (await get(logsPath("talker", "main", "timestamps=true&tailLines=1"))).body;
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z oops\n$/);
  });

  it("answers bad requests as the kubelet, naming the parameter", async () => {
    const cases: [string, number, string][] = [
      [`/containerLogs/nope/${pod("talker")}/main`, 404, "nope"],
      ["/containerLogs/default/nope/main", 404, "nope"],
      [logsPath("talker", "nope"), 404, "nope"],
      [logsPath("talker", "main", "tailLines=abc"), 400, "tailLines"],
      [logsPath("talker", "main", "sinceTime=yesterday"), 400, "sinceTime"],
      [logsPath("talker", "main", "follow=maybe"), 400, "follow"],
      [logsPath("talker", "main", "tailLines=-1"), 422, "tailLines"],
      [logsPath("talker", "main", "limitBytes=-5"), 422, "limitBytes"],
      [logsPath("talker", "main", "sinceSeconds=0"), 422, "sinceSeconds"],
      [logsPath("talker", "main", "sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z"), 422, "sinceTime"],
      [logsPath("talker", "main", "previous=true"), 400, "previous terminated container"],
      ["/containerLogs/default", 404, "containerLogs"],
    ];
    for (const [path, status, text] of cases) {
      const res = await get(path);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(res.body, path).toContain(text);
    }
  });

  it("follows until the container exits, line by line", async () => {
    await writeManifest(
      h.env,
      dirs.manifests,
      "ticker.yaml",
      podManifest(
        "ticker",
        [
          {
            name: "main",
            command: [
              "sh",
              "-c",
              "i=0; while [ $i -lt 10 ]; do echo tick $i; i=$((i+1)); sleep 0.3; done; sleep 1",
            ],
          },
        ],
        { restartPolicy: "Never" },
      ),
    );
    await waitFor("ticker's first line", async () =>
      (await get(logsPath("ticker"))).body.startsWith("tick 0"),
    );
    const res = await fetch(`${agent.api.baseUrl}${logsPath("ticker", "main", "follow=true")}`, {
      signal: AbortSignal.timeout(60_000),
    });
    expect(res.status).toBe(200);
    // The body ends by itself once the container exited and its last line was sent.
    const body = await res.text();
    expect(body).toBe(Array.from({ length: 10 }, (_, i) => `tick ${i}\n`).join(""));
  });

  it("stops reading when a following client goes away", async () => {
    const before = openLogFds();
    const aborter = new AbortController();
    const res = await fetch(`${agent.api.baseUrl}${logsPath("talker", "main", "follow=true")}`, {
      signal: aborter.signal,
    });
    const reader = res.body?.getReader();
    const first = await reader?.read();
    expect(Buffer.from(first?.value ?? []).toString()).toContain("line 0");
    await waitFor("the log file open for the follower", () => openLogFds() > before);
    aborter.abort();
    await waitFor("the follower's file closed", () => openLogFds() === before, { timeoutMs: 30_000 });
  });

  it("reads the previous instance after a restart", async () => {
    await writeManifest(
      h.env,
      dirs.manifests,
      "again.yaml",
      podManifest(
        "again",
        [
          {
            name: "main",
            // The first attempt fails; the second runs on, so the newest instance is running and
            // the previous one (the kubelet's lastState) is the first.
            command: thenRunUntilTerm(
              "n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; echo attempt $n; [ $n -gt 1 ] || exit 1",
            ),
            volumeMounts: [{ name: "data", mountPath: "/data" }],
          },
        ],
        { volumes: [{ name: "data", emptyDir: {} }] },
      ),
    );
    await agent.api.waitForPod(
      "again",
      "a restart",
      (p) =>
        (containerStatus(p, "main")?.restartCount ?? 0) >= 1 &&
        containerStatus(p, "main")?.state?.running !== undefined,
      90_000,
    );
    const previous = await waitFor(
      "the previous instance's log",
      async () => {
        const res = await get(logsPath("again", "main", "previous=true"));
        return res.status === 200 && /^attempt \d+\n$/.test(res.body) ? res.body : undefined;
      },
      { timeoutMs: 90_000 },
    );
    const current = await waitFor(
      "the current instance's log",
      async () => {
        const res = await get(logsPath("again"));
        return res.status === 200 && /^attempt \d+\n$/.test(res.body) ? res.body : undefined;
      },
      { timeoutMs: 90_000 },
    );
    expect({ previous, current }).toEqual({ previous: "attempt 1\n", current: "attempt 2\n" });
  }, 300_000);
});

describe("nodelet logs", () => {
  it("prints a pod's only container, with --tail; lists the containers when there are several", async () => {
    const server = ["--server", agent.api.baseUrl];
    const all = await runCli(["logs", pod("talker"), ...server], 60_000);
    expect(all).toMatchObject({ code: 0, stdout: `${lines(0, 50)}oops\n` });
    const tail = await runCli(["logs", pod("talker"), "--tail", "1", ...server], 60_000);
    expect(tail).toMatchObject({ code: 0, stdout: "oops\n" });
    await waitFor("pair's containers", async () => (await get(logsPath("pair", "b"))).body === "from-b\n");
    const several = await runCli(["logs", pod("pair"), ...server], 60_000);
    expect(several.code).toBe(2);
    expect(several.stderr).toContain("a, b");
    expect(await runCli(["logs", pod("pair"), "-c", "b", ...server], 60_000)).toMatchObject({
      code: 0,
      stdout: "from-b\n",
    });
  }, 300_000);
});
