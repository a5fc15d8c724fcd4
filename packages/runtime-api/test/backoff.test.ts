import { describe, expect, it } from "vitest";
import {
  createBackoff,
  createManualClock,
  formatGoDuration,
  KUBELET_BACKOFF,
  parseGoDuration,
} from "../src/index.js";

describe("keyed backoff (kubelet semantics)", () => {
  it("starts at 10 s, doubles, caps at 300 s", () => {
    const clock = createManualClock(1_000_000);
    const b = createBackoff({ ...KUBELET_BACKOFF, clock });
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      b.next("c", clock.now());
      seen.push(b.get("c"));
      clock.advance(1000);
    }
    expect(seen).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it("measures the backoff from the event time, strictly", () => {
    const clock = createManualClock(0);
    const b = createBackoff({ ...KUBELET_BACKOFF, clock });
    const finishedAt = 5_000;
    expect(b.isInBackOffSince("c", finishedAt)).toBe(false); // first crash: restart at once
    b.next("c", finishedAt);
    clock.set(finishedAt + 9_999);
    expect(b.isInBackOffSince("c", finishedAt)).toBe(true);
    clock.set(finishedAt + 10_000);
    expect(b.isInBackOffSince("c", finishedAt)).toBe(false);
  });

  it("starts over after 600 s without events, and keys are independent", () => {
    const clock = createManualClock(0);
    const b = createBackoff({ ...KUBELET_BACKOFF, clock });
    b.next("a", 0);
    b.next("a", 0);
    expect(b.get("a")).toBe(20_000);
    expect(b.get("b")).toBe(0);
    clock.set(600_000);
    b.next("a", 600_000); // exactly 600 s: same streak
    expect(b.get("a")).toBe(40_000);
    clock.set(1_200_001);
    b.next("a", 1_200_001);
    expect(b.get("a")).toBe(10_000);
  });

  it("checks since the last update for image pulls, and forgets idle entries on gc", () => {
    const clock = createManualClock(100_000);
    const b = createBackoff({ ...KUBELET_BACKOFF, clock });
    b.next("img", clock.now());
    expect(b.isInBackOffSinceUpdate("img", 105_000)).toBe(true);
    expect(b.isInBackOffSinceUpdate("img", 110_000)).toBe(false);
    clock.advance(700_000);
    b.gc();
    expect(b.get("img")).toBe(0);
  });
});

describe("Go duration format", () => {
  it.each([
    [10_000, "10s"],
    [80_000, "1m20s"],
    [300_000, "5m0s"],
    [1500, "1.5s"],
    [3_600_000, "1h0m0s"],
    [250, "250ms"],
    [0, "0s"],
  ])("%d ms is %s", (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });
});

describe("Go duration parsing", () => {
  it.each([
    ["1s", 1000],
    ["1m30s", 90_000],
    ["2h", 7_200_000],
    ["300ms", 300],
    ["1.5s", 1500],
    ["0", 0],
    ["0s", 0],
    ["-5s", -5000],
    ["1h2m3s4ms", 3_723_004],
  ])("%s is %d ms", (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });
  it.each(["", "5", "1x", "s", "1 s", "1m 30s", "abc"])("rejects %j", (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});
