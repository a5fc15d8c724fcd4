import { lstat, mkdir, mkdtemp, readdir, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createManualClock, ErrorCode, isNodeletError, type Logger } from "@nodelet/runtime-api";
import { Registry } from "prom-client";
import { beforeEach, describe, expect, it } from "vitest";
import { createContainerGC, DEFAULT_GC_POLICY, GC_METRIC_NAMES } from "../src/index.js";
import { container, type MemoryRuntime, memoryRuntime, podsThatExist, sandbox } from "./support.js";

function recordingLogger(): Logger & { lines: { level: string; fields: object; msg: string }[] } {
  const lines: { level: string; fields: object; msg: string }[] = [];
  const at =
    (level: string) =>
    (fields: object | string, msg?: string): void => {
      lines.push(
        typeof fields === "string" ? { level, fields: {}, msg: fields } : { level, fields, msg: msg ?? "" },
      );
    };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

let rt: MemoryRuntime;
let logs: string;
beforeEach(async () => {
  rt = memoryRuntime();
  logs = await mkdtemp(join(tmpdir(), "container-gc-unit-"));
});

async function counter(registry: Registry, name: string, object: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => v.labels.object === object)?.value ?? 0;
}

describe("createContainerGC", () => {
  it("removes a deleted pod's containers, sandboxes and log directory, and keeps a live pod's newest", async () => {
    const clock = createManualClock(100_000);
    const registry = new Registry();
    const live = [1, 2, 3].map((t) => container("uid-live", "app", t * 1000));
    const running = container("uid-live", "app", 4000, "running");
    const gone = [1, 2].map((t) => container("uid-gone", "app", t * 1000));
    for (const c of [...live, running, ...gone]) rt.containers.set(c.id, c);
    rt.sandboxes.set("sb-uid-live", sandbox("uid-live", "sb-uid-live", 500, true));
    rt.sandboxes.set("sb-uid-gone", sandbox("uid-gone", "sb-uid-gone", 500, false));
    await mkdir(join(logs, "ns_live_uid-live", "app"), { recursive: true });
    await mkdir(join(logs, "ns_gone_uid-gone", "app"), { recursive: true });
    await writeFile(join(logs, "ns_gone_uid-gone", "app", "0.log"), "x");

    const gc = createContainerGC({
      runtime: rt,
      podState: podsThatExist("uid-live"),
      podLogsDirectory: logs,
      clock,
      registry,
    });
    const result = await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(result).toMatchObject({
      removedContainers: 4,
      removedSandboxes: 1,
      removedLogDirectories: 1,
      failures: 0,
    });
    expect([...rt.containers.keys()].sort()).toEqual([live[2]?.id, running.id].sort());
    expect([...rt.sandboxes.keys()]).toEqual(["sb-uid-live"]);
    expect(await readdir(logs)).toEqual(["ns_live_uid-live"]);
    expect(await counter(registry, GC_METRIC_NAMES.removed, "container")).toBe(4);
    expect(await counter(registry, GC_METRIC_NAMES.removed, "sandbox")).toBe(1);
  });

  it("leaves deleted pods alone until every source has been read", async () => {
    const gone = [1, 2].map((t) => container("uid-gone", "app", t * 1000));
    for (const c of gone) rt.containers.set(c.id, c);
    rt.sandboxes.set("sb-uid-gone", sandbox("uid-gone", "sb-uid-gone", 500));
    await mkdir(join(logs, "ns_gone_uid-gone"));
    const gc = createContainerGC({
      runtime: rt,
      podState: podsThatExist(),
      podLogsDirectory: logs,
      clock: createManualClock(10_000),
    });
    const result = await gc.garbageCollect(DEFAULT_GC_POLICY, false, false);
    expect(result).toMatchObject({ removedContainers: 1, removedSandboxes: 0, removedLogDirectories: 0 });
    expect(await readdir(logs)).toEqual(["ns_gone_uid-gone"]);
  });

  it("respects minAge", async () => {
    const clock = createManualClock(10_000);
    const old = container("uid-a", "app", 1000);
    const mid = container("uid-a", "app", 2000);
    const young = [8000, 9000].map((t) => container("uid-a", "app", t));
    for (const c of [old, mid, ...young]) rt.containers.set(c.id, c);
    const gc = createContainerGC({
      runtime: rt,
      podState: podsThatExist("uid-a"),
      podLogsDirectory: logs,
      clock,
    });
    await gc.garbageCollect({ ...DEFAULT_GC_POLICY, minAgeMs: 5000 }, true, false);
    // Of the two old enough, the newer stays; the young ones are not considered at all.
    expect([...rt.containers.keys()].sort()).toEqual([mid.id, ...young.map((c) => c.id)].sort());
  });

  it("counts every failure, logs it once while it lasts, and retries it on the next pass", async () => {
    const registry = new Registry();
    const logger = recordingLogger();
    const [a, b, c] = [1, 2, 3].map((t) => container("uid-gone", "app", t * 1000));
    for (const x of [a, b, c]) if (x) rt.containers.set(x.id, x);
    rt.failing.add(a?.id ?? "");
    const gc = createContainerGC({
      runtime: rt,
      podState: podsThatExist(),
      podLogsDirectory: logs,
      registry,
      logger,
    });
    const first = await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(first).toMatchObject({ removedContainers: 2, failures: 1 });
    const second = await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(second).toMatchObject({ removedContainers: 0, failures: 1 });
    expect(rt.calls.filter((call) => call === `rm ${a?.id}`).length).toBe(2);
    const warnings = logger.lines.filter((l) => l.level === "warn");
    expect(warnings.length).toBe(1);
    expect(warnings[0]?.fields).toMatchObject({
      object: "container",
      id: a?.id,
      podUid: "uid-gone",
      container: "app",
    });
    expect(gc.failing()).toEqual([`container/${a?.id}`]);
    expect(await counter(registry, GC_METRIC_NAMES.errors, "container")).toBe(2);
    rt.failing.clear();
    const third = await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(third).toMatchObject({ removedContainers: 1, failures: 0 });
    expect(gc.failing()).toEqual([]);
    expect(rt.containers.size).toBe(0);
  });

  it("stops a container in unknown state first, and leaves it when the stop fails", async () => {
    const [u1, u2, keep] = [1, 2, 3].map((t) => container("uid-a", "app", t * 1000, "unknown"));
    for (const x of [u1, u2, keep]) if (x) rt.containers.set(x.id, x);
    rt.failing.add(`kill:${u1?.id}`);
    const gc = createContainerGC({ runtime: rt, podState: podsThatExist("uid-a"), podLogsDirectory: logs });
    const result = await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(result).toMatchObject({ removedContainers: 1, failures: 1 });
    expect(rt.calls).toContain(`kill ${u2?.id}`);
    expect(rt.calls).not.toContain(`rm ${u1?.id}`);
    expect(rt.containers.has(u1?.id ?? "")).toBe(true);
  });

  it("starts no removal after the pass deadline and finishes on the next pass", async () => {
    const clock = createManualClock(1_000_000);
    const list = Array.from({ length: 10 }, (_, i) => container("uid-gone", "app", 1000 + i));
    for (const c of list) rt.containers.set(c.id, c);
    rt.onRemove = () => clock.advance(400);
    const gc = createContainerGC({
      runtime: rt,
      podState: podsThatExist(),
      podLogsDirectory: logs,
      clock,
      concurrency: 1,
      passTimeoutMs: 1000,
    });
    const first = await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(first.timedOut).toBe(true);
    expect(first.removedContainers).toBe(3);
    const second = await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(second.removedContainers).toBe(3);
    rt.onRemove = undefined;
    await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(rt.containers.size).toBe(0);
  });

  it("removes dangling legacy symlinks unless their container has not exited", async () => {
    const legacy = await mkdtemp(join(tmpdir(), "container-gc-legacy-"));
    // Container IDs are hex: the ID is what follows the last "-" of the link's name.
    const running = { ...container("uid-a", "app", 1000, "running"), id: "4f2a9c" };
    rt.containers.set(running.id, running);
    await writeFile(join(logs, "target.log"), "x");
    await symlink(join(logs, "target.log"), join(legacy, "p_ns_app-live1.log"));
    await symlink(join(logs, "missing.log"), join(legacy, "p_ns_app-gone1.log"));
    await symlink(join(logs, "missing.log"), join(legacy, `p_ns_app-${running.id}.log`));
    await writeFile(join(legacy, "not-a-link.log"), "x");
    const gc = createContainerGC({
      runtime: rt,
      podState: podsThatExist("uid-a"),
      podLogsDirectory: logs,
      legacyLogsDirectory: legacy,
    });
    const result = await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(result.removedLegacySymlinks).toBe(1);
    expect((await readdir(legacy)).sort()).toEqual(
      [`p_ns_app-${running.id}.log`, "not-a-link.log", "p_ns_app-live1.log"].sort(),
    );
  });

  it("removes a symlink in place of a log directory without following it", async () => {
    const outside = await mkdtemp(join(tmpdir(), "container-gc-outside-"));
    await writeFile(join(outside, "keep"), "x");
    await symlink(outside, join(logs, "ns_evil_uid-gone"));
    const gc = createContainerGC({ runtime: rt, podState: podsThatExist(), podLogsDirectory: logs });
    await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(await readdir(logs)).toEqual([]);
    expect((await lstat(join(outside, "keep"))).isFile()).toBe(true);
  });

  it("keeps a deleted pod's log directory while one of its containers remains", async () => {
    const stuck = container("uid-gone", "app", 1000);
    rt.containers.set(stuck.id, stuck);
    rt.failing.add(stuck.id);
    await mkdir(join(logs, "ns_gone_uid-gone"));
    const gc = createContainerGC({ runtime: rt, podState: podsThatExist(), podLogsDirectory: logs });
    await gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(await readdir(logs)).toEqual(["ns_gone_uid-gone"]);
  });

  it("rejects a bad policy with InvalidConfig naming the field, and shares a running pass", async () => {
    const gc = createContainerGC({ runtime: rt, podState: podsThatExist(), podLogsDirectory: logs });
    for (const [policy, field] of [
      [{ ...DEFAULT_GC_POLICY, minAgeMs: -1 }, "minAgeMs"],
      [{ ...DEFAULT_GC_POLICY, maxPerPodContainer: 1.5 }, "maxPerPodContainer"],
      [{ ...DEFAULT_GC_POLICY, maxContainers: Number.NaN }, "maxContainers"],
      [{ minAgeMs: 0, maxPerPodContainer: 1 }, "maxContainers"],
    ] as const) {
      const err = await gc.garbageCollect(policy as never, true, false).catch((e: unknown) => e);
      expect(isNodeletError(err, ErrorCode.InvalidConfig)).toBe(true);
      expect((err as { details: { field: string } }).details.field).toBe(field);
    }
    const one = gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    const two = gc.garbageCollect(DEFAULT_GC_POLICY, true, false);
    expect(two).toBe(one);
    await one;
  });

  it("rejects when the runtime cannot list containers", async () => {
    rt.listContainers = async () => {
      throw new Error("connection refused");
    };
    const gc = createContainerGC({ runtime: rt, podState: podsThatExist(), podLogsDirectory: logs });
    await expect(gc.garbageCollect(DEFAULT_GC_POLICY, true, false)).rejects.toThrow("connection refused");
  });
});
