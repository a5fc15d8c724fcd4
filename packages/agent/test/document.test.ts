import { ErrorCode, isNodeletError } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { jsonDepth, parseDocuments, yamlDepth } from "../src/sources/document.js";

describe("yamlDepth", () => {
  it("counts block and flow nesting, not brackets in strings, comments or block scalars", () => {
    expect(yamlDepth("a: 1\n")).toBe(1);
    expect(yamlDepth("a:\n  b:\n    c: 1\n")).toBe(3);
    expect(yamlDepth("a: [1, {b: [2]}]\n")).toBe(4);
    expect(yamlDepth("a: \"[[[[[[\"\nb: '{{{{' # [[[[\n")).toBe(1);
    expect(yamlDepth("a: |\n  [[[[[[\n      {{{{\nb: 1\n")).toBe(1);
    expect(yamlDepth("- - - x\n")).toBe(4);
    // An estimate: a block sequence written at its key's indentation adds no column, so this
    // 6-level pod counts 4. Nesting that could hurt the parser is flow or `- - -`, counted exactly.
    expect(
      yamlDepth("kind: Pod\nspec:\n  containers:\n  - name: a\n    ports:\n    - containerPort: 80\n"),
    ).toBe(4);
  });

  it("is not fooled by closing brackets inside quotes", () => {
    const sneaky = `${'[x\'y, "]]]]", '.repeat(500)}1${"]".repeat(500)}`;
    expect(yamlDepth(sneaky)).toBeGreaterThanOrEqual(500);
  });
});

describe("jsonDepth", () => {
  it("counts brackets outside strings, escapes included", () => {
    expect(jsonDepth('{"a": [1, {"b": 2}]}')).toBe(3);
    expect(jsonDepth('{"a": "[[[\\"[[["}')).toBe(1);
    expect(jsonDepth("[]]]][[")).toBe(2);
  });
});

describe("parseDocuments", () => {
  const options = { origin: "/m.yaml", code: ErrorCode.InvalidPod, maxDepth: 100 };

  it("parses JSON, YAML and every non-empty YAML document", () => {
    expect(parseDocuments('{"a": 1}', options)).toEqual([{ a: 1 }]);
    expect(parseDocuments("a: 1\n", options)).toEqual([{ a: 1 }]);
    expect(parseDocuments("a: 1\n---\n# empty\n---\nb: 2\n", options)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(parseDocuments("", options)).toEqual([]);
  });

  it("reads YAML 1.2: yes and no are strings", () => {
    expect(parseDocuments("a: yes\nb: true\n", options)).toEqual([{ a: "yes", b: true }]);
  });

  it("throws the given code, naming the origin", () => {
    try {
      parseDocuments("a: [", options);
      expect.unreachable();
    } catch (err) {
      expect(isNodeletError(err, ErrorCode.InvalidPod)).toBe(true);
      expect((err as Error).message).toMatch(/^\/m\.yaml: invalid YAML at line 1, column \d+: /);
    }
  });

  it("refuses alias expansion that multiplies the data", () => {
    const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) {
      lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(", ")}]`);
    }
    expect(() => parseDocuments(lines.join("\n"), options)).toThrow(/\/m\.yaml: /);
  });
});
