import { readdirSync } from "node:fs";
import { appendFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { readLogs } from "../src/index.js";
import { cri, Sink, tempDir } from "./support.js";

const T = "2026-12-02T10:00:00.5Z";

function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => cri(T, "stdout", "F", `line ${from + i}`)).join("");

describe("readLogs follow", () => {
  it("reads as the file grows, follows rotations (twice between polls too), ends once the container stopped", async () => {
    const dir = tempDir();
    const path = join(dir, "0.log");
    await writeFile(path, lines(0, 10));
    let running = true;
    const out = new Sink();
    const fdsBefore = openFds();
    const reading = readLogs(path, out, out, {
      follow: true,
      isRunning: async () => running,
      pollIntervalMs: 10,
      runningCheckIntervalMs: 10,
    });
    await waitFor("the first lines", () => out.text().includes("line 9\n"));
    await appendFile(path, lines(10, 20));
    await waitFor("appended lines", () => out.text().includes("line 19\n"));
    // One rotation: rename, then the runtime reopens (a new file), the old one gets a last write.
    await rename(path, `${path}.20261202-100001`);
    await appendFile(`${path}.20261202-100001`, lines(20, 25));
    await writeFile(path, lines(25, 30));
    await waitFor("the rotated file's successor", () => out.text().includes("line 29\n"));
    // Two rotations before the reader looks again.
    await rename(path, `${path}.20261202-100002`);
    await writeFile(path, lines(30, 35));
    await rename(path, `${path}.20261202-100003`);
    await writeFile(path, lines(35, 40));
    await waitFor("both successors", () => out.text().includes("line 39\n"));
    await appendFile(path, lines(40, 45));
    running = false;
    const result = await reading;
    expect(out.text()).toBe(lines(0, 45).replaceAll(`${T} stdout F `, ""));
    expect(result.rotations).toBe(3);
    expect(openFds()).toBe(fdsBefore);
  });

  it("reads a successor that was compressed before the reader got to it", async () => {
    const dir = tempDir();
    const path = join(dir, "0.log");
    await writeFile(path, lines(0, 5));
    let running = true;
    const out = new Sink();
    const reading = readLogs(path, out, out, {
      follow: true,
      isRunning: async () => running,
      pollIntervalMs: 10,
      runningCheckIntervalMs: 10,
    });
    await waitFor("the first lines", () => out.text().includes("line 4\n"));
    // Two rotations, and the middle file compressed (as the manager does with all but the newest).
    await rename(path, `${path}.20261202-100001`);
    await writeFile(`${path}.20261202-100002.gz`, gzipSync(lines(5, 10)));
    await writeFile(path, lines(10, 15));
    await waitFor("the compressed successor and the live file", () => out.text().includes("line 14\n"));
    running = false;
    await reading;
    await unlink(`${path}.20261202-100001`);
    expect(out.text()).toBe(lines(0, 15).replaceAll(`${T} stdout F `, ""));
  });

  it("stops on abort without leaking the file", async () => {
    const path = join(tempDir(), "0.log");
    await writeFile(path, lines(0, 3));
    const out = new Sink();
    const aborter = new AbortController();
    const fdsBefore = openFds();
    const reading = readLogs(path, out, out, {
      follow: true,
      isRunning: async () => true,
      signal: aborter.signal,
      pollIntervalMs: 10,
    });
    await waitFor("the lines", () => out.text().includes("line 2\n"));
    aborter.abort();
    await reading;
    expect(openFds()).toBe(fdsBefore);
  });

  it("waits for drain on a slow writable", async () => {
    const path = join(tempDir(), "0.log");
    await writeFile(path, lines(0, 5000));
    const { Writable } = await import("node:stream");
    let drains = 0;
    const chunks: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        setImmediate(cb);
      },
    });
    slow.on("drain", () => drains++);
    await readLogs(path, slow, slow, { follow: true, isRunning: async () => false, pollIntervalMs: 10 });
    await new Promise<void>((r) => slow.end(r));
    expect(Buffer.concat(chunks).toString()).toBe(lines(0, 5000).replaceAll(`${T} stdout F `, ""));
    expect(drains).toBeGreaterThan(0);
  });
});
