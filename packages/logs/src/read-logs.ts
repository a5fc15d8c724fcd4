// readLogs: a container's CRI log file to the caller's writables, with the kubelet's options
// (pkg/kubelet/kuberuntime/logs: ReadLogs): tailLines, sinceTime, limitBytes, timestamps, follow.
//
// Partial lines are joined (a `P` line's content is written without a newline, the entry's next
// line continues it); with timestamps an entry is prefixed once, with its first line's time. A
// malformed line is skipped and counted. Following polls the open file (no watcher to leak), notices
// a rotation by the path's inode changing, finishes the old file, then reads every rotated successor
// in order before the live file; it ends when the container is no longer running and everything is
// read, or when the signal aborts.

import { constants, createReadStream, type Stats } from "node:fs";
import { type FileHandle, open, readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { createGunzip } from "node:zlib";
import { type Clock, ErrorCode, errnoCode, NodeletError, systemClock } from "@nodelet/runtime-api";
import {
  compareLogTime,
  dateToLogTime,
  type LogStream,
  type LogTime,
  lineTime,
  parseCriLine,
  timestampPrefix,
} from "./cri-format.js";
import { findTailStart } from "./tail.js";

export interface ReadLogsOptions {
  /** Only the last n entries (undefined or negative: all). With follow, where following starts. */
  tailLines?: number | undefined;
  /** Only entries recorded at or after this time. */
  sinceTime?: Date | LogTime | undefined;
  /** At most this many bytes in all (undefined or negative: no limit); the last line is cut. */
  limitBytes?: number | undefined;
  /** Start each entry with its time (Go's RFC3339Nano, UTC) and a space. */
  timestamps?: boolean | undefined;
  /** Keep reading as the container writes, across rotations, until it stops running. */
  follow?: boolean | undefined;
  /** One stream only; default both. */
  stream?: LogStream | "all" | undefined;
  /** Whether the container still runs; follow ends once it returns false and everything is read. */
  isRunning?: (() => Promise<boolean>) | undefined;
  signal?: AbortSignal | undefined;
  /** How often a followed file is polled for new data; default 100 ms. */
  pollIntervalMs?: number | undefined;
  /** How often isRunning is asked while the file does not grow; default 1 s. */
  runningCheckIntervalMs?: number | undefined;
  clock?: Clock | undefined;
}

export interface ReadLogsResult {
  /** Bytes written to the writables. */
  bytes: number;
  /** Complete entries written. */
  lines: number;
  /** Lines skipped because they were not CRI log lines. */
  malformed: number;
  /** Rotations followed. */
  rotations: number;
}

const BLOCK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;
const NEWLINE_BUFFER = Buffer.from("\n");
/** A line longer than this without a newline is given up (the runtime splits lines at 16 KiB). */
const MAX_LINE_BYTES = 4 * 1024 * 1024;
/** Partial content held for one entry before it is written unjoined. */
const MAX_HELD_PARTIAL_BYTES = 1024 * 1024;
const ROTATED_NAME = /^\.(\d{8}-\d{6})(\.gz)?$/;

/** Waits for 'drain' (or the writable's end, or the abort) when write() asked for it. */
async function write(w: NodeJS.WritableStream, data: Buffer, signal: AbortSignal | undefined): Promise<void> {
  if (w.write(data)) return;
  if (signal?.aborted) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      w.off("drain", done);
      w.off("close", done);
      w.off("error", done);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    w.once("drain", done);
    w.once("close", done);
    w.once("error", done);
    signal?.addEventListener("abort", done, { once: true });
  });
}

interface EntryState {
  /** Inside an entry whose last line was partial. */
  open: boolean;
  /** Whether the entry's lines are written (decided on its first line). */
  included: boolean;
  /** The entry's output so far (its time, its partial lines' content). */
  parts: Buffer[];
  partBytes: number;
}

/** Turns blocks of CRI lines into the output, with the options' filters. */
class LineWriter {
  readonly result: ReadLogsResult = { bytes: 0, lines: 0, malformed: 0, rotations: 0 };
  done = false;
  readonly #since: LogTime | undefined;
  readonly #remaining: { bytes: number };
  readonly #state: Record<LogStream, EntryState> = {
    stdout: { open: false, included: false, parts: [], partBytes: 0 },
    stderr: { open: false, included: false, parts: [], partBytes: 0 },
  };
  readonly #queue = new Map<NodeJS.WritableStream, Buffer[]>();
  /** Bytes of an unfinished line (no newline yet) carried to the next block. */
  #carry: Buffer | undefined;

  constructor(
    readonly options: ReadLogsOptions,
    readonly stdout: NodeJS.WritableStream,
    readonly stderr: NodeJS.WritableStream,
  ) {
    const since = options.sinceTime;
    this.#since = since instanceof Date ? dateToLogTime(since) : since;
    const limit = options.limitBytes;
    this.#remaining = { bytes: limit === undefined || limit < 0 ? Number.POSITIVE_INFINITY : limit };
    if (this.#remaining.bytes === 0) this.done = true;
  }

  #emit(stream: LogStream, data: Buffer): void {
    if (this.done || data.length === 0) return;
    let out = data;
    if (out.length >= this.#remaining.bytes) {
      out = out.subarray(0, this.#remaining.bytes);
      this.done = true;
    }
    this.#remaining.bytes -= out.length;
    this.result.bytes += out.length;
    const w = stream === "stdout" ? this.stdout : this.stderr;
    const chunks = this.#queue.get(w);
    if (chunks) chunks.push(out);
    else this.#queue.set(w, [out]);
  }

  /** A new file starts: an unfinished line of the previous one is dropped. */
  resetCarry(): void {
    this.#carry = undefined;
  }

  /** Processes the complete lines of `block`; keeps its unfinished last line for the next one. */
  push(block: Buffer): void {
    let buf = block;
    if (this.#carry !== undefined) {
      buf = Buffer.concat([this.#carry, block]);
      this.#carry = undefined;
    }
    let start = 0;
    while (!this.done) {
      const nl = buf.indexOf(NEWLINE, start);
      if (nl < 0) break;
      this.#line(buf, start, nl);
      start = nl + 1;
    }
    if (!this.done && start < buf.length) {
      if (buf.length - start > MAX_LINE_BYTES) this.result.malformed += 1;
      else this.#carry = Buffer.from(buf.subarray(start));
    }
  }

  #line(buf: Buffer, start: number, end: number): void {
    const line = parseCriLine(buf, start, end);
    if (line === undefined) {
      this.result.malformed += 1;
      return;
    }
    const filter = this.options.stream ?? "all";
    if (filter !== "all" && line.stream !== filter) return;
    const state = this.#state[line.stream];
    if (!state.open) {
      state.included = true;
      state.parts = [];
      state.partBytes = 0;
      if (this.#since !== undefined) {
        const time = lineTime(buf, line);
        if (time === undefined) this.result.malformed += 1;
        state.included = time !== undefined && compareLogTime(time, this.#since) >= 0;
      }
      if (state.included && this.options.timestamps) {
        const prefix = timestampPrefix(buf, line);
        if (prefix === undefined) {
          this.result.malformed += 1;
          state.included = false;
        } else {
          state.parts.push(prefix);
        }
      }
    }
    state.open = line.partial;
    if (!state.included) return;
    if (line.partial) {
      // Held until the entry's last line, so that entries of the two streams never interleave
      // mid-line on one writable; a runaway partial entry is written as it comes.
      state.parts.push(buf.subarray(line.contentStart, line.contentEnd));
      state.partBytes += line.contentEnd - line.contentStart;
      if (state.partBytes > MAX_HELD_PARTIAL_BYTES) this.#emitParts(line.stream, state);
      return;
    }
    // The newline right after the content is written with it.
    state.parts.push(
      buf[line.contentEnd] === NEWLINE
        ? buf.subarray(line.contentStart, line.contentEnd + 1)
        : Buffer.concat([buf.subarray(line.contentStart, line.contentEnd), NEWLINE_BUFFER]),
    );
    this.#emitParts(line.stream, state);
    if (!this.done) this.result.lines += 1;
  }

  #emitParts(stream: LogStream, state: EntryState): void {
    for (const part of state.parts) this.#emit(stream, part);
    state.parts = [];
    state.partBytes = 0;
  }

  /** Writes what the last blocks produced, waiting for back-pressure. */
  async flush(signal: AbortSignal | undefined): Promise<void> {
    for (const [w, chunks] of this.#queue) {
      this.#queue.delete(w);
      await write(w, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), signal);
    }
  }
}

function notFound(path: string, cause: unknown): NodeletError {
  return new NodeletError(ErrorCode.NotFound, `the log file ${path} does not exist`, {
    cause,
    details: { path },
  });
}

async function openLog(path: string): Promise<FileHandle> {
  try {
    return await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") throw notFound(path, err);
    throw new NodeletError(
      ErrorCode.Internal,
      `cannot open the log file ${path}: ${(err as Error).message}`,
      {
        cause: err,
        details: { path },
      },
    );
  }
}

/** Reads `file` from `offset` to its current end into the writer; the new offset. */
async function readToEnd(
  file: FileHandle,
  offset: number,
  writer: LineWriter,
  signal?: AbortSignal,
): Promise<number> {
  let pos = offset;
  while (!writer.done && !signal?.aborted) {
    const block = Buffer.allocUnsafe(BLOCK_BYTES);
    const { bytesRead } = await file.read(block, 0, BLOCK_BYTES, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    writer.push(block.subarray(0, bytesRead));
    await writer.flush(signal);
  }
  return pos;
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * The files that came after the file with inode `ino`, oldest first: the rotated `<path>.<time>`
 * files newer than it (a compressed one as its `.gz`), then `path` itself. When the old file is no
 * longer among the raw rotated ones, only `path` (what was rotated in between is lost, as with the
 * kubelet).
 */
async function successors(path: string, ino: number): Promise<{ path: string; gz: boolean }[]> {
  const dir = dirname(path);
  const base = basename(path);
  const bySuffix = new Map<string, { raw: boolean; gz: boolean }>();
  for (const name of await readdir(dir)) {
    if (!name.startsWith(base)) continue;
    const m = ROTATED_NAME.exec(name.slice(base.length));
    if (m?.[1] === undefined) continue;
    const entry = bySuffix.get(m[1]) ?? { raw: false, gz: false };
    if (m[2] === undefined) entry.raw = true;
    else entry.gz = true;
    bySuffix.set(m[1], entry);
  }
  const suffixes = [...bySuffix.keys()].sort();
  let index = -1;
  for (const [i, suffix] of suffixes.entries()) {
    if (!bySuffix.get(suffix)?.raw) continue;
    if ((await statOrUndefined(join(dir, `${base}.${suffix}`)))?.ino === ino) index = i;
  }
  const rotated =
    index < 0
      ? []
      : suffixes.slice(index + 1).map((suffix) => {
          const raw = bySuffix.get(suffix)?.raw === true;
          return { path: join(dir, `${base}.${suffix}${raw ? "" : ".gz"}`), gz: !raw };
        });
  return [...rotated, { path, gz: false }];
}

/** A compressed rotated file, whole, into the writer; false when it is gone. */
async function readCompressed(path: string, writer: LineWriter, signal?: AbortSignal): Promise<boolean> {
  const input = createReadStream(path);
  const gunzip = createGunzip();
  input.on("error", (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  try {
    for await (const chunk of gunzip) {
      writer.push(chunk as Buffer);
      await writer.flush(signal);
      if (writer.done || signal?.aborted) break;
    }
    return true;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return false;
    throw err;
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}

/** Writes the container's log at `path` to stdout and stderr (the same writable is fine). */
export async function readLogs(
  path: string,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
  options: ReadLogsOptions = {},
): Promise<ReadLogsResult> {
  const { signal } = options;
  const clock = options.clock ?? systemClock;
  const writer = new LineWriter(options, stdout, stderr);
  let file = await openLog(path);
  try {
    let info = await file.stat();
    let offset = 0;
    if (options.tailLines !== undefined && options.tailLines >= 0) {
      offset = await findTailStart(file, info.size, options.tailLines, options.stream ?? "all");
    }
    offset = await readToEnd(file, offset, writer, signal);
    if (!options.follow) return writer.result;
    const isRunning = options.isRunning ?? (async () => false);
    const poll = options.pollIntervalMs ?? 100;
    const checkEvery = options.runningCheckIntervalMs ?? 1000;
    let lastCheck = Number.NEGATIVE_INFINITY;
    let stopping = false;
    while (!writer.done && !signal?.aborted) {
      const before = offset;
      offset = await readToEnd(file, offset, writer, signal);
      if (writer.done || signal?.aborted) break;
      const current = await statOrUndefined(path);
      if (current !== undefined && current.ino !== info.ino) {
        // Rotated: the runtime may still be finishing a write to the old file, so it is read once
        // more after a poll interval, then every successor in order, the live file last.
        await clock.sleep(poll, signal).catch(() => undefined);
        offset = await readToEnd(file, offset, writer, signal);
        const nextFiles = await successors(path, info.ino);
        for (const next of nextFiles) {
          if (writer.done || signal?.aborted) break;
          if (next.gz) {
            writer.resetCarry();
            if (await readCompressed(next.path, writer, signal)) writer.result.rotations += 1;
            continue;
          }
          let handle: FileHandle;
          try {
            handle = await openLog(next.path);
          } catch (err) {
            // Compressed or removed before it could be read: skipped (lost, as with the kubelet).
            if (err instanceof NodeletError && err.code === ErrorCode.NotFound) continue;
            throw err;
          }
          await file.close();
          file = handle;
          writer.resetCarry();
          writer.result.rotations += 1;
          info = await file.stat();
          offset = await readToEnd(file, 0, writer, signal);
        }
        continue;
      }
      if (offset !== before) continue;
      if (stopping) break;
      const now = clock.now();
      if (now - lastCheck >= checkEvery) {
        lastCheck = now;
        // Read once more after the container is seen stopped: what it wrote before exiting.
        if (!(await isRunning())) {
          stopping = true;
          continue;
        }
      }
      await clock.sleep(poll, signal).catch(() => undefined);
    }
    return writer.result;
  } finally {
    await file.close();
  }
}
