import type { V1Secret } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { createPullSecretKeyring, parsePullSecrets } from "../src/index.js";
import { b64, expectNoSecrets, recordingLogger } from "./support/secrets.js";

function dockerConfigJsonSecret(name: string, auths: unknown): V1Secret {
  return {
    metadata: { name, namespace: "team" },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": b64(JSON.stringify({ auths })) },
  };
}

function dockercfgSecret(name: string, map: unknown): V1Secret {
  return {
    metadata: { name, namespace: "team" },
    type: "kubernetes.io/dockercfg",
    data: { ".dockercfg": b64(JSON.stringify(map)) },
  };
}

describe("pull secrets", () => {
  it("reads kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg secrets in order", () => {
    const entries = parsePullSecrets([
      dockerConfigJsonSecret("json", { "r.io": { auth: b64("a:s3cr3t-pa55") } }),
      dockercfgSecret("cfg", { "https://r.io/v1/": { username: "b", password: "other-pw-7" } }),
    ]);
    expect(entries.map(([key, e]) => [key, e.username, e.password])).toEqual([
      ["r.io", "a", "s3cr3t-pa55"],
      ["https://r.io/v1/", "b", "other-pw-7"],
    ]);
  });

  it("one keyring over all secrets: most specific key first, then secret order", () => {
    const keyring = createPullSecretKeyring([
      dockerConfigJsonSecret("one", { "r.io": { username: "host1", password: "x" } }),
      dockercfgSecret("two", {
        "r.io/team": { username: "team", password: "y" },
        "r.io": { username: "host2" },
      }),
    ]);
    expect(keyring.lookup("r.io/team/app:1").map((a) => a.username)).toEqual(["team", "host1", "host2"]);
  });

  it("ignores other secret types silently", () => {
    const log = recordingLogger();
    const entries = parsePullSecrets(
      [
        { metadata: { name: "opaque" }, type: "Opaque", data: { ".dockerconfigjson": "!!" } },
        { metadata: { name: "untyped" }, data: { ".dockercfg": "!!" } },
        // The key of the other type does not count.
        {
          metadata: { name: "mixed" },
          type: "kubernetes.io/dockercfg",
          data: { ".dockerconfigjson": "e30=" },
        },
      ],
      { onWarning: log.onWarning },
    );
    expect(entries).toEqual([]);
    expect(log.warnings).toEqual([
      "pull secret mixed of type kubernetes.io/dockercfg has no .dockercfg data; skipping it",
    ]);
  });

  const malformed: Array<[string, V1Secret, RegExp]> = [
    [
      "missing data",
      { metadata: { name: "s", namespace: "team" }, type: "kubernetes.io/dockerconfigjson" },
      /^pull secret team\/s of type kubernetes.io\/dockerconfigjson has no .dockerconfigjson data; skipping it$/,
    ],
    [
      "bad base64",
      {
        metadata: { name: "s", namespace: "team" },
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": "***" },
      },
      /^pull secret team\/s: .dockerconfigjson is not valid base64; skipping it$/,
    ],
    [
      "invalid JSON",
      {
        metadata: { name: "s", namespace: "team" },
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": b64('{"auths": {"r.io": {"password": "s3cr3t-pa55"}') },
      },
      /^pull secret team\/s: is not valid JSON; skipping it$/,
    ],
    [
      "dockercfg not an object",
      {
        metadata: { name: "s", namespace: "team" },
        type: "kubernetes.io/dockercfg",
        data: { ".dockercfg": b64('["s3cr3t-pa55"]') },
      },
      /^pull secret team\/s: is not a JSON object; skipping it$/,
    ],
  ];
  it.each(malformed)("warns naming the secret and skips it: %s", (_name, secret, pattern) => {
    const log = recordingLogger();
    const entries = parsePullSecrets(
      [secret, dockerConfigJsonSecret("good", { "r.io": { username: "g", password: "p" } })],
      { onWarning: log.onWarning },
    );
    expect(entries.map(([k]) => k)).toEqual(["r.io"]);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toMatch(pattern);
    expectNoSecrets(log.allText());
  });

  it("warns about a malformed entry inside a secret and keeps the others", () => {
    const log = recordingLogger();
    const entries = parsePullSecrets(
      [
        dockerConfigJsonSecret("mixed", {
          "bad.io": { auth: b64("no-colon-s3cr3t-pa55") },
          "good.io": { auth: b64("u:s3cr3t-pa55") },
        }),
      ],
      { onWarning: log.onWarning },
    );
    expect(entries.map(([k]) => k)).toEqual(["good.io"]);
    expect(log.warnings).toEqual([
      'pull secret team/mixed: entry "bad.io" field "auth" must be base64 of "username:password" (no ":" found); ignoring it',
    ]);
    expectNoSecrets(log.allText(), ["no-colon-s3cr3t-pa55"]);
  });
});
