// Where the last N lines of a CRI log start, found by reading backwards from the end of the file in
// chunks: the cost depends on the lines asked for, not on the file's size (the kubelet's
// tail.FindTailLineStartIndex). Only lines that end an entry (tag F) of the wanted stream count, so
// `tailLines=1` of a line the runtime split into partials returns the whole line.

import type { FileHandle } from "node:fs/promises";
import { type LogStream, parseCriLine } from "./cri-format.js";

const CHUNK_BYTES = 64 * 1024;
/** Bytes of a line's start kept across a chunk boundary: enough for its time, stream and tag. */
const HEADER_BYTES = 128;
const NEWLINE = 0x0a;

/**
 * The file offset at which the last `lines` complete entries start (0 when the file has fewer);
 * `size` when lines is 0. A trailing line without its newline (being written) does not count.
 */
export async function findTailStart(
  file: FileHandle,
  size: number,
  lines: number,
  stream: LogStream | "all" = "all",
): Promise<number> {
  if (lines <= 0) return size;
  let pos = size;
  let head = Buffer.alloc(0);
  // The newline that ends the line being looked at (absolute offset); -1 until the last one is found.
  let lineEnd = -1;
  let found = 0;
  // Per stream, where the entry being assembled backwards starts (-1: none). An entry ends with an
  // F line and counts once the line before its first part is known (an F line of the stream, or
  // the start of the file), so a tail never starts in the middle of a joined line.
  const pending: Record<LogStream, number> = { stdout: -1, stderr: -1 };
  const wanted = (s: LogStream) => stream === "all" || stream === s;
  while (pos > 0) {
    const start = Math.max(0, pos - CHUNK_BYTES);
    const chunk = Buffer.allocUnsafe(pos - start);
    let got = 0;
    while (got < chunk.length) {
      const { bytesRead } = await file.read(chunk, got, chunk.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const buf = head.length === 0 ? chunk.subarray(0, got) : Buffer.concat([chunk.subarray(0, got), head]);
    let i = got - 1;
    while (i >= 0) {
      const nl = buf.lastIndexOf(NEWLINE, i);
      if (nl < 0) break;
      if (lineEnd >= 0) {
        const line = parseCriLine(buf, nl + 1, Math.min(lineEnd - start, buf.length));
        if (line === undefined) {
          // Not a CRI line: no entry continues across it.
          for (const s of ["stdout", "stderr"] as const) {
            const entryStart = pending[s];
            pending[s] = -1;
            if (entryStart >= 0 && wanted(s) && ++found === lines) return entryStart;
          }
        } else if (wanted(line.stream)) {
          const entryStart = pending[line.stream];
          if (!line.partial) {
            if (entryStart >= 0 && ++found === lines) return entryStart;
            pending[line.stream] = start + nl + 1;
          } else if (entryStart >= 0) {
            pending[line.stream] = start + nl + 1;
          }
        }
      }
      lineEnd = start + nl;
      i = nl - 1;
    }
    head = Buffer.from(buf.subarray(0, Math.min(buf.length, HEADER_BYTES)));
    pos = start;
  }
  // The file's first line has no newline before it: the entries still pending end at the start.
  if (lineEnd >= 0) {
    const line = parseCriLine(head, 0, Math.min(lineEnd, head.length));
    if (line !== undefined && wanted(line.stream) && !line.partial) {
      const entryStart = pending[line.stream];
      if (entryStart >= 0 && ++found === lines) return entryStart;
    }
  }
  return 0;
}
