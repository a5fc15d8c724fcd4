// Go's time.ParseDuration: "300ms", "1.5h", "2h45m", "-1m", "0". Units ns, us (µs, μs), ms, s, m, h.

const NANOS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n,
  "\u03bcs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_NANOS = 2n ** 63n - 1n;
const COMPONENT = /^([0-9]*)(?:\.([0-9]*))?([^0-9.]+)/;

/** Nanoseconds, or the reason the text is not a Go duration. */
export function parseGoDurationNanos(text: string): bigint | { error: string } {
  let rest = text;
  let negative = false;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    negative = rest.startsWith("-");
    rest = rest.slice(1);
  }
  if (rest === "0") return 0n;
  if (rest === "") return { error: "is empty" };
  let total = 0n;
  while (rest !== "") {
    const m = COMPONENT.exec(rest);
    if (m === null) {
      const numberOnly = /^[0-9]*\.?[0-9]*$/.test(rest) && /[0-9]/.test(rest);
      return numberOnly ? { error: "is missing a unit" } : { error: "is not a duration" };
    }
    const [whole, intPart = "", fracPart, unit = ""] = m;
    if (intPart === "" && (fracPart === undefined || fracPart === "")) return { error: "is not a duration" };
    const perUnit = NANOS_PER_UNIT[unit];
    if (perUnit === undefined) return { error: `has an unknown unit ${JSON.stringify(unit)}` };
    let value = BigInt(intPart === "" ? "0" : intPart) * perUnit;
    if (fracPart !== undefined && fracPart !== "") {
      // Truncated towards zero, as Go does.
      value += (BigInt(fracPart) * perUnit) / 10n ** BigInt(fracPart.length);
    }
    total += value;
    if (total > MAX_NANOS + (negative ? 1n : 0n)) return { error: "is out of range" };
    rest = rest.slice(whole.length);
  }
  return negative ? -total : total;
}

/** Milliseconds (fractional below 1 ms), or undefined when the text is not a Go duration. */
export function parseGoDuration(text: string): number | undefined {
  const nanos = parseGoDurationNanos(text);
  return typeof nanos === "bigint" ? Number(nanos) / 1e6 : undefined;
}
