import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";

export function tempDir(prefix = "nodelet-logs-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A CRI log line. */
export function cri(time: string, stream: "stdout" | "stderr", tag: "P" | "F", content: string): string {
  return `${time} ${stream} ${tag} ${content}\n`;
}

export class Sink extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}
