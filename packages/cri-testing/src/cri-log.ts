import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

// A container's output in the CRI log format, as containerd's cri plugin writes it
// (pkg/cri/io/logger.go there): "<RFC3339Nano time> <stdout|stderr> <F|P> <text>\n", one
// line per line of output; a last piece without a newline is tagged P (partial).

export type LogStream = "stdout" | "stderr";

/** RFC 3339 with the fraction Go's RFC3339Nano prints: trailing zeros (and a bare dot) dropped. */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, "Z");
}

export function formatCriLog(text: string, stream: LogStream, ms: number): string {
  const time = rfc3339Nano(ms);
  const pieces = text.split("\n");
  const last = pieces.pop() as string;
  let out = "";
  for (const line of pieces) out += `${time} ${stream} F ${line}\n`;
  if (last !== "") out += `${time} ${stream} P ${last}\n`;
  return out;
}

/** Creates the log file (and its directory) as the runtime does when the container starts. */
export function openCriLog(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, "");
}

export function appendCriLog(path: string, text: string, stream: LogStream, ms: number): void {
  appendFileSync(path, formatCriLog(text, stream, ms));
}
