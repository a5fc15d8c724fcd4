import { open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findTailStart, readLogs } from "../src/index.js";
import { cri, Sink, tempDir } from "./support.js";

const T1 = "2026-12-02T10:00:01.100000000Z";
const T2 = "2026-12-02T10:00:02.2Z";
const T3 = "2026-12-02T10:00:03Z";

async function logFile(content: string): Promise<string> {
  const path = join(tempDir(), "0.log");
  await writeFile(path, content);
  return path;
}

async function read(content: string, options: Parameters<typeof readLogs>[3] = {}) {
  const path = await logFile(content);
  const out = new Sink();
  const err = new Sink();
  const result = await readLogs(path, out, err, options);
  return { out: out.text(), err: err.text(), result };
}

const sample =
  cri(T1, "stdout", "P", "hel") +
  cri(T1, "stderr", "F", "oops") +
  cri(T2, "stdout", "F", "lo") +
  "not a log line\n" +
  cri(T3, "stdout", "F", "third");

describe("readLogs", () => {
  it("joins partial lines, splits the streams, skips and counts malformed lines", async () => {
    const { out, err, result } = await read(sample);
    expect(out).toBe("hello\nthird\n");
    expect(err).toBe("oops\n");
    expect(result.malformed).toBe(1);
    expect(result.lines).toBe(3);
  });

  it("keeps both streams in file order on one writable", async () => {
    const path = await logFile(sample);
    const both = new Sink();
    await readLogs(path, both, both);
    expect(both.text()).toBe("oops\nhello\nthird\n");
  });

  it("reads one stream when asked", async () => {
    expect((await read(sample, { stream: "stderr" })).err).toBe("oops\n");
    expect((await read(sample, { stream: "stderr" })).out).toBe("");
  });

  it("prefixes each joined line once with its first part's time, trimmed", async () => {
    const { out } = await read(sample, { timestamps: true });
    expect(out).toBe("2026-12-02T10:00:01.1Z hello\n2026-12-02T10:00:03Z third\n");
  });

  it("tails whole entries at the end of both streams", async () => {
    const mixed =
      cri(T1, "stderr", "F", "early") +
      cri(T1, "stdout", "F", "a") +
      cri(T2, "stdout", "P", "b1") +
      cri(T2, "stderr", "F", "mid") +
      cri(T2, "stdout", "F", "b2") +
      cri(T3, "stderr", "F", "last");
    const tail = async (n: number) => {
      const path = await logFile(mixed);
      const both = new Sink();
      await readLogs(path, both, both, { tailLines: n });
      return both.text();
    };
    expect(await tail(1)).toBe("last\n");
    expect(await tail(2)).toBe("mid\nb1b2\nlast\n");
    expect(await tail(3)).toBe("mid\nb1b2\nlast\n");
    expect(await tail(4)).toBe("a\nmid\nb1b2\nlast\n");
    expect(await tail(9)).toBe("early\na\nmid\nb1b2\nlast\n");
  });

  it("tails the last complete lines of a stream", async () => {
    expect((await read(sample, { tailLines: 1 })).out).toBe("third\n");
    expect((await read(sample, { tailLines: 2 })).out).toBe("hello\nthird\n");
    expect((await read(sample, { tailLines: 3 })).out).toBe("hello\nthird\n");
    expect((await read(sample, { tailLines: 2 })).err).toBe("oops\n");
    expect((await read(sample, { tailLines: 100 })).out).toBe("hello\nthird\n");
    expect((await read(sample, { tailLines: 0 })).out).toBe("");
    expect((await read(sample, { tailLines: 1, stream: "stderr" })).err).toBe("oops\n");
  });

  it("filters by time: at or after sinceTime", async () => {
    expect((await read(sample, { sinceTime: new Date("2026-12-02T10:00:02.200Z") })).out).toBe("third\n");
    expect((await read(sample, { sinceTime: { sec: Date.parse(T3) / 1000, nsec: 0 } })).out).toBe("third\n");
    expect((await read(sample, { sinceTime: new Date("2026-12-02T10:00:04Z") })).out).toBe("");
  });

  it("limits the bytes exactly, after tail and since, counting timestamps", async () => {
    // Both streams count: stderr's "oops\n" comes first (hello is joined at its last part).
    expect(await read(sample, { limitBytes: 8 })).toMatchObject({ err: "oops\n", out: "hel" });
    expect((await read(sample, { limitBytes: 3, stream: "stdout" })).out).toBe("hel");
    expect((await read(sample, { limitBytes: 6, stream: "stdout" })).out).toBe("hello\n");
    expect((await read(sample, { limitBytes: 0 })).out).toBe("");
    expect((await read(sample, { limitBytes: 4, tailLines: 1 })).out).toBe("thir");
    expect((await read(sample, { limitBytes: 3, sinceTime: new Date(T3) })).out).toBe("thi");
    expect((await read(sample, { limitBytes: 25, timestamps: true, stream: "stdout" })).out).toBe(
      "2026-12-02T10:00:01.1Z he",
    );
  });

  it("ignores an unfinished last line and a missing trailing newline does not break the tail", async () => {
    const { out } = await read(`${sample}${T3} stdout F unfinished`);
    expect(out).toBe("hello\nthird\n");
    expect((await read(`${sample}${T3} stdout F unfinished`, { tailLines: 1 })).out).toBe("third\n");
  });

  it("rejects a missing file with NotFound naming it", async () => {
    const path = join(tempDir(), "absent.log");
    await expect(readLogs(path, new Sink(), new Sink())).rejects.toMatchObject({
      code: "NotFound",
      details: { path },
    });
  });

  it("joins lines split across read blocks (lines larger than a block)", async () => {
    const big = "x".repeat(3 * 1024 * 1024);
    const { out } = await read(
      cri(T1, "stdout", "P", big) + cri(T2, "stdout", "F", "!") + cri(T3, "stdout", "F", "end"),
    );
    expect(out).toBe(`${big}!\nend\n`);
  });

  it("tails a 1 GiB sparse file reading only its end", async () => {
    const path = join(tempDir(), "big.log");
    const file = await open(path, "w");
    const tail = Array.from({ length: 200 }, (_, i) => cri(T3, "stdout", "F", `line ${i}`)).join("");
    const size = 1024 ** 3;
    // The hole reads as zero bytes (one huge malformed line) that the tail never reaches.
    const filler = `\n${cri(T1, "stdout", "F", "filler")}`;
    await file.write(
      Buffer.from(`${filler}${tail}`),
      0,
      undefined,
      size - Buffer.byteLength(tail) - filler.length,
    );
    await file.close();
    const out = new Sink();
    const result = await readLogs(path, out, out, { tailLines: 100 });
    expect(result.lines).toBe(100);
    expect(out.text().split("\n")[0]).toBe("line 100");
    const handle = await open(path, "r");
    try {
      expect(await findTailStart(handle, size, 200)).toBe(size - Buffer.byteLength(tail));
    } finally {
      await handle.close();
    }
  });
});
