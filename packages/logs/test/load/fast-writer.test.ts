// A container writing as fast as containerd takes it, up to about 20 MB/s (1000-byte numbered lines), its log rotated by the manager every
// second at 8 MiB, followed by readLogs: every line arrives once, in order, and the disk stays bounded.
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLogManager, readLogs } from "../../src/index.js";
import { type Cri, connectCri, isRunning, runContainer, waitFor } from "../integration/support.js";

let cri: Cri;
beforeAll(async () => {
  cri = await connectCri();
});
afterAll(async () => {
  await cri?.close();
});

/** Checks "<8-digit n> xxx...": n counts up from 0; remembers the first line out of order. */
class SequenceChecker extends Writable {
  next = 0;
  problem: string | undefined;
  #carry = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    const text = this.#carry + chunk.toString("latin1");
    const lines = text.split("\n");
    this.#carry = lines.pop() ?? "";
    for (const line of lines) {
      const n = Number(line.slice(0, 8)) - 10_000_000;
      if (n !== this.next && this.problem === undefined) {
        this.problem = `expected line ${this.next}, got ${JSON.stringify(line.slice(0, 20))}`;
      }
      this.next = n + 1;
    }
    cb();
  }
}

const LINES = 100_000;
const MiB = 1024 * 1024;

it("follows a fast writer across rotations without losing or repeating a line, on bounded disk", async () => {
  // 1000 lines of 1000 bytes (1 MB, numbered from 10 000 000) then 0.05 s of sleep: at most about 20 MB/s
  // (how fast containerd takes it in depends on the machine; the test prints the rate). It sleeps before exiting
  // (containerd drops the end of the output of a container that exits at once).
  const pad = "x".repeat(991);
  const c = await runContainer(
    cri,
    "fast",
    `b=0; while [ $b -lt ${LINES / 1000} ]; do seq $((10000000 + b * 1000)) $((10000999 + b * 1000)) | sed 's/$/ ${pad}/'; usleep 50000; b=$((b + 1)); done; sleep 3`,
  );
  const started = Date.now();
  const manager = createLogManager({
    runtimeService: cri.runtime,
    maxSizeBytes: 8 * MiB,
    maxFiles: 3,
    monitorIntervalMs: 1000,
  });
  manager.start();
  const checker = new SequenceChecker();
  let maxDisk = 0;
  const sampler = setInterval(() => {
    try {
      const dir = dirname(c.logPath);
      const total = readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
      maxDisk = Math.max(maxDisk, total);
    } catch {
      // a file rotated away between the listing and the stat
    }
  }, 100);
  try {
    await waitFor("the log file", async () => {
      try {
        statSync(c.logPath);
        return true;
      } catch {
        return false;
      }
    });
    const result = await readLogs(c.logPath, checker, checker, {
      follow: true,
      isRunning: () => isRunning(cri, c.id),
    });
    expect(result.rotations).toBeGreaterThan(2);
  } finally {
    clearInterval(sampler);
    await manager.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `${LINES} lines (${(LINES / 1000).toFixed(0)} MB) in ${seconds.toFixed(1)} s; disk at most ${(maxDisk / MiB).toFixed(1)} MiB`,
  );
  expect(checker.problem).toBeUndefined();
  expect(checker.next).toBe(LINES);
  // The live log grows past 8 MiB for up to a monitor interval (10 MB/s), plus two rotated files
  // (one raw, one gzip), plus the raw copy while gzip writes: far below an unbounded 100 MB.
  expect(maxDisk).toBeLessThan(60 * MiB);
  await waitFor("the container to exit", async () => !(await isRunning(cri, c.id)));
});
