// The CRI log format, as the runtime writes it (containerd's cio, the kubelet's kuberuntime/logs):
//   <RFC3339Nano time> <stdout|stderr> <P|F>[:tags] <content>\n
// `P` marks a partial line whose content continues in the stream's next line; `F` ends it.
// Everything here works on Buffers without decoding the content: a log is bytes, not text.

export type LogStream = "stdout" | "stderr";

/** A time as the runtime recorded it: whole seconds since the epoch and nanoseconds. */
export interface LogTime {
  sec: number;
  nsec: number;
}

/** Where the parts of one CRI line are, as offsets into the buffer that holds it. */
export interface CriLine {
  timeStart: number;
  timeEnd: number;
  stream: LogStream;
  partial: boolean;
  contentStart: number;
  /** Exclusive; the newline is not part of the content. */
  contentEnd: number;
}

const SPACE = 0x20;
const S = 0x73;
const T = 0x74;
const D = 0x64;
const O = 0x6f;
const U = 0x75;
const E = 0x65;
const R = 0x72;
const P_TAG = 0x50;
const F_TAG = 0x46;
const COLON = 0x3a;
const Z = 0x5a;
const ZERO = 0x30;
const DOT = 0x2e;

/**
 * Parses the line buf[start, end) (without its newline); undefined when it is not a CRI log line
 * (the caller skips and counts it). The time is only located here; parseLogTime reads it.
 */
export function parseCriLine(buf: Buffer, start: number, end: number): CriLine | undefined {
  const sp1 = buf.indexOf(SPACE, start);
  // The shortest time is "2006-01-02T15:04:05Z" (20 bytes); the stream word is 6 bytes.
  if (sp1 < start + 20 || sp1 + 9 > end) return undefined;
  if (buf[sp1 + 1] !== S || buf[sp1 + 2] !== T || buf[sp1 + 3] !== D || buf[sp1 + 7] !== SPACE)
    return undefined;
  let stream: LogStream;
  if (buf[sp1 + 4] === O && buf[sp1 + 5] === U && buf[sp1 + 6] === T) stream = "stdout";
  else if (buf[sp1 + 4] === E && buf[sp1 + 5] === R && buf[sp1 + 6] === R) stream = "stderr";
  else return undefined;
  const tagStart = sp1 + 8;
  const tag = buf[tagStart];
  if (tag !== P_TAG && tag !== F_TAG) return undefined;
  const afterTag = buf[tagStart + 1];
  let contentStart: number;
  if (tagStart + 1 >= end) {
    contentStart = end; // "time stream F" with nothing after: an empty line
  } else if (afterTag === SPACE) {
    contentStart = tagStart + 2;
  } else if (afterTag === COLON) {
    // Tags after a colon ("F:x"): reserved by the CRI; skipped up to the space.
    const sp = buf.indexOf(SPACE, tagStart);
    contentStart = sp < 0 || sp >= end ? end : sp + 1;
  } else {
    return undefined;
  }
  return {
    timeStart: start,
    timeEnd: sp1,
    stream,
    partial: tag === P_TAG,
    contentStart,
    contentEnd: end,
  };
}

const TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** An RFC3339 (nanosecond) time; undefined when it is not one. */
export function parseLogTime(text: string): LogTime | undefined {
  const m = TIME.exec(text);
  if (m === null) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (Number.isNaN(ms)) return undefined;
  let sec = ms / 1000;
  if (m[8] === undefined) {
    const offset = (Number(m[10]) * 60 + Number(m[11])) * 60;
    sec += m[9] === "+" ? -offset : offset;
  }
  const nsec = m[7] === undefined ? 0 : Number(m[7].padEnd(9, "0"));
  return { sec, nsec };
}

/** The time of a parsed line. */
export function lineTime(buf: Buffer, line: CriLine): LogTime | undefined {
  return parseLogTime(buf.toString("latin1", line.timeStart, line.timeEnd));
}

export function compareLogTime(a: LogTime, b: LogTime): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nsec - b.nsec;
}

export function dateToLogTime(date: Date): LogTime {
  const ms = date.getTime();
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: (ms - sec * 1000) * 1_000_000 };
}

/** Go's RFC3339Nano in UTC: fraction with trailing zeros trimmed (none when whole), e.g. 2026-12-02T17:42:19.1234Z. */
export function formatLogTime(time: LogTime): string {
  const base = new Date(time.sec * 1000).toISOString().slice(0, 19);
  if (time.nsec === 0) return `${base}Z`;
  return `${base}.${String(time.nsec).padStart(9, "0").replace(/0+$/, "")}Z`;
}

/**
 * The line's time as formatLogTime prints it, as bytes. A time the runtime already wrote that way
 * (UTC, trimmed fraction: containerd's own output) is reused as it is, without parsing.
 */
export function timestampPrefix(buf: Buffer, line: CriLine): Buffer | undefined {
  const { timeStart: s, timeEnd: e } = line;
  const last = buf[e - 1];
  if (last === Z && e - s >= 20 && e - s <= 30 && buf[s + 19] !== undefined) {
    const canonical = e - s === 20 ? buf[s + 19] === Z : buf[s + 19] === DOT && buf[e - 2] !== ZERO;
    if (canonical) {
      const prefix = Buffer.allocUnsafe(e - s + 1);
      prefix.set(buf.subarray(s, e));
      prefix[e - s] = SPACE;
      return prefix;
    }
  }
  const time = lineTime(buf, line);
  return time === undefined ? undefined : Buffer.from(`${formatLogTime(time)} `, "latin1");
}
