import { describe, expect, it } from "vitest";
import { isPathAtOrUnder, parseMountInfo } from "../src/index.js";

describe("parseMountInfo", () => {
  it("reads the mount point and fs type, unescaping octal, with optional fields before the separator", () => {
    const text = [
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
      "90 22 0:50 / /pods/u1/volumes/mem rw shared:7 master:2 - tmpfs tmpfs rw,size=16384k",
      "93 22 8:1 /y /pods/u10/with\\040space\\134x rw - ext4 /dev/sda1 rw",
      "",
    ].join("\n");
    expect(parseMountInfo(text)).toEqual([
      { path: "/", fsType: "ext4" },
      { path: "/pods/u1/volumes/mem", fsType: "tmpfs" },
      { path: "/pods/u10/with space\\x", fsType: "ext4" },
    ]);
  });

  it("skips lines it cannot read", () => {
    expect(parseMountInfo("garbage\n1 2 3\n1 2 3 4 - x\n")).toEqual([]);
  });
});

describe("isPathAtOrUnder", () => {
  it("matches the directory and what is below it, not a sibling sharing a prefix", () => {
    expect(isPathAtOrUnder("/pods/u1", "/pods/u1")).toBe(true);
    expect(isPathAtOrUnder("/pods/u1/a/b", "/pods/u1")).toBe(true);
    expect(isPathAtOrUnder("/pods/u1/a", "/pods/u1/")).toBe(true);
    expect(isPathAtOrUnder("/pods/u10", "/pods/u1")).toBe(false);
  });
});
