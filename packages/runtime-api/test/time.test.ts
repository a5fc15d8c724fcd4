import { describe, expect, it } from "vitest";
import { dateToNanos, millisToNanos, nanosToDate, nanosToMillis } from "../src/index.js";

describe("nanosecond helpers", () => {
  it("convert values beyond 2^53 without losing the milliseconds", () => {
    const nanos = 1_764_254_196_123_456_789n; // beyond Number.MAX_SAFE_INTEGER
    expect(nanosToMillis(nanos)).toBe(1_764_254_196_123);
    expect(nanosToDate(nanos)?.toISOString()).toBe("2025-11-27T14:36:36.123Z");
  });
  it("treat 0 as unset", () => {
    expect(nanosToDate(0n)).toBeUndefined();
  });
  it("round-trip milliseconds", () => {
    const d = new Date("2026-01-02T03:04:05.678Z");
    expect(nanosToDate(dateToNanos(d))?.getTime()).toBe(d.getTime());
    expect(millisToNanos(1.9)).toBe(1_000_000n);
  });
});
