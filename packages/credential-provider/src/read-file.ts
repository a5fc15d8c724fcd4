import { constants } from "node:fs";
import { open } from "node:fs/promises";

/** 1 MiB: more than any docker config or plugin config needs. */
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

export type ReadFileResult =
  | { kind: "ok"; text: string; mtimeMs: number; size: number }
  | { kind: "missing" }
  | { kind: "skipped"; reason: string };

function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Reads a regular file of at most `maxBytes`. Opening does not block on a FIFO (O_NONBLOCK), and
 * what is checked is the opened file, not the path. Anything else than a readable regular file
 * small enough is "skipped" with the reason; an absent file is "missing".
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<ReadFileResult> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return { kind: "missing" };
    return { kind: "skipped", reason: `cannot be opened (${code ?? "error"})` };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { kind: "skipped", reason: "is not a regular file" };
    if (stat.size > maxBytes) return { kind: "skipped", reason: `is larger than ${maxBytes} bytes` };
    // Sized for what stat saw, grown once if the file grew since.
    let buffer = Buffer.alloc(stat.size + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const grown = Buffer.alloc(maxBytes + 1);
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) return { kind: "skipped", reason: `is larger than ${maxBytes} bytes` };
    }
    return { kind: "ok", text: buffer.toString("utf8", 0, length), mtimeMs: stat.mtimeMs, size: stat.size };
  } catch (error) {
    return { kind: "skipped", reason: `cannot be read (${errnoCode(error) ?? "error"})` };
  } finally {
    await handle.close();
  }
}
