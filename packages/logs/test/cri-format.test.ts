import { describe, expect, it } from "vitest";
import { formatLogTime, parseCriLine, parseLogTime } from "../src/index.js";

function parse(text: string) {
  const buf = Buffer.from(text);
  const line = parseCriLine(buf, 0, buf.length);
  return line && { ...line, content: buf.toString("utf8", line.contentStart, line.contentEnd) };
}

describe("CRI log lines", () => {
  it("parses full and partial lines of both streams", () => {
    expect(parse("2026-12-02T17:42:19.123456789Z stdout F hello world")).toMatchObject({
      stream: "stdout",
      partial: false,
      content: "hello world",
    });
    expect(parse("2026-12-02T17:42:19Z stderr P part")).toMatchObject({
      stream: "stderr",
      partial: true,
      content: "part",
    });
    expect(parse("2026-12-02T17:42:19Z stdout F:x tagged")).toMatchObject({ content: "tagged" });
    expect(parse("2026-12-02T17:42:19Z stdout F")).toMatchObject({ content: "" });
    expect(parse("2026-12-02T17:42:19Z stdout F ")).toMatchObject({ content: "" });
  });

  it("refuses what is not a CRI line", () => {
    for (const bad of [
      "",
      "hello",
      "2026-12-02T17:42:19Z stdin F x",
      "2026-12-02T17:42:19Z stdout X x",
      "short stdout F x",
      "2026-12-02T17:42:19Z stdout Fx",
    ]) {
      expect(parse(bad), bad).toBeUndefined();
    }
  });

  it("reads and prints times as Go's RFC3339Nano, trailing zeros trimmed", () => {
    expect(parseLogTime("2026-12-02T17:42:19.123456789Z")).toEqual({ sec: 1796233339, nsec: 123456789 });
    expect(parseLogTime("2026-12-02T18:42:19.5+01:00")).toEqual({ sec: 1796233339, nsec: 500000000 });
    expect(parseLogTime("yesterday")).toBeUndefined();
    expect(formatLogTime({ sec: 1796233339, nsec: 123456789 })).toBe("2026-12-02T17:42:19.123456789Z");
    expect(formatLogTime({ sec: 1796233339, nsec: 120000000 })).toBe("2026-12-02T17:42:19.12Z");
    expect(formatLogTime({ sec: 1796233339, nsec: 0 })).toBe("2026-12-02T17:42:19Z");
  });
});
