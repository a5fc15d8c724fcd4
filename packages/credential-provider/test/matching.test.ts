import { describe, expect, it } from "vitest";
import {
  createStaticKeyring,
  type DockerConfigEntry,
  globMatch,
  isValidGlob,
  matchPatternProblem,
  normalizeRegistryKey,
  urlsMatchString,
} from "../src/index.js";
import { recordingLogger } from "./support/secrets.js";

function entry(username: string): DockerConfigEntry {
  return { username, password: `pw-${username}`, email: "", identityToken: "", registryToken: "" };
}

describe("globMatch (Go's filepath.Match on a host label)", () => {
  it.each([
    ["*", "anything", true],
    ["*", "", true],
    ["gcr", "gcr", true],
    ["gcr", "gcrx", false],
    ["*-docker", "us-docker", true],
    ["?cr", "gcr", true],
    ["?cr", "cr", false],
    ["[abc]cr", "gcr", false],
    ["[a-h]cr", "gcr", true],
    ["[^a-f]cr", "gcr", true],
    ["[^g]cr", "gcr", false],
    ["\\*", "*", true],
    ["\\*", "x", false],
  ])("%j vs %j → %s", (pattern, name, expected) => {
    expect(globMatch(pattern, name)).toBe(expected);
  });

  it.each(["[", "[]", "[a-", "[-a]", "a\\", "[a-]"])(
    "%j is a bad pattern that matches nothing",
    (pattern) => {
      expect(isValidGlob(pattern)).toBe(false);
      expect(globMatch(pattern, "a")).toBe(false);
    },
  );
});

describe("urlsMatch (the kubelet's URLsMatchStr)", () => {
  it.each([
    // globs stay within a label and label counts must be equal
    ["*.docker.io", "blah.docker.io/x", true],
    ["*.docker.io", "not.right.io/x", false],
    ["*.io", "a.b.io/x", false],
    ["*.*.io", "a.b.io/x", true],
    ["*", "localhost/x", true],
    ["*", "docker.io/library/x", false],
    ["*-docker.pkg.dev", "us-docker.pkg.dev/p/r/i", true],
    // ports must be equal, glob or not
    ["registry.io:5000", "registry.io:5000/x", true],
    ["registry.io:5000", "registry.io/x", false],
    ["registry.io", "registry.io:5000/x", false],
    ["*.io:5000", "registry.io:5000/x", true],
    ["127.0.0.1:29561", "127.0.0.1:29561/busybox", true],
    ["127.0.0.*:29561", "127.0.0.1:29561/busybox", true],
    // the credential's path is a string prefix of the image path
    ["quay.io/coreos", "quay.io/coreos/etcd", true],
    ["quay.io/coreos", "quay.io/other/etcd", false],
    ["quay.io/coreos", "quay.io/coreosx/etcd", true],
    ["quay.io/coreos/etcd/more", "quay.io/coreos/etcd", false],
    // paths are not globbed
    ["quay.io/*", "quay.io/coreos/etcd", false],
  ])("%j matches %j: %s", (glob, target, expected) => {
    expect(urlsMatchString(glob, target)).toBe(expected);
  });
});

describe("matchPatternProblem (matchImages validation)", () => {
  it.each(["*.registry.io", "registry.io:5000", "registry.io/team/app", "*.*.amazonaws.com", "x[a-c].io"])(
    "%j is valid",
    (pattern) => {
      expect(matchPatternProblem(pattern)).toBeUndefined();
    },
  );
  it.each([
    ["registry.io:abc", /invalid port/],
    ["reg istry.io", /invalid character " " in host name/],
    ["", /has no host/],
    ["/path/only", /has no host/],
    ["[a.io", /missing '\]'/],
    ["a[.io", /host label "a\[" is not a valid glob/],
    // As Go's url.Parse: a host starting with "[" is an IPv6 literal.
    ["[a-c].io", /invalid port "\.io" after host/],
    ["a\\.io", /invalid character "\\\\" in host name/],
    ["bad\u0001.io", /control character/],
    ["registry.io/%zz", /invalid URL escape/],
  ])("%j is rejected", (pattern, reason) => {
    expect(matchPatternProblem(pattern)).toMatch(reason);
  });
});

describe("normalizeRegistryKey (the kubelet's Add)", () => {
  it.each([
    ["registry.io", "registry.io"],
    ["https://registry.io", "registry.io"],
    ["http://registry.io:5000/", "registry.io:5000"],
    ["https://index.docker.io/v1/", "index.docker.io"],
    ["registry.io/v2/team", "registry.io/team"],
    ["registry.io/v1/team/app", "registry.io/team/app"],
    ["registry.io/v1", "registry.io/v1"],
    ["registry.io/team", "registry.io/team"],
    ["user@registry.io:5000/x", "registry.io:5000/x"],
  ])("%j → %j", (location, key) => {
    expect(normalizeRegistryKey(location)).toEqual({ key });
  });

  it("reports a location that does not parse", () => {
    expect(normalizeRegistryKey("registry.io:port")).toEqual({ error: 'invalid port ":port" after host' });
  });
});

describe("createStaticKeyring lookup", () => {
  it("deduplicates keys and reverse-sorts them: most specific first", () => {
    const keyring = createStaticKeyring([
      ["quay.io", entry("host")],
      ["https://quay.io/coreos", entry("ns")],
      ["quay.io/coreos/etcd", entry("repo")],
      ["http://quay.io/", entry("host2")],
    ]);
    expect(keyring.keys).toEqual(["quay.io/coreos/etcd", "quay.io/coreos", "quay.io"]);
    expect(keyring.lookup("quay.io/coreos/etcd:v3").map((a) => a.username)).toEqual([
      "repo",
      "ns",
      "host",
      "host2",
    ]);
    expect(keyring.lookup("quay.io/other/x").map((a) => a.username)).toEqual(["host", "host2"]);
  });

  it("returns all matches: globs, ports and paths together", () => {
    const keyring = createStaticKeyring([
      ["*.example.com", entry("glob")],
      ["registry.example.com:5000", entry("port")],
      ["registry.example.com", entry("exact")],
      ["registry.example.com/team", entry("team")],
    ]);
    expect(keyring.lookup("registry.example.com/team/app:1").map((a) => a.username)).toEqual([
      "team",
      "exact",
      "glob",
    ]);
    expect(keyring.lookup("registry.example.com:5000/app").map((a) => a.username)).toEqual(["port"]);
    expect(keyring.lookup("a.b.example.com/app")).toEqual([]);
    expect(keyring.lookup("other.io/app")).toEqual([]);
  });

  it("builds CRI AuthConfigs without the email, and without a server address", () => {
    const [auth] = createStaticKeyring([
      ["r.io", { username: "u", password: "p", email: "e@x", identityToken: "it", registryToken: "rt" }],
    ]).lookup("r.io/x");
    expect(auth).toEqual({
      username: "u",
      password: "p",
      auth: "",
      serverAddress: "",
      identityToken: "it",
      registryToken: "rt",
    });
  });

  describe("Docker Hub", () => {
    it.each([
      ["https://index.docker.io/v1/"],
      ["index.docker.io"],
      ["registry-1.docker.io"],
      ["docker.io"],
      ["https://docker.io"],
    ])(
      "credentials under %j serve busybox, library/busybox, docker.io/... and index.docker.io/...",
      (key) => {
        const keyring = createStaticKeyring([[key, entry("hub")]]);
        for (const image of [
          "busybox",
          "busybox:latest",
          "library/busybox",
          "docker.io/library/busybox",
          "index.docker.io/library/busybox@sha256:00",
          "someone/app",
        ]) {
          expect(
            keyring.lookup(image).map((a) => a.username),
            image,
          ).toEqual(["hub"]);
        }
        expect(keyring.lookup("quay.io/busybox")).toEqual([]);
        expect(keyring.lookup("localhost/busybox")).toEqual([]);
      },
    );

    it("uses the alias keys only when nothing matched directly (as the kubelet)", () => {
      const keyring = createStaticKeyring([
        ["https://index.docker.io/v1/", entry("alias")],
        ["docker.io/team", entry("team")],
      ]);
      expect(keyring.lookup("team/app").map((a) => a.username)).toEqual(["team"]);
      expect(keyring.lookup("other/app").map((a) => a.username)).toEqual(["alias"]);
    });

    it("a path under an alias key narrows it", () => {
      const keyring = createStaticKeyring([["index.docker.io/team", entry("team")]]);
      expect(keyring.lookup("team/app").map((a) => a.username)).toEqual(["team"]);
      expect(keyring.lookup("busybox")).toEqual([]);
    });
  });

  it("warns about and leaves out a key that does not parse", () => {
    const log = recordingLogger();
    const keyring = createStaticKeyring(
      [
        ["bad host.io", entry("bad")],
        ["good.io", entry("good")],
      ],
      { source: "/x/config.json", onWarning: log.onWarning },
    );
    expect(keyring.keys).toEqual(["good.io"]);
    expect(log.warnings).toEqual([
      '/x/config.json: entry "bad host.io" is not a registry location (invalid character " " in host name); ignoring it',
    ]);
  });

  it("returns fresh objects on each lookup", () => {
    const keyring = createStaticKeyring([["r.io", entry("u")]]);
    const first = keyring.lookup("r.io/x")[0];
    if (first) first.password = "changed";
    expect(keyring.lookup("r.io/x")[0]?.password).toBe("pw-u");
  });
});
