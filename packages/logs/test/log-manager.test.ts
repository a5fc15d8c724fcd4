import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { createManualClock, ErrorCode, NodeletError } from "@nodelet/runtime-api";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import {
  createLogManager,
  type LogRuntimeService,
  legacyLogSymlinkName,
  rotationSuffix,
} from "../src/index.js";
import { tempDir } from "./support.js";

interface FakeContainer {
  logPath: string;
  running: boolean;
  failReopen?: boolean;
}

function fakeRuntime(containers: Map<string, FakeContainer>) {
  const calls = { status: 0, reopen: 0 };
  const service: LogRuntimeService = {
    async listContainers(filter) {
      return [...containers.entries()]
        .filter(([, c]) => filter?.state === undefined || c.running)
        .map(([id]) => ({ id }) as Awaited<ReturnType<LogRuntimeService["listContainers"]>>[number]);
    },
    async containerStatus(id) {
      calls.status += 1;
      const c = containers.get(id);
      if (!c) throw new NodeletError(ErrorCode.NotFound, `container ${id} not found`);
      return { status: { logPath: c.logPath } } as Awaited<ReturnType<LogRuntimeService["containerStatus"]>>;
    },
    async reopenContainerLog(id) {
      calls.reopen += 1;
      const c = containers.get(id);
      if (!c || c.failReopen) throw new NodeletError(ErrorCode.Unknown, "reopen failed");
      await writeFile(c.logPath, "");
    },
  };
  return { service, calls };
}

const MiB = 1024 * 1024;

describe("log manager", () => {
  it("rotates a big log, keeps at most maxFiles, compresses all but the newest rotated file", async () => {
    const dir = tempDir();
    const logPath = join(dir, "0.log");
    const containers = new Map([["c1", { logPath, running: true }]]);
    const { service, calls } = fakeRuntime(containers);
    const clock = createManualClock(Date.parse("2026-12-02T10:00:00Z"));
    const registry = new Registry();
    const manager = createLogManager({
      runtimeService: service,
      maxSizeBytes: MiB,
      maxFiles: 3,
      clock,
      registry,
    });
    await writeFile(logPath, "small\n");
    await manager.rotateLogs();
    expect(readdirSync(dir)).toEqual(["0.log"]);
    for (let i = 0; i < 4; i++) {
      await writeFile(logPath, `${"x".repeat(MiB)}${i}\n`);
      clock.advance(1000);
      await manager.rotateLogs();
    }
    const files = readdirSync(dir).sort();
    // maxFiles 3: the live log and two rotated ones, the older compressed.
    expect(files).toEqual([
      "0.log",
      `0.log.${rotationSuffix(clock.now() - 1000)}.gz`,
      `0.log.${rotationSuffix(clock.now())}`,
    ]);
    expect(
      gunzipSync(readFileSync(join(dir, files[1] as string)))
        .toString()
        .endsWith("2\n"),
    ).toBe(true);
    expect(calls.status).toBe(1);
    expect(await registry.getSingleMetricAsString("nodelet_container_log_rotations_total")).toContain(" 4");
  });

  it("does not rotate an exited container, renames back when reopen fails, counts the error", async () => {
    const dir = tempDir();
    const a = join(dir, "a.log");
    const b = join(dir, "b.log");
    const containers = new Map<string, FakeContainer>([
      ["exited", { logPath: a, running: false }],
      ["broken", { logPath: b, running: true, failReopen: true }],
    ]);
    const registry = new Registry();
    const { service } = fakeRuntime(containers);
    const manager = createLogManager({ runtimeService: service, maxSizeBytes: 10, maxFiles: 2, registry });
    await writeFile(a, "x".repeat(100));
    await writeFile(b, "x".repeat(100));
    await manager.rotateLogs();
    expect(readdirSync(dir).sort()).toEqual(["a.log", "b.log"]);
    expect(await registry.getSingleMetricAsString("nodelet_container_log_manager_errors_total")).toContain(
      'operation="reopen"} 1',
    );
  });

  it("sweeps stale .tmp files and raw files that already have a .gz", async () => {
    const dir = tempDir();
    const logPath = join(dir, "0.log");
    const { service } = fakeRuntime(new Map([["c", { logPath, running: true }]]));
    await writeFile(`${logPath}.20261201-000000.tmp`, "stale");
    await writeFile(`${logPath}.20261201-000001`, "raw");
    await writeFile(`${logPath}.20261201-000001.gz`, "gz");
    await writeFile(logPath, "x".repeat(100));
    const manager = createLogManager({ runtimeService: service, maxSizeBytes: 10, maxFiles: 5 });
    await manager.rotateLogs();
    const files = readdirSync(dir).sort();
    expect(files.some((f) => f.endsWith(".tmp"))).toBe(false);
    expect(files).toContain("0.log.20261201-000001.gz");
    expect(files).not.toContain("0.log.20261201-000001");
  });

  it("links the legacy symlink on start and cleans the logs and the link", async () => {
    const dir = tempDir();
    const legacy = tempDir();
    const podDir = join(dir, "ns_pod_uid", "app");
    await mkdir(podDir, { recursive: true });
    const logPath = join(podDir, "0.log");
    const other = join(podDir, "10.log");
    await writeFile(logPath, "x");
    await writeFile(`${logPath}.20261201-000000.gz`, "x");
    await writeFile(other, "x");
    const { service } = fakeRuntime(new Map([["abc", { logPath, running: true }]]));
    const manager = createLogManager({
      runtimeService: service,
      legacyLogDirectory: join(legacy, "containers"),
    });
    await manager.containerStarted({
      containerId: "abc",
      podName: "pod",
      podNamespace: "ns",
      containerName: "app",
      logPath,
    });
    const link = join(legacy, "containers", "pod_ns_app-abc.log");
    expect(readlinkSync(link)).toBe(logPath);
    await manager.clean("abc");
    expect(existsSync(link)).toBe(false);
    expect(readdirSync(podDir)).toEqual(["10.log"]);
    // Gone already: still fine.
    await manager.clean("abc");
    await manager.clean("unknown");
    expect(lstatSync(other).isFile()).toBe(true);
  });

  it("makes the legacy directory when it is missing and replaces a link left under the same name", async () => {
    const dir = tempDir();
    const legacy = join(tempDir(), "containers");
    const logPath = join(dir, "0.log");
    const stale = join(dir, "old.log");
    await writeFile(logPath, "x");
    const { service } = fakeRuntime(new Map([["abc", { logPath, running: true }]]));
    const manager = createLogManager({ runtimeService: service, legacyLogDirectory: legacy });
    const started = { containerId: "abc", podName: "pod", podNamespace: "ns", containerName: "app", logPath };
    const link = join(legacy, "pod_ns_app-abc.log");
    await manager.containerStarted(started);
    expect(readlinkSync(link)).toBe(logPath);
    // Removed by someone else: made again at the next start.
    await rm(legacy, { recursive: true });
    await manager.containerStarted(started);
    expect(readlinkSync(link)).toBe(logPath);
    // A link already there (pointing elsewhere) is replaced.
    await rm(link);
    await symlink(stale, link);
    await manager.containerStarted(started);
    expect(readlinkSync(link)).toBe(logPath);
  });

  it("cuts legacy names to 251 characters plus .log", () => {
    const name = legacyLogSymlinkName("p".repeat(200), "ns", "c", "i".repeat(64));
    expect(name.length).toBe(255);
    expect(name.endsWith(".log")).toBe(true);
  });

  it("refuses bad settings with the field's name", () => {
    const { service } = fakeRuntime(new Map());
    expect(() => createLogManager({ runtimeService: service, maxFiles: 1 })).toThrow(/containerLogMaxFiles/);
    expect(() => createLogManager({ runtimeService: service, maxWorkers: 0 })).toThrow(
      /containerLogMaxWorkers/,
    );
    expect(() => createLogManager({ runtimeService: service, monitorIntervalMs: 0 })).toThrow(
      /containerLogMonitorInterval/,
    );
  });

  it("runs on the clock's interval once started, until stopped", async () => {
    const dir = tempDir();
    const logPath = join(dir, "0.log");
    const { service, calls } = fakeRuntime(new Map([["c", { logPath, running: true }]]));
    const clock = createManualClock(Date.parse("2026-12-02T10:00:00Z"));
    const manager = createLogManager({
      runtimeService: service,
      maxSizeBytes: 10,
      clock,
      monitorIntervalMs: 10_000,
    });
    await writeFile(logPath, "x".repeat(100));
    manager.start();
    clock.advance(10_000);
    const deadline = Date.now() + 30_000;
    while (calls.reopen === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(calls.reopen).toBe(1);
    await manager.stop();
    expect((await stat(logPath)).size).toBe(0);
  });
});
