import { describe, expect, it } from "vitest";
import { parseDockerConfigJson, parseDockercfg } from "../src/index.js";
import { b64, expectNoSecrets, recordingLogger } from "./support/secrets.js";

const source = "/etc/nodelet/config.json";

describe("parseDockerConfigJson", () => {
  it("reads auths with username/password, tokens and email", () => {
    const config = parseDockerConfigJson(
      JSON.stringify({
        auths: {
          "registry.example.com": { username: "u", password: "s3cr3t-pa55", email: "u@example.com" },
          "tokens.example.com": { identitytoken: "id-tok", registrytoken: "reg-tok" },
        },
      }),
      { source },
    );
    expect([...config.keys()]).toEqual(["registry.example.com", "tokens.example.com"]);
    expect(config.get("registry.example.com")).toEqual({
      username: "u",
      password: "s3cr3t-pa55",
      email: "u@example.com",
      identityToken: "",
      registryToken: "",
    });
    expect(config.get("tokens.example.com")).toMatchObject({
      identityToken: "id-tok",
      registryToken: "reg-tok",
    });
  });

  it("decodes auth, splits on the first colon, and lets it override username/password", () => {
    const config = parseDockerConfigJson(
      JSON.stringify({
        auths: {
          a: { auth: b64("alice:hunter2:with:colons"), username: "ignored", password: "ignored" },
          // Unpadded base64 is accepted too, as Go's RawStdEncoding.
          b: { auth: b64("bob:x").replace(/=+$/, "") },
          c: { auth: b64(":only-password") },
        },
      }),
      { source },
    );
    expect(config.get("a")).toMatchObject({ username: "alice", password: "hunter2:with:colons" });
    expect(config.get("b")).toMatchObject({ username: "bob", password: "x" });
    expect(config.get("c")).toMatchObject({ username: "", password: "only-password" });
  });

  it("returns an empty config when there is no auths (e.g. only credHelpers)", () => {
    expect(parseDockerConfigJson(JSON.stringify({ credHelpers: { x: "y" } }), { source }).size).toBe(0);
    expect(parseDockerConfigJson(JSON.stringify({ auths: null }), { source }).size).toBe(0);
  });

  const malformedEntries: Array<[string, unknown, RegExp]> = [
    ["not base64", { auth: "%%%not-base64%%%" }, /entry "bad" field "auth" is not valid base64/],
    ["bad padding", { auth: "YWJj=" }, /not valid base64/],
    ["no colon", { auth: b64("s3cr3t-pa55") }, /no ":" found/],
    ["entry is a string", "s3cr3t-pa55", /entry "bad" is not an object/],
    ["entry is null", null, /entry "bad" is not an object/],
    ["entry is an array", ["s3cr3t-pa55"], /entry "bad" is not an object/],
    ["password is a number", { username: "u", password: 12345 }, /field "password" is not a string/],
    ["auth is an object", { auth: { x: "s3cr3t-pa55" } }, /field "auth" is not a string/],
  ];
  it.each(malformedEntries)("warns about and skips an entry: %s", (_name, entry, pattern) => {
    const log = recordingLogger();
    const config = parseDockerConfigJson(
      JSON.stringify({ auths: { bad: entry, good: { username: "g", password: "s3cr3t-pa55" } } }),
      { source, onWarning: log.onWarning },
    );
    expect([...config.keys()]).toEqual(["good"]);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain(source);
    expect(log.warnings[0]).toMatch(pattern);
    expectNoSecrets(log.allText());
  });

  const malformedDocuments: Array<[string, string, RegExp]> = [
    ["invalid JSON", '{"auths": {"x": {"password": "s3cr3t-pa55"', /is not valid JSON/],
    ["a JSON array", '["s3cr3t-pa55"]', /is not a JSON object/],
    ["a JSON string", '"s3cr3t-pa55"', /is not a JSON object/],
    ["auths an array", '{"auths": ["s3cr3t-pa55"]}', /"auths" is not a JSON object/],
  ];
  it.each(malformedDocuments)("throws InvalidConfig naming the file for %s", (_name, text, pattern) => {
    let caught: unknown;
    try {
      parseDockerConfigJson(text, { source });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "InvalidConfig" });
    const message = (caught as Error).message;
    expect(message).toContain(source);
    expect(message).toMatch(pattern);
    expectNoSecrets(message);
  });
});

describe("parseDockercfg", () => {
  it("reads the registry map at top level", () => {
    const config = parseDockercfg(
      JSON.stringify({
        "https://index.docker.io/v1/": { auth: b64("hub:s3cr3t-pa55"), email: "e@x" },
        "quay.io": { username: "q", password: "p" },
      }),
      { source: "/root/.dockercfg" },
    );
    expect(config.get("https://index.docker.io/v1/")).toMatchObject({
      username: "hub",
      password: "s3cr3t-pa55",
      email: "e@x",
    });
    expect(config.get("quay.io")).toMatchObject({ username: "q", password: "p" });
  });

  it("warns about malformed entries and keeps the rest", () => {
    const log = recordingLogger();
    const config = parseDockercfg(JSON.stringify({ a: 1, b: { auth: "!!" }, c: { username: "c" } }), {
      source: "/root/.dockercfg",
      onWarning: log.onWarning,
    });
    expect([...config.keys()]).toEqual(["c"]);
    expect(log.warnings).toEqual([
      '/root/.dockercfg: entry "a" is not an object; ignoring it',
      '/root/.dockercfg: entry "b" field "auth" is not valid base64; ignoring it',
    ]);
  });

  it("throws on invalid JSON without quoting it", () => {
    expect(() => parseDockercfg("{s3cr3t-pa55", { source: "/root/.dockercfg" })).toThrow(
      /^\/root\/\.dockercfg: is not valid JSON$/,
    );
  });
});
