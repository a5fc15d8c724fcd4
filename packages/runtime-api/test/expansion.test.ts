import { describe, expect, it } from "vitest";
import { expandVariableReferences } from "../src/index.js";

describe("expandVariableReferences", () => {
  const vars = new Map([
    ["A", "x"],
    ["EMPTY", ""],
  ]);
  it.each([
    ["$(A)", "x"],
    ["pre-$(A)-post", "pre-x-post"],
    ["$(A)$(A)", "xx"],
    ["$(EMPTY)", ""],
    ["$(UNKNOWN)", "$(UNKNOWN)"],
    ["$$(A)", "$(A)"],
    ["$$$(A)", "$x"],
    ["$$", "$"],
    ["$", "$"],
    ["a$b", "a$b"],
    ["$(A", "$(A"],
    ["$()", "$()"],
    ["100%", "100%"],
  ])("%j → %j", (input, expected) => {
    expect(expandVariableReferences(input, vars)).toBe(expected);
  });
});
