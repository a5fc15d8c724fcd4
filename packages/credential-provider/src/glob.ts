// Go's filepath.Match, for one host label (which never holds a separator): `*` any run of
// characters, `?` one character, `[...]` / `[^...]` classes with ranges, `\` escapes.

const compiled = new Map<string, RegExp | null>();
const MAX_COMPILED = 1024;

function escapeChar(c: string): string {
  return `\\u{${(c.codePointAt(0) as number).toString(16)}}`;
}

/** The pattern as an anchored RegExp, or null when it is malformed (Go's ErrBadPattern). */
function compile(pattern: string): RegExp | null {
  const chars = [...pattern];
  let source = "";
  let i = 0;
  const escaped = (): string | null => {
    // One class member: a plain character, or `\` and the character it escapes.
    const c = chars[i];
    if (c === undefined || c === "-" || c === "]") return null;
    if (c === "\\") {
      const next = chars[i + 1];
      if (next === undefined) return null;
      i += 2;
      return next;
    }
    i += 1;
    return c;
  };
  while (i < chars.length) {
    const c = chars[i] as string;
    if (c === "*") {
      source += "[^/]*";
      i += 1;
    } else if (c === "?") {
      source += "[^/]";
      i += 1;
    } else if (c === "\\") {
      const next = chars[i + 1];
      if (next === undefined) return null;
      source += escapeChar(next);
      i += 2;
    } else if (c === "[") {
      i += 1;
      let negated = false;
      if (chars[i] === "^") {
        negated = true;
        i += 1;
      }
      let ranges = "";
      let count = 0;
      for (;;) {
        if (chars[i] === "]" && count > 0) {
          i += 1;
          break;
        }
        const lo = escaped();
        if (lo === null) return null;
        let hi = lo;
        if (chars[i] === "-") {
          i += 1;
          const h = escaped();
          if (h === null) return null;
          hi = h;
        }
        // A reversed range matches nothing in Go; keep it valid for RegExp by skipping it.
        if ((lo.codePointAt(0) as number) <= (hi.codePointAt(0) as number)) {
          ranges += lo === hi ? escapeChar(lo) : `${escapeChar(lo)}-${escapeChar(hi)}`;
        }
        count += 1;
      }
      if (ranges === "") source += negated ? "[^/]" : "(?!)";
      else source += negated ? `[^/${ranges}]` : `[${ranges}]`;
    } else {
      source += escapeChar(c);
      i += 1;
    }
  }
  return new RegExp(`^${source}$`, "u");
}

function compiledPattern(pattern: string): RegExp | null {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = compile(pattern);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

/** True when `pattern` is a well-formed glob. */
export function isValidGlob(pattern: string): boolean {
  return compiledPattern(pattern) !== null;
}

/** Go's filepath.Match on a separator-free name; a malformed pattern matches nothing. */
export function globMatch(pattern: string, name: string): boolean {
  return compiledPattern(pattern)?.test(name) ?? false;
}
