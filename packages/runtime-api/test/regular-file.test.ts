import { execFileSync } from "node:child_process";
import { appendFile, mkdtemp, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ErrorCode,
  formatBytes,
  isNodeletError,
  nodeReadFs,
  type ReadFs,
  RegularFileError,
  readRegularFile,
  readRegularFileText,
} from "../src/index.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "regular-file-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<RegularFileError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(RegularFileError);
    return err as RegularFileError;
  }
  throw new Error("expected a RegularFileError");
}

describe("readRegularFile", () => {
  it("reads text with the size and mtime fstat saw, through a symlink too", async () => {
    const path = join(dir, "a.json");
    await writeFile(path, "\uFEFF{}");
    const link = join(dir, "link.json");
    await symlink(path, link);
    const read = await readRegularFile(link);
    expect(read).toMatchObject({ text: "{}", size: 5, target: path });
    expect(read.mtimeMs).toBeGreaterThan(0);
    expect(await readRegularFileText(path)).toBe("{}");
  });

  it("refuses FIFOs, devices and directories without blocking, naming the path", async () => {
    const fifo = join(dir, "pipe");
    execFileSync("mkfifo", [fifo]);
    const viaLink = join(dir, "zero");
    await symlink("/dev/zero", viaLink);
    const cases: [string, string][] = [
      [fifo, "is a named pipe (FIFO), not a regular file"],
      [viaLink, "is a symlink to /dev/zero, which is a character device, not a regular file"],
      [dir, "is a directory, not a regular file"],
    ];
    for (const [path, detail] of cases) {
      const err = await failure(readRegularFile(path, { code: ErrorCode.InvalidPod }));
      expect(err).toMatchObject({ path, problem: "not-regular", detail, message: `${path}: ${detail}` });
      expect(isNodeletError(err, ErrorCode.InvalidPod)).toBe(true);
    }
  });

  it("classifies missing files, dangling symlinks and loops", async () => {
    const missing = join(dir, "none");
    expect(await failure(readRegularFile(missing))).toMatchObject({
      problem: "missing",
      detail: "does not exist",
      code: ErrorCode.InvalidConfig,
    });
    expect(await failure(readRegularFile(join(dir, "none", "x")))).toMatchObject({ problem: "missing" });
    const dangling = join(dir, "dangling");
    await symlink(missing, dangling);
    expect(await failure(readRegularFile(dangling))).toMatchObject({
      problem: "missing",
      detail: "is a symlink to a file that does not exist",
    });
    const loop = join(dir, "loop");
    await symlink(loop, loop);
    expect(await failure(readRegularFile(loop))).toMatchObject({ problem: "unreadable" });
  });

  it("enforces the size limit before and while reading", async () => {
    const big = join(dir, "big");
    await writeFile(big, "x".repeat(2048));
    expect(await failure(readRegularFile(big, { maxBytes: 1024 }))).toMatchObject({
      problem: "too-large",
      detail: "is 2 KiB; the limit is 1 KiB",
    });

    const growing = join(dir, "growing");
    await writeFile(growing, "{}");
    const fs: ReadFs = {
      ...nodeReadFs,
      open: async (p, flags) => {
        const handle = await nodeReadFs.open(p, flags);
        // The file grows after fstat saw its size.
        const stat = handle.stat.bind(handle);
        handle.stat = (async () => {
          const info = await stat();
          await appendFile(p, "#".repeat(4096));
          return info;
        }) as typeof handle.stat;
        return handle;
      },
    };
    expect(await failure(readRegularFile(growing, { maxBytes: 1024, fs }))).toMatchObject({
      problem: "too-large",
      detail: "grew beyond 1 KiB while being read; the limit is that size",
    });
  });

  it("reports a file removed between the check and the open", async () => {
    const path = join(dir, "vanishing");
    await writeFile(path, "{}");
    const fs: ReadFs = {
      ...nodeReadFs,
      lstat: async (p) => {
        const info = await nodeReadFs.lstat(p);
        await unlink(p);
        return info;
      },
    };
    const err = await failure(readRegularFile(path, { fs }));
    expect(err).toMatchObject({ problem: "missing", detail: "was removed while being read" });
    expect((err.cause as { code?: string }).code).toBe("ENOENT");
  });

  it("refuses text that is not UTF-8", async () => {
    const path = join(dir, "latin1");
    await writeFile(path, Buffer.from([0x61, 0xe9, 0x62]));
    expect(await failure(readRegularFile(path))).toMatchObject({
      problem: "not-utf8",
      detail: "is not UTF-8 text",
    });
  });
});

describe("formatBytes", () => {
  it.each([
    [512, "512 bytes"],
    [1536, "1.5 KiB"],
    [2 * 1024 * 1024, "2 MiB"],
  ])("%d is %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
