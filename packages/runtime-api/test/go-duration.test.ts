import { describe, expect, it } from "vitest";
import { parseGoDuration, parseGoDurationNanos } from "../src/index.js";

describe("parseGoDuration (Go's time.ParseDuration)", () => {
  it.each([
    ["0", 0],
    ["0s", 0],
    ["+0", 0],
    ["12h", 12 * 3600_000],
    ["1m30s", 90_000],
    ["2h45m", (2 * 60 + 45) * 60_000],
    ["1.5h", 90 * 60_000],
    [".5s", 500],
    ["1.s", 1000],
    ["300ms", 300],
    ["-1m", -60_000],
    ["1500us", 1.5],
    ["1500\u00b5s", 1.5],
    ["1500\u03bcs", 1.5],
    ["2000000ns", 2],
    ["1h1m1s1ms", 3_661_001],
  ])("%j → %d ms", (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each([
    ["", "is empty"],
    ["12", "is missing a unit"],
    ["1.5", "is missing a unit"],
    ["12x", 'has an unknown unit "x"'],
    ["1d", 'has an unknown unit "d"'],
    [".", "is not a duration"],
    ["h", "is not a duration"],
    ["1h 30m", 'has an unknown unit "h "'],
    ["3000000h", "is out of range"],
  ])("%j is rejected: %s", (text, error) => {
    expect(parseGoDurationNanos(text)).toEqual({ error });
    expect(parseGoDuration(text)).toBeUndefined();
  });

  it("keeps nanosecond precision in the bigint form", () => {
    expect(parseGoDurationNanos("1.000000001s")).toBe(1_000_000_001n);
    expect(parseGoDurationNanos("2562047h47m16.854775807s")).toBe(2n ** 63n - 1n);
  });
});
