import { describe, expect, it } from "vitest";
import { isQuantity, parseQuantity, quantityToInt, quantityToMilli } from "../src/index.js";

describe("quantities", () => {
  it.each([
    ["500m", 0.5],
    ["2", 2],
    ["64Mi", 64 * 1024 * 1024],
    ["1G", 1e9],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["1e3", 1000],
    ["100k", 100_000],
    [".5", 0.5],
    [3, 3],
  ])("parses %s", (text, value) => {
    expect(parseQuantity(text)).toBe(value);
  });

  it("rounds milli and integer values up like Kubernetes", () => {
    expect(quantityToMilli("0.1")).toBe(100);
    expect(quantityToMilli("250m")).toBe(250);
    expect(quantityToMilli("1")).toBe(1000);
    expect(quantityToMilli("1.0001m")).toBe(2);
    expect(quantityToInt("0.5")).toBe(1);
    expect(quantityToInt("128Mi")).toBe(134217728);
  });

  it.each(["", "abc", "1.2.3", "5 Mi", "10mb", "1Zi", "--1"])("rejects %j", (text) => {
    expect(isQuantity(text)).toBe(false);
    expect(() => parseQuantity(text)).toThrow(/is not a quantity/);
  });
});
