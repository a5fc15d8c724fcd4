import type { V1Pod } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { describePod } from "../src/client/describe.js";
import {
  formatTable,
  humanDuration,
  podRestarts,
  podRow,
  podStatusText,
  probeText,
} from "../src/client/pod-format.js";
import { createSseParser } from "../src/client/sse.js";
import { createEventStore } from "../src/events.js";
import { parseFlags } from "../src/flags.js";
import { prettyLogs } from "../src/logging-format.js";

const NOW = Date.parse("2026-12-01T12:00:00Z");

function pod(status: V1Pod["status"], extra: Partial<V1Pod["spec"]> = {}): V1Pod {
  return {
    metadata: { name: "web", namespace: "default", uid: "u1", creationTimestamp: "2026-12-01T11:00:00Z" },
    spec: { containers: [{ name: "c", image: "busybox" }], nodeName: "n1", ...extra },
    ...(status ? { status } : {}),
  };
}

describe("kubectl's columns", () => {
  it("human durations", () => {
    expect(humanDuration(45_000)).toBe("45s");
    expect(humanDuration(119_000)).toBe("119s");
    expect(humanDuration(200_000)).toBe("3m20s");
    expect(humanDuration(14 * 60_000)).toBe("14m");
    expect(humanDuration(5.5 * 3600_000)).toBe("5h30m");
    expect(humanDuration(30 * 3600_000)).toBe("30h");
    expect(humanDuration(52 * 3600_000)).toBe("2d4h");
    expect(humanDuration(400 * 86_400_000)).toBe("400d");
    expect(humanDuration(-5)).toBe("0s");
  });

  it("STATUS: the waiting reason (CrashLoopBackOff), a terminated reason, Init:N/M, Terminating", () => {
    const waiting = pod({
      phase: "Running",
      containerStatuses: [
        {
          name: "c",
          ready: false,
          restartCount: 4,
          image: "busybox",
          imageID: "",
          state: { waiting: { reason: "CrashLoopBackOff" } },
          lastState: { terminated: { exitCode: 1, reason: "Error", finishedAt: "2026-12-01T11:59:18Z" } },
        },
      ],
    });
    expect(podStatusText(waiting)).toBe("CrashLoopBackOff");
    expect(podRestarts(waiting, NOW)).toBe("4 (42s ago)");
    const done = pod({
      phase: "Succeeded",
      containerStatuses: [
        {
          name: "c",
          ready: false,
          restartCount: 0,
          image: "",
          imageID: "",
          state: { terminated: { exitCode: 0, reason: "Completed" } },
        },
      ],
    });
    expect(podStatusText(done)).toBe("Completed");
    expect(podRestarts(done, NOW)).toBe("0");
    const init = pod(
      {
        phase: "Pending",
        initContainerStatuses: [
          {
            name: "i1",
            ready: false,
            restartCount: 0,
            image: "",
            imageID: "",
            state: { terminated: { exitCode: 0 } },
          },
          { name: "i2", ready: false, restartCount: 0, image: "", imageID: "", state: { running: {} } },
        ],
      },
      { initContainers: [{ name: "i1" }, { name: "i2" }] },
    );
    expect(podStatusText(init)).toBe("Init:1/2");
    const failedInit = pod(
      {
        phase: "Pending",
        initContainerStatuses: [
          {
            name: "i1",
            ready: false,
            restartCount: 1,
            image: "",
            imageID: "",
            state: { waiting: { reason: "CrashLoopBackOff" } },
          },
        ],
      },
      { initContainers: [{ name: "i1" }] },
    );
    expect(podStatusText(failedInit)).toBe("Init:CrashLoopBackOff");
    const terminating = {
      ...done,
      metadata: { ...done.metadata, deletionTimestamp: "2026-12-01T11:59:00Z" },
    };
    expect(podStatusText(terminating)).toBe("Terminating");
    expect(podStatusText(pod(undefined))).toBe("Pending");
  });

  it("a row and a table", () => {
    const running = pod({
      phase: "Running",
      podIP: "10.88.0.5",
      containerStatuses: [
        { name: "c", ready: true, restartCount: 0, image: "", imageID: "", state: { running: {} } },
      ],
    });
    const row = podRow(running, NOW);
    expect(row).toEqual({
      namespace: "default",
      name: "web",
      ready: "1/1",
      status: "Running",
      restarts: "0",
      age: "60m",
      ip: "10.88.0.5",
      node: "n1",
    });
    expect(
      formatTable(
        ["NAME", "READY"],
        [
          ["web", "1/1"],
          ["a-longer-name", "0/1"],
        ],
      ),
    ).toBe("NAME            READY\nweb             1/1\na-longer-name   0/1\n");
  });

  it("probes as kubectl describe prints them", () => {
    expect(probeText({ httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 5 })).toBe(
      "http-get http://:8080/healthz delay=0s timeout=1s period=5s #success=1 #failure=3",
    );
    expect(probeText({ exec: { command: ["cat", "/tmp/ok"] } })).toMatch(/^exec \[cat \/tmp\/ok\] delay=0s/);
    expect(probeText({ tcpSocket: { port: 53 } })).toMatch(/^tcp-socket :53 /);
  });
});

describe("describe pod", () => {
  it("shows containers, states, probes, mounts and the events at the bottom", () => {
    const p = pod(
      {
        phase: "Running",
        podIP: "10.88.0.5",
        containerStatuses: [
          {
            name: "c",
            ready: true,
            restartCount: 1,
            image: "busybox",
            imageID: "sha256:abc",
            containerID: "containerd://123",
            state: { running: { startedAt: "2026-12-01T11:30:00Z" } },
            lastState: {
              terminated: { exitCode: 137, reason: "OOMKilled", finishedAt: "2026-12-01T11:29:59Z" },
            },
          },
        ],
      },
      {
        containers: [
          {
            name: "c",
            image: "busybox",
            livenessProbe: { exec: { command: ["true"] } },
            volumeMounts: [{ name: "data", mountPath: "/data", readOnly: true }],
          },
        ],
        volumes: [{ name: "data", emptyDir: {} }],
      },
    );
    const store = createEventStore({ nodeName: "n1", clock: { now: () => NOW - 60_000 } as never });
    store.event(
      { kind: "Pod", namespace: "default", name: "web", uid: "u1", fieldPath: "spec.containers{c}" },
      "Normal",
      "Started",
      "Started container c",
    );
    const text = describePod(p, store.list(), NOW);
    expect(text).toMatch(/^Name:\s+web$/m);
    expect(text).toMatch(/^ {4}State:\s+Running$/m);
    expect(text).toMatch(/^ {4}Last State:\s+Terminated$/m);
    expect(text).toMatch(/^ {6}Reason:\s+OOMKilled$/m);
    expect(text).toMatch(/^ {4}Restart Count:\s+1$/m);
    expect(text).toMatch(/^ {4}Liveness:\s+exec \[true\]/m);
    expect(text).toContain("/data from data (ro)");
    expect(text).toMatch(
      /Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n\s+Normal\s+Started\s+60s\s+kubelet\s+Started container c\n$/,
    );
    expect(describePod(pod(undefined), [], NOW)).toMatch(/Events:\s+<none>\n$/);
  });
});

describe("server-sent events parser", () => {
  it("reads event, data (multi-line), id, retry and comments, across chunk boundaries and line ends", () => {
    const retries: number[] = [];
    const parser = createSseParser((ms) => retries.push(ms));
    expect(parser.push('retry: 2000\n\n:ping\n\nevent: pod\ndata: {"a"')).toEqual([]);
    expect(parser.push(":1}\r")).toEqual([]);
    expect(parser.push("\n\r\ndata: x\ndata: y\nid: 7\n\nevent: synced\r")).toEqual([
      { event: "pod", data: '{"a":1}' },
      { event: "message", data: "x\ny", id: "7" },
    ]);
    expect(parser.push("data\r\r")).toEqual([]);
    expect(retries).toEqual([2000]);
  });
});

describe("--logging-format", () => {
  it("text or json as asked; unset: text only on a terminal", () => {
    expect(prettyLogs("json", { isTTY: true })).toBe(false);
    expect(prettyLogs("text", { isTTY: false })).toBe(true);
    expect(prettyLogs(undefined, { isTTY: true })).toBe(true);
    expect(prettyLogs(undefined, {})).toBe(false);
  });

  it("the flag takes text or json and names itself when given anything else", () => {
    expect(parseFlags(["--logging-format", "json"]).overrides.loggingFormat).toBe("json");
    expect(() => parseFlags(["--logging-format", "yaml"])).toThrow(
      /--logging-format <format>' argument 'yaml' is invalid. must be "text" or "json", got "yaml"/,
    );
  });
});
