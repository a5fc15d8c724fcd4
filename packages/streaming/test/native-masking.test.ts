import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

// ws masks and unmasks every client frame; in JavaScript that was a fifth of a WebSocket stdin
// upload's CPU. `bufferutil` is ws's optional native peer: it must resolve from ws itself (pnpm
// links an optional peer only when the package that depends on ws also depends on it).
describe("ws's native masking", () => {
  it("resolves bufferutil from ws's own location and loads its binary", () => {
    const wsEntry = createRequire(import.meta.url).resolve("ws");
    const fromWs = createRequire(wsEntry);
    const bufferUtil = fromWs("bufferutil") as {
      mask(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void;
    };
    // bufferutil falls back to JavaScript when its binary does not load: that would not help.
    expect(String(bufferUtil.mask)).toContain("[native code]");
    const source = Buffer.from("nodelet masking check, longer than ws's 48-byte JavaScript cut-off");
    const key = Buffer.from([1, 2, 3, 4]);
    const out = Buffer.alloc(source.length);
    bufferUtil.mask(source, key, out, 0, source.length);
    expect(out.every((b, i) => b === ((source[i] as number) ^ (key[i % 4] as number)))).toBe(true);
  });
});
