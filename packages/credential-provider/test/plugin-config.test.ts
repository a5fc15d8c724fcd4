import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCredentialProviderConfig, parseCredentialProviderConfig } from "../src/index.js";

const file = "/etc/nodelet/credential-providers.yaml";

const valid = `
apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: ecr-credential-provider
    matchImages:
      - "*.dkr.ecr.*.amazonaws.com"
      - "registry.example.com:5000/team"
    defaultCacheDuration: 12h
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    args: [get-credentials]
    env:
      - name: AWS_PROFILE
        value: nodes
  - name: gcp
    matchImages: ["gcr.io"]
    defaultCacheDuration: "0s"
    apiVersion: credentialprovider.kubelet.k8s.io/v1alpha1
`;

function errorOf(text: string): { message: string; details: Record<string, unknown>; code: string } {
  try {
    parseCredentialProviderConfig(text, file);
  } catch (error) {
    return error as { message: string; details: Record<string, unknown>; code: string };
  }
  throw new Error("expected the config to be rejected");
}

function provider(fields: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: "kubelet.config.k8s.io/v1",
    kind: "CredentialProviderConfig",
    providers: [
      {
        name: "p",
        matchImages: ["r.io"],
        defaultCacheDuration: "1m",
        apiVersion: "credentialprovider.kubelet.k8s.io/v1",
        ...fields,
      },
    ],
  });
}

describe("parseCredentialProviderConfig", () => {
  it("parses YAML with durations, args and env", () => {
    const config = parseCredentialProviderConfig(valid, file);
    expect(config).toEqual({
      apiVersion: "kubelet.config.k8s.io/v1",
      kind: "CredentialProviderConfig",
      providers: [
        {
          name: "ecr-credential-provider",
          matchImages: ["*.dkr.ecr.*.amazonaws.com", "registry.example.com:5000/team"],
          defaultCacheDurationMs: 12 * 3600_000,
          apiVersion: "credentialprovider.kubelet.k8s.io/v1",
          args: ["get-credentials"],
          env: [{ name: "AWS_PROFILE", value: "nodes" }],
        },
        {
          name: "gcp",
          matchImages: ["gcr.io"],
          defaultCacheDurationMs: 0,
          apiVersion: "credentialprovider.kubelet.k8s.io/v1alpha1",
          args: [],
          env: [],
        },
      ],
    });
  });

  it("parses JSON and the older config apiVersions", () => {
    for (const apiVersion of ["kubelet.config.k8s.io/v1beta1", "kubelet.config.k8s.io/v1alpha1"]) {
      const text = JSON.stringify({ ...JSON.parse(provider({})), apiVersion });
      expect(parseCredentialProviderConfig(text, file).apiVersion).toBe(apiVersion);
    }
    expect(
      parseCredentialProviderConfig(
        provider({ apiVersion: "credentialprovider.kubelet.k8s.io/v1beta1" }),
        file,
      ).providers[0]?.apiVersion,
    ).toBe("credentialprovider.kubelet.k8s.io/v1beta1");
  });

  const cases: Array<[string, string, string]> = [
    [
      "missing defaultCacheDuration",
      provider({ defaultCacheDuration: undefined }),
      'providers[0].defaultCacheDuration: is required (a Go duration such as "12h" or "1m30s", or "0s" for no caching)',
    ],
    [
      "defaultCacheDuration without a unit",
      provider({ defaultCacheDuration: "12" }),
      'providers[0].defaultCacheDuration: is missing a unit (write a Go duration such as "12h", "1m30s" or "0s")',
    ],
    [
      "defaultCacheDuration with an unknown unit",
      provider({ defaultCacheDuration: "1d" }),
      'providers[0].defaultCacheDuration: has an unknown unit "d"',
    ],
    [
      "negative defaultCacheDuration",
      provider({ defaultCacheDuration: "-1h" }),
      "providers[0].defaultCacheDuration: must be greater than or equal to 0",
    ],
    [
      "defaultCacheDuration as a YAML number",
      valid.replace("defaultCacheDuration: 12h", "defaultCacheDuration: 0"),
      'providers[0].defaultCacheDuration: must be a Go duration string such as "12h" or "0s"',
    ],
    [
      "name with a path",
      provider({ name: "../bin/evil" }),
      "providers[0].name: must not contain a path separator",
    ],
    ["name with a space", provider({ name: "my plugin" }), "providers[0].name: must not contain spaces"],
    ["name ..", provider({ name: ".." }), 'providers[0].name: must not be ".."'],
    ["missing name", provider({ name: undefined }), "providers[0].name: is required"],
    [
      "missing matchImages",
      provider({ matchImages: undefined }),
      "providers[0].matchImages: is required (list at least one image pattern)",
    ],
    [
      "empty matchImages",
      provider({ matchImages: [] }),
      "providers[0].matchImages: at least 1 item in matchImages is required",
    ],
    [
      "invalid matchImages entry",
      provider({ matchImages: ["r.io", "r.io:port"] }),
      'providers[0].matchImages[1]: match image "r.io:port" is invalid: invalid port ":port" after host',
    ],
    [
      "missing apiVersion",
      provider({ apiVersion: undefined }),
      "providers[0].apiVersion: is required (one of credentialprovider.kubelet.k8s.io/v1,",
    ],
    [
      "unknown apiVersion",
      provider({ apiVersion: "credentialprovider.kubelet.k8s.io/v2" }),
      "providers[0].apiVersion: must be one of credentialprovider.kubelet.k8s.io/v1, credentialprovider.kubelet.k8s.io/v1beta1, credentialprovider.kubelet.k8s.io/v1alpha1",
    ],
    ["args not strings", provider({ args: ["a", 1] }), "providers[0].args[1]: must be a string"],
    [
      "env without value",
      provider({ env: [{ name: "A" }] }),
      'providers[0].env[0].value: is required (use "" for empty)',
    ],
    [
      "unknown provider field",
      provider({ defaultCacheDurationSeconds: 5 }),
      "providers[0].defaultCacheDurationSeconds: is not a known field (remove it or fix its spelling)",
    ],
    [
      "tokenAttributes",
      provider({ tokenAttributes: { serviceAccountTokenAudience: "x" } }),
      "providers[0].tokenAttributes: is not supported",
    ],
    [
      "duplicate names",
      JSON.stringify({
        ...JSON.parse(provider({})),
        providers: [JSON.parse(provider({})).providers[0], JSON.parse(provider({})).providers[0]],
      }),
      'providers[1].name: duplicate provider name "p"',
    ],
    [
      "wrong kind",
      provider({}).replace("CredentialProviderConfig", "KubeletConfiguration"),
      'kind: must be "CredentialProviderConfig"',
    ],
    [
      "wrong config apiVersion",
      provider({}).replace("kubelet.config.k8s.io/v1", "kubelet.config.k8s.io/v2"),
      "apiVersion: must be one of kubelet.config.k8s.io/v1, kubelet.config.k8s.io/v1beta1, kubelet.config.k8s.io/v1alpha1",
    ],
    [
      "no providers",
      JSON.stringify({
        apiVersion: "kubelet.config.k8s.io/v1",
        kind: "CredentialProviderConfig",
        providers: [],
      }),
      "providers: at least 1 item in providers is required",
    ],
    [
      "missing providers",
      JSON.stringify({ apiVersion: "kubelet.config.k8s.io/v1", kind: "CredentialProviderConfig" }),
      "providers: is required (list at least one provider)",
    ],
    ["empty file", "", "(document): must be a CredentialProviderConfig"],
    ["a YAML list", "- a\n- b\n", "(document): must be a CredentialProviderConfig"],
    ["invalid YAML", "providers:\n  - name: a\n    env: [\n", "(document): is not valid YAML or JSON ("],
    [
      "duplicate keys",
      "kind: a\nkind: b\n",
      "(document): is not valid YAML or JSON (DUPLICATE_KEY at line 2",
    ],
  ];
  it.each(cases)("rejects %s with InvalidConfig naming the file and field", (_name, text, expected) => {
    const error = errorOf(text);
    expect(error.code).toBe("InvalidConfig");
    expect(error.message).toContain(`invalid credential provider config ${file}: `);
    expect(error.message).toContain(expected);
    expect(error.details.file).toBe(file);
  });

  it("lists every problem, each with its field", () => {
    const error = errorOf(provider({ name: "a/b", matchImages: [], defaultCacheDuration: "x" }));
    expect(error.details.errors).toEqual([
      { field: "providers[0].name", message: expect.stringContaining("path separator") },
      { field: "providers[0].matchImages", message: "at least 1 item in matchImages is required" },
      { field: "providers[0].defaultCacheDuration", message: expect.stringContaining("is not a duration") },
    ]);
  });

  it("does not quote the file when its syntax is broken", () => {
    const error = errorOf("providers:\n  - env: [{name: TOKEN, value: s3cr3t-pa55\n");
    expect(error.message).not.toContain("s3cr3t-pa55");
  });
});

describe("loadCredentialProviderConfig", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "nodelet-cp-config-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a file", async () => {
    const path = join(dir, "config.yaml");
    await writeFile(path, valid);
    expect((await loadCredentialProviderConfig(path)).providers).toHaveLength(2);
  });

  it("names a missing file", async () => {
    await expect(loadCredentialProviderConfig(join(dir, "none.yaml"))).rejects.toMatchObject({
      code: "InvalidConfig",
      message: expect.stringContaining(`${join(dir, "none.yaml")} does not exist`),
    });
  });

  it("names the file in validation errors", async () => {
    const path = join(dir, "bad.json");
    await writeFile(path, provider({ defaultCacheDuration: undefined }));
    await expect(loadCredentialProviderConfig(path)).rejects.toThrow(
      `invalid credential provider config ${path}: providers[0].defaultCacheDuration: is required`,
    );
  });
});
