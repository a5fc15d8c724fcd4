import { describe, expect, it } from "vitest";
import { fnv32a, hashContainer } from "../src/container-hash.js";

describe("fnv32a", () => {
  it.each([
    ["", 0x811c9dc5],
    ["a", 0xe40c292c],
    ["foobar", 0xbf9cf968],
  ])("hashes %j like the reference FNV-1a", (text, expected) => {
    expect(fnv32a(Buffer.from(text))).toBe(expected);
  });
});

describe("hashContainer", () => {
  it("is FNV-32a of the sorted-key JSON of image and name, in hex", () => {
    const expected = fnv32a(Buffer.from('{"image":"nginx:1.27","name":"web"}')).toString(16);
    expect(hashContainer({ name: "web", image: "nginx:1.27" })).toBe(expected);
  });

  it("ignores everything but name and image", () => {
    const base = { name: "web", image: "nginx:1.27" };
    expect(hashContainer({ ...base, command: ["x"], env: [{ name: "A", value: "1" }] } as typeof base)).toBe(
      hashContainer(base),
    );
    expect(hashContainer({ ...base, image: "nginx:1.28" })).not.toBe(hashContainer(base));
  });

  it("escapes <, > and & as Go's encoder does", () => {
    const expected = fnv32a(Buffer.from('{"image":"a\\u003cb\\u003e\\u0026","name":"web"}')).toString(16);
    expect(hashContainer({ name: "web", image: "a<b>&" })).toBe(expected);
  });

  it("hashes UTF-8 bytes and treats a missing image as empty", () => {
    expect(hashContainer({ name: "wéb", image: "" })).toBe(
      fnv32a(Buffer.from('{"image":"","name":"wéb"}', "utf8")).toString(16),
    );
    expect(hashContainer({ name: "web" })).toBe(hashContainer({ name: "web", image: "" }));
  });

  it("is lowercase hex without padding", () => {
    expect(hashContainer({ name: "web", image: "nginx" })).toMatch(/^[0-9a-f]{1,8}$/);
  });
});
