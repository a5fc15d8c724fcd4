// Where the last N lines of a CRI log start, found by reading backwards from the end of the file in
// chunks: the cost depends on the lines asked for, not on the file's size (the kubelet's
// tail.FindTailLineStartIndex). Only lines that end an entry (tag F) of the wanted stream count, so
// `tailLines=1` of a line the runtime split into partials returns the whole line.

import type { FileHandle } from "node:fs/promises";
import { type CriLine, type LogStream, parseCriLine } from "./cri-format.js";

const CHUNK_BYTES = 64 * 1024;
/** Bytes of a line's start kept across a chunk boundary: enough for its time, stream and tag. */
const HEADER_BYTES = 128;
const NEWLINE = 0x0a;
/** How far back an entry's first line is looked for across the other stream's lines. */
const MAX_ENTRY_SEARCH_BYTES = 1024 * 1024;

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
  // Entries are counted at their last line (tag F). Once the count is reached at offset `start`,
  // the scan goes on until, for each wanted stream, the stream's line before `start` is known not
  // to be partial: otherwise an entry would be cut, and `start` moves back to that line (which
  // makes the question open again for every stream). A malformed line ends every entry.
  let start = -1;
  const wanted = (s: LogStream) => stream === "all" || stream === s;
  const unresolved = () => ({ stdout: wanted("stdout"), stderr: wanted("stderr") });
  let open = unresolved();
  /** One line, from the end backwards; the answer once known. */
  const visit = (lineStart: number, line: CriLine | undefined): number | undefined => {
    if (start < 0) {
      if (line !== undefined && !line.partial && wanted(line.stream) && ++found === lines) start = lineStart;
      return undefined;
    }
    if (line === undefined) return start;
    if (open[line.stream]) {
      if (line.partial) {
        start = lineStart;
        open = unresolved();
      } else {
        open[line.stream] = false;
      }
    }
    if (!open.stdout && !open.stderr) return start;
    // Only lines that do not decide for long: the entry is taken from where it was found.
    return start - lineStart > MAX_ENTRY_SEARCH_BYTES ? start : undefined;
  };
  while (pos > 0) {
    // A stream absent for long (or a region without newlines) decides nothing.
    if (start >= 0 && start - pos > MAX_ENTRY_SEARCH_BYTES) return start;
    const chunkStart = Math.max(0, pos - CHUNK_BYTES);
    const chunk = Buffer.allocUnsafe(pos - chunkStart);
    let got = 0;
    while (got < chunk.length) {
      const { bytesRead } = await file.read(chunk, got, chunk.length - got, chunkStart + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const buf = head.length === 0 ? chunk.subarray(0, got) : Buffer.concat([chunk.subarray(0, got), head]);
    let i = got - 1;
    while (i >= 0) {
      const nl = buf.lastIndexOf(NEWLINE, i);
      if (nl < 0) break;
      if (lineEnd >= 0) {
        const answer = visit(
          chunkStart + nl + 1,
          parseCriLine(buf, nl + 1, Math.min(lineEnd - chunkStart, buf.length)),
        );
        if (answer !== undefined) return answer;
      }
      lineEnd = chunkStart + nl;
      i = nl - 1;
    }
    head = Buffer.from(buf.subarray(0, Math.min(buf.length, HEADER_BYTES)));
    pos = chunkStart;
  }
  // The file's first line has no newline before it.
  if (lineEnd >= 0) {
    const answer = visit(0, parseCriLine(head, 0, Math.min(lineEnd, head.length)));
    if (answer !== undefined) return answer;
  }
  return Math.max(0, start);
}
