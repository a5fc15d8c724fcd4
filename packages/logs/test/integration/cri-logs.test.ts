import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogManager, readLogs } from "../../src/index.js";
import { Sink, tempDir } from "../support.js";
import { type Cri, connectCri, isRunning, runContainer, waitFor } from "./support.js";

let cri: Cri;
beforeAll(async () => {
  cri = await connectCri();
});
afterAll(async () => {
  await cri?.close();
});

/** Lines "line 0".."line n-1", one per echo. */
const numbered = (n: number) => `i=0; while [ $i -lt ${n} ]; do echo "line $i"; i=$((i+1)); done`;
const expectedLines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join("");

describe("readLogs on containerd's logs", () => {
  it("joins containerd's partial lines and keeps the streams apart", async () => {
    // containerd splits lines longer than its 16 KiB buffer into P lines.
    const c = await runContainer(
      cri,
      "partial",
      "head -c 40000 /dev/zero | tr '\\0' x; echo; echo to-stderr >&2; echo after; sleep 1",
    );
    await waitFor("the container to exit", async () => !(await isRunning(cri, c.id)));
    const out = new Sink();
    const err = new Sink();
    await readLogs(c.logPath, out, err);
    expect(out.text()).toBe(`${"x".repeat(40000)}\nafter\n`);
    expect(err.text()).toBe("to-stderr\n");
    const tail = new Sink();
    await readLogs(c.logPath, tail, tail, { tailLines: 2, stream: "stdout" });
    expect(tail.text()).toBe(`${"x".repeat(40000)}\nafter\n`);
    const stamped = new Sink();
    await readLogs(c.logPath, stamped, stamped, { timestamps: true, stream: "stderr" });
    expect(stamped.text()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z to-stderr\n$/);
  });

  it("applies tail, since and limitBytes to a real log", async () => {
    const c = await runContainer(cri, "numbers", `${numbered(500)}; sleep 1`);
    await waitFor("the container to exit", async () => !(await isRunning(cri, c.id)));
    const all = new Sink();
    await readLogs(c.logPath, all, all, { timestamps: true });
    const stamped = all.text().trimEnd().split("\n");
    expect(stamped).toHaveLength(500);
    const tail = new Sink();
    await readLogs(c.logPath, tail, tail, { tailLines: 3 });
    expect(tail.text()).toBe(expectedLines(497, 500));
    const limited = new Sink();
    await readLogs(c.logPath, limited, limited, { tailLines: 3, limitBytes: 10 });
    expect(limited.text()).toBe(expectedLines(497, 500).slice(0, 10));
    // Since the time of line 250: that line and every later one (times never go back).
    const at = stamped[250]?.split(" ")[0] as string;
    const since = new Sink();
    await readLogs(c.logPath, since, since, { sinceTime: new Date(at) });
    const got = since.text().trimEnd().split("\n");
    expect(got.at(-1)).toBe("line 499");
    expect(got).toContain("line 250");
    const future = new Sink();
    await readLogs(c.logPath, future, future, { sinceTime: new Date(Date.now() + 3_600_000) });
    expect(future.text()).toBe("");
  });

  it("follows a writer across the manager's rotations, losing and repeating nothing, and ends after it exits", async () => {
    const total = 40_000;
    // Slow enough that the reader sees several rotations; sleeps before exiting (containerd drops
    // the end of the output of a container that exits at once).
    const c = await runContainer(
      cri,
      "rotating",
      `i=0; while [ $i -lt ${total} ]; do echo "line $i"; i=$((i+1)); if [ $((i % 2000)) -eq 0 ]; then sleep 0.2; fi; done; sleep 2`,
    );
    const manager = createLogManager({ runtimeService: cri.runtime, maxSizeBytes: 16 * 1024, maxFiles: 3 });
    const out = new Sink();
    const reading = readLogs(c.logPath, out, out, {
      follow: true,
      isRunning: () => isRunning(cri, c.id),
    });
    let rotating = true;
    const rotations = (async () => {
      while (rotating) {
        await manager.rotateLogs();
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const result = await reading;
    rotating = false;
    await rotations;
    await manager.stop();
    expect(result.rotations).toBeGreaterThan(0);
    const lines = out.text().trimEnd().split("\n");
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines).toEqual(lines.map((_, i) => `line ${i}`));
    expect(lines.length).toBe(total);
    // Disk stayed bounded: the live log and at most maxFiles-1 rotated files.
    expect(readdirSync(dirname(c.logPath)).filter((f) => !f.endsWith(".tmp")).length).toBeLessThanOrEqual(3);
  });

  it("makes the legacy symlink and cleans everything of the container", async () => {
    const c = await runContainer(cri, "cleaned", `${numbered(2000)}; sleep 600`);
    const legacy = tempDir();
    const manager = createLogManager({
      runtimeService: cri.runtime,
      maxSizeBytes: 1024,
      maxFiles: 2,
      legacyLogDirectory: legacy,
    });
    await waitFor("the log", async () => existsSync(c.logPath));
    await manager.containerStarted({
      containerId: c.id,
      podName: "cleaned",
      podNamespace: "ns",
      containerName: "cleaned",
      logPath: c.logPath,
    });
    const link = join(legacy, `cleaned_ns_cleaned-${c.id}.log`);
    expect(readlinkSync(link)).toBe(c.logPath);
    await waitFor("a rotation", async () => {
      await manager.rotateLogs();
      return readdirSync(dirname(c.logPath)).length > 1;
    });
    await manager.clean(c.id);
    expect(readdirSync(dirname(c.logPath))).toEqual([]);
    expect(existsSync(link)).toBe(false);
    await manager.stop();
  });
});
