// The one module of runtime-api that does I/O: reading a small, untrusted file (a pod manifest, a
// config file, a docker config) without hanging or exhausting the process. Only regular files are
// read, a symlink only after checking where it leads, the size is bounded before and while reading,
// and a FIFO is opened without waiting for a writer (see the project's toolchain notes).
import { constants, type Stats } from "node:fs";
import { type FileHandle, lstat, open, realpath } from "node:fs/promises";
import { errnoCode, errorMessage } from "./error-helpers.js";
import { ErrorCode, NodeletError } from "./errors.js";

/** 1 MiB: far above any real pod manifest, config file or docker config. */
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

/** The part of node:fs/promises used to read a file; injectable so tests can race a removal. */
export interface ReadFs {
  lstat(path: string): Promise<Stats>;
  realpath(path: string): Promise<string>;
  open(path: string, flags: number): Promise<FileHandle>;
}

export const nodeReadFs: ReadFs = {
  lstat: (path) => lstat(path),
  realpath: (path) => realpath(path),
  open: (path, flags) => open(path, flags),
};

export interface ReadRegularFileOptions {
  /** Default DEFAULT_MAX_FILE_BYTES. */
  maxBytes?: number;
  /** Code of the RegularFileError thrown on any problem; default InvalidConfig. */
  code?: ErrorCode;
  fs?: ReadFs;
}

export interface RegularFile {
  /** The content, UTF-8 decoded (a byte-order mark is dropped). */
  text: string;
  /** Size and modification time as fstat saw them when the file was opened (to notice a change later). */
  size: number;
  mtimeMs: number;
  /** The file read: `path`, or where the symlink at `path` led. */
  target: string;
}

/**
 * Why a file was not read: `missing` (absent, a dangling symlink, removed while being read),
 * `not-regular` (directory, FIFO, device, socket), `too-large`, `not-utf8`, or `unreadable`
 * (permissions, a symlink loop, an I/O error).
 */
export type RegularFileProblem = "missing" | "not-regular" | "too-large" | "not-utf8" | "unreadable";

/** A file that was not read; the message is `<path>: <detail>`. */
export class RegularFileError extends NodeletError {
  readonly path: string;
  readonly problem: RegularFileProblem;
  /** What is wrong, without the path: "is a named pipe (FIFO), not a regular file". */
  readonly detail: string;

  constructor(code: ErrorCode, path: string, problem: RegularFileProblem, detail: string, cause?: unknown) {
    super(code, `${path}: ${detail}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { path, problem },
    });
    this.name = "RegularFileError";
    this.path = path;
    this.problem = problem;
    this.detail = detail;
  }
}

/**
 * Reads a regular file as UTF-8 text, following a symlink only after checking where it leads.
 * Every problem is a RegularFileError (a NodeletError with `options.code`) naming the path.
 */
export async function readRegularFile(
  path: string,
  options: ReadRegularFileOptions = {},
): Promise<RegularFile> {
  const fs = options.fs ?? nodeReadFs;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  const code = options.code ?? ErrorCode.InvalidConfig;
  const fail = (problem: RegularFileProblem, detail: string, cause?: unknown) =>
    new RegularFileError(code, path, problem, detail, cause);
  const failErrno = (err: unknown, what: string) => {
    const [problem, detail] = errnoProblem(err, what);
    return fail(problem, detail, err);
  };

  let link: Stats;
  try {
    link = await fs.lstat(path);
  } catch (err) {
    throw failErrno(err, "cannot be read");
  }
  let target = path;
  if (link.isSymbolicLink()) {
    try {
      target = await fs.realpath(path);
    } catch (err) {
      const errno = errnoCode(err);
      if (errno === "ELOOP")
        throw fail("unreadable", "is a symlink loop (the link leads back to itself)", err);
      if (errno === "ENOENT") throw fail("missing", "is a symlink to a file that does not exist", err);
      throw failErrno(err, "is a symlink that cannot be resolved");
    }
  } else if (!link.isFile()) {
    throw fail("not-regular", `is ${describeType(link)}, not a regular file`);
  }

  // O_NONBLOCK: opening a FIFO must not wait for a writer. The type is then checked on the open
  // descriptor itself, so a file swapped after the checks above is still caught.
  let handle: FileHandle;
  try {
    handle = await fs.open(target, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const errno = errnoCode(err);
    if (errno === "ENOENT") throw fail("missing", "was removed while being read", err);
    if (errno === "ELOOP") throw fail("unreadable", "is a symlink loop (the link leads back to itself)", err);
    throw failErrno(err, "cannot be opened");
  }
  try {
    const info = await handle.stat();
    const via = target === path ? "" : `a symlink to ${target}, which is `;
    if (!info.isFile()) throw fail("not-regular", `is ${via}${describeType(info)}, not a regular file`);
    if (info.size > maxBytes) {
      throw fail("too-large", `is ${via}${formatBytes(info.size)}; the limit is ${formatBytes(maxBytes)}`);
    }
    // Sized for what stat saw plus one byte, grown once to the limit plus one if the file grew:
    // a file that grows past the limit while being read is caught too.
    let buffer = Buffer.alloc(info.size + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (buffer.length > maxBytes) break;
        const grown = Buffer.alloc(maxBytes + 1);
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) {
      throw fail(
        "too-large",
        `grew beyond ${formatBytes(maxBytes)} while being read; the limit is that size`,
      );
    }
    const text = decodeUtf8(buffer.subarray(0, length), (detail) => fail("not-utf8", detail));
    return { text, size: info.size, mtimeMs: info.mtimeMs, target };
  } catch (err) {
    if (err instanceof NodeletError) throw err;
    throw failErrno(err, "cannot be read");
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** readRegularFile's text alone. */
export async function readRegularFileText(
  path: string,
  options: ReadRegularFileOptions = {},
): Promise<string> {
  return (await readRegularFile(path, options)).text;
}

/** UTF-8 text without a byte-order mark; anything else is refused with `fail("is not UTF-8 text")`. */
export function decodeUtf8(bytes: Uint8Array, fail: (detail: string) => NodeletError): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw fail("is not UTF-8 text");
  }
}

/** `512 bytes`, `1.5 KiB`, `2 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

function describeType(info: Stats): string {
  if (info.isDirectory()) return "a directory";
  if (info.isFIFO()) return "a named pipe (FIFO)";
  if (info.isSocket()) return "a socket";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  if (info.isSymbolicLink()) return "a symlink";
  return "not a regular file";
}

function errnoProblem(err: unknown, what: string): [RegularFileProblem, string] {
  switch (errnoCode(err)) {
    case "ENOENT":
      return ["missing", "does not exist"];
    case "ENOTDIR":
      return ["missing", "does not exist (a parent is not a directory)"];
    case "EACCES":
    case "EPERM":
      return ["unreadable", `${what}: permission denied`];
    case "EISDIR":
      return ["not-regular", "is a directory, not a regular file"];
    default:
      return ["unreadable", `${what}: ${errorMessage(err)}`];
  }
}
