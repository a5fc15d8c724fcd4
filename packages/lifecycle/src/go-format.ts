// The few pieces of Go's fmt that the kubelet's hook messages use, so that nodelet's messages read
// the same as the kubelet's events (FailedPostStartHook, FailedPreStopHook).

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

function quoteRune(cp: number): string {
  switch (cp) {
    case 0x07:
      return "\\a";
    case 0x08:
      return "\\b";
    case 0x0c:
      return "\\f";
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
    case 0x09:
      return "\\t";
    case 0x0b:
      return "\\v";
    case 0x22:
      return '\\"';
    case 0x5c:
      return "\\\\";
  }
  const ch = String.fromCodePoint(cp);
  if (printable.test(ch)) return ch;
  if (cp < 0x80) return `\\x${hex(cp, 2)}`;
  if (cp < 0x10000) return `\\u${hex(cp, 4)}`;
  return `\\U${hex(cp, 8)}`;
}

/** Length of the valid UTF-8 sequence at `i`, or 0 when the byte there starts none. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i] as number;
  if (b0 < 0x80) return 1;
  let need: number;
  let min: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1;
    min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + need >= bytes.length) return 0;
  let cp = b0 & (0x3f >> need);
  for (let k = 1; k <= need; k++) {
    const b = bytes[i + k] as number;
    if ((b & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return need + 1;
}

/**
 * Go's `%q` (strconv.Quote): a double-quoted string with Go escapes; printable Unicode is kept,
 * bytes that are not valid UTF-8 become `\xNN`.
 */
export function goQuote(value: string | Uint8Array): string {
  let out = '"';
  if (typeof value === "string") {
    for (const ch of value) out += quoteRune(ch.codePointAt(0) as number);
    return `${out}"`;
  }
  let i = 0;
  while (i < value.length) {
    const len = utf8SequenceLength(value, i);
    if (len === 0) {
      out += `\\x${hex(value[i] as number, 2)}`;
      i += 1;
      continue;
    }
    const ch = Buffer.from(value.subarray(i, i + len)).toString("utf8");
    out += quoteRune(ch.codePointAt(0) as number);
    i += len;
  }
  return `${out}"`;
}

/** Go's `%v` of a []string: `[a b c]`. */
export function goStringSlice(values: readonly string[]): string {
  return `[${values.join(" ")}]`;
}
