import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createManualClock, ErrorCode, isNodeletError, NodeletError } from "@nodelet/runtime-api";
import { Registry } from "prom-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CredentialProvider, createPluginKeyring, type PluginKeyringOptions } from "../src/index.js";
import {
  makeTempDir,
  providerConfig,
  respondingScript,
  response,
  runs,
  V1,
  writePlugin,
} from "./support/plugins.js";
import { expectNoSecrets, recordingLogger } from "./support/secrets.js";

let binDir: string;
let work: string;
let counter: string;
let testIndex = 0;

beforeAll(async () => {
  binDir = await makeTempDir("nodelet-cp-bin-");
  work = await makeTempDir("nodelet-cp-work-");
});

afterAll(async () => {
  await rm(binDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

beforeEach(() => {
  testIndex += 1;
  counter = join(work, `counter-${testIndex}`);
});

const goodAuth = {
  "*.example.com": { username: "plugin-user", password: "plugin-pw-9000" },
};

/** A plugin named after the test, with $COUNTER set through the provider env. */
async function pluginKeyring(
  script: string,
  provider: Partial<CredentialProvider> = {},
  options: Partial<PluginKeyringOptions> = {},
) {
  const name = `plugin-${testIndex}`;
  await writePlugin(binDir, name, script);
  const log = recordingLogger();
  const keyring = await createPluginKeyring({
    config: providerConfig([{ name, env: [{ name: "COUNTER", value: counter }], ...provider }]),
    binDir,
    logger: log.logger,
    ...options,
  });
  return { keyring, log, name };
}

describe("plugin protocol", () => {
  it("sends the request on stdin with args and env (configured env wins) and reads the answer", async () => {
    const requestFile = join(work, `request-${testIndex}`);
    const script = [
      `cat > "${requestFile}"`,
      `printf '%s\\n' "$@" > "${requestFile}.args"`,
      `printf '%s %s\\n' "$SHARED" "$INHERITED" > "${requestFile}.env"`,
      "cat <<'JSON'",
      JSON.stringify(response({ auth: goodAuth })),
      "JSON",
    ].join("\n");
    const { keyring, log } = await pluginKeyring(
      script,
      {
        args: ["get-credentials", "--verbose"],
        env: [{ name: "SHARED", value: "from-config" }],
      },
      { env: { PATH: process.env.PATH, SHARED: "from-os", INHERITED: "kept" } },
    );
    const auths = await keyring.lookup("registry.example.com/team/app:1.0");
    expect(auths).toEqual([
      {
        username: "plugin-user",
        password: "plugin-pw-9000",
        auth: "",
        serverAddress: "",
        identityToken: "",
        registryToken: "",
      },
    ]);
    expect(JSON.parse(await readFile(requestFile, "utf8"))).toEqual({
      apiVersion: V1,
      kind: "CredentialProviderRequest",
      image: "registry.example.com/team/app",
    });
    expect(await readFile(`${requestFile}.args`, "utf8")).toBe("get-credentials\n--verbose\n");
    expect(await readFile(`${requestFile}.env`, "utf8")).toBe("from-config kept\n");
    expect(log.warnings).toEqual([]);
    expect(log.errors).toEqual([]);
  });

  it("runs only for images its matchImages match, and matches auth keys against the image again", async () => {
    const { keyring } = await pluginKeyring(
      respondingScript(
        response({
          auth: {
            "*.example.com": { username: "glob", password: "a" },
            "registry.example.com/team": { username: "team", password: "b" },
            "registry.example.com/other": { username: "other", password: "c" },
            "elsewhere.io": { username: "elsewhere", password: "d" },
            "*.io": { username: "tld", password: "e" },
          },
          cacheDuration: "0s",
        }),
      ),
    );
    expect((await keyring.lookup("registry.example.com/team/app")).map((a) => a.username)).toEqual([
      "team",
      "glob",
    ]);
    expect(await runs(counter)).toBe(1);
    expect(await keyring.lookup("quay.io/team/app")).toEqual([]);
    expect(await keyring.lookup("a.b.example.com/app")).toEqual([]);
    expect(await runs(counter)).toBe(1);
  });

  it("an answer without auth is empty credentials, not an error", async () => {
    const { keyring, log } = await pluginKeyring(respondingScript(response({ auth: null })));
    expect(await keyring.lookup("r.example.com/x")).toEqual([]);
    expect(log.errors).toEqual([]);
  });
});

describe("plugin failures", () => {
  const failures: Array<[string, string, RegExp, Record<string, unknown>]> = [
    [
      "exits non-zero",
      'cat > /dev/null; echo "registry unreachable" >&2; exit 3',
      /exited with code 3: registry unreachable$/,
      { exitCode: 3 },
    ],
    [
      "prints garbage",
      "cat > /dev/null; echo 'password=plugin-pw-9000 not json'",
      /wrote 33 bytes to stdout that are not JSON$/,
      { stdoutBytes: 33 },
    ],
    [
      "prints a JSON array",
      "cat > /dev/null; echo '[\"plugin-pw-9000\"]'",
      /wrote 19 bytes to stdout that are not a JSON object$/,
      {},
    ],
    [
      "answers another apiVersion",
      respondingScript(response({ apiVersion: "credentialprovider.kubelet.k8s.io/v1beta1", auth: goodAuth })),
      /answered apiVersion "credentialprovider.kubelet.k8s.io\/v1beta1"; expected "credentialprovider.kubelet.k8s.io\/v1"$/,
      {},
    ],
    [
      "answers a secret as apiVersion",
      respondingScript(response({ apiVersion: "plugin-pw-9000 with spaces", auth: goodAuth })),
      /answered apiVersion \(not an apiVersion\)/,
      {},
    ],
    [
      "answers another kind",
      respondingScript(response({ kind: "CredentialProviderRequest", auth: goodAuth })),
      /invalid CredentialProviderResponse \(\d+ bytes\): kind: /,
      {},
    ],
    [
      "leaves out cacheKeyType",
      respondingScript(response({ cacheKeyType: undefined, auth: goodAuth })),
      /invalid CredentialProviderResponse \(\d+ bytes\): cacheKeyType: /,
      {},
    ],
    [
      "answers an unknown cacheKeyType",
      respondingScript(response({ cacheKeyType: "Pod", auth: goodAuth })),
      /cacheKeyType: Invalid option/,
      {},
    ],
    [
      "answers an unknown field (strict decoding)",
      respondingScript(response({ auth: goodAuth, token: "plugin-pw-9000" })),
      /\(document\): unknown field\(s\) "token"/,
      {},
    ],
    [
      "answers a bad cacheDuration",
      respondingScript(response({ auth: goodAuth, cacheDuration: "soon" })),
      /cacheDuration: is not a Go duration/,
      {},
    ],
    [
      "answers a password that is not a string",
      respondingScript(response({ auth: { "*.example.com": { username: "u", password: 9000 } } })),
      /auth\.\*\.example\.com\.password: Invalid input: expected string, received number/,
      {},
    ],
  ];
  it.each(failures)(
    "a plugin that %s is logged as CredentialProviderError; lookup returns []",
    async (_name, script, message, details) => {
      const { keyring, log, name } = await pluginKeyring(script);
      expect(await keyring.lookup("registry.example.com/app:1")).toEqual([]);
      expect(log.errors).toHaveLength(1);
      const error = log.errors[0] as NodeletError;
      expect(isNodeletError(error, ErrorCode.CredentialProviderError)).toBe(true);
      expect(error.message).toMatch(
        new RegExp(`^credential provider plugin "${name}" for image "registry.example.com/app" `),
      );
      expect(error.message).toMatch(message);
      expect(error.details).toMatchObject({ plugin: name, image: "registry.example.com/app", ...details });
      expectNoSecrets(log.allText());
    },
  );

  it("kills a plugin that hangs after the timeout (its children too)", async () => {
    const pidFile = join(work, `sleep-pid-${testIndex}`);
    const { keyring, log } = await pluginKeyring(
      `cat > /dev/null; sleep 30 & echo $! > "${pidFile}"; wait; echo '{}'`,
      {},
      { timeoutMs: 300 },
    );
    const started = Date.now();
    expect(await keyring.lookup("registry.example.com/app")).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(log.errors[0]?.message).toMatch(/timed out after 300 ms$/);
    expect((log.errors[0] as NodeletError).details.timedOut).toBe(true);
    const sleepPid = Number(await readFile(pidFile, "utf8"));
    await new Promise((r) => setTimeout(r, 100));
    // Gone, or a zombie waiting for a reaper (a container's init may not reap).
    const state = await readFile(`/proc/${sleepPid}/stat`, "utf8").then(
      (stat) => stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3),
      () => "gone",
    );
    expect(["gone", "Z", "X"]).toContain(state);
  });

  it("stops reading a plugin that floods stdout", async () => {
    const { keyring, log } = await pluginKeyring(
      "cat > /dev/null; yes plugin-pw-9000",
      {},
      { maxOutputBytes: 4096 },
    );
    expect(await keyring.lookup("registry.example.com/app")).toEqual([]);
    expect(log.errors[0]?.message).toMatch(/wrote more than 4096 bytes to stdout$/);
    expectNoSecrets(log.allText());
  });

  it("a plugin that does not read its request still works", async () => {
    const { keyring, log } = await pluginKeyring(
      ["cat <<'JSON'", JSON.stringify(response({ auth: goodAuth })), "JSON"].join("\n"),
    );
    expect((await keyring.lookup("registry.example.com/app")).map((a) => a.username)).toEqual([
      "plugin-user",
    ]);
    expect(log.errors).toEqual([]);
  });

  it("a binary removed after loading fails the run, not the lookup", async () => {
    const { keyring, log, name } = await pluginKeyring(respondingScript(response({ auth: goodAuth })));
    await rm(join(binDir, name));
    expect(await keyring.lookup("registry.example.com/app")).toEqual([]);
    expect(log.errors[0]?.message).toMatch(/could not be run: ENOENT$/);
  });

  it("a throwing spawn is a failed run", async () => {
    const { keyring, log } = await pluginKeyring(
      "exit 0",
      {},
      {
        spawn: () => {
          throw new Error("spawn is broken");
        },
      },
    );
    expect(await keyring.lookup("registry.example.com/app")).toEqual([]);
    expect(log.errors[0]?.message).toMatch(/could not be started: spawn is broken$/);
  });
});

describe("loading plugins", () => {
  it("rejects a missing binary with InvalidConfig naming the field", async () => {
    await expect(
      createPluginKeyring({ config: providerConfig([{ name: "absent-plugin" }]), binDir }),
    ).rejects.toMatchObject({
      code: ErrorCode.InvalidConfig,
      message: `credential provider plugin ${join(binDir, "absent-plugin")} (providers[0].name in (inline config)) does not exist; install the plugin in the bin dir or fix the name`,
    });
  });

  it("rejects a binary that is not executable", async () => {
    const path = await writePlugin(binDir, "not-executable", "exit 0");
    // No x bit at all: access(X_OK) fails even for root.
    await chmod(path, 0o644);
    await expect(
      createPluginKeyring({ config: providerConfig([{ name: "not-executable" }]), binDir }),
    ).rejects.toThrow(
      /not-executable \(providers\[0\]\.name in \(inline config\)\) is not executable; make it executable/,
    );
  });

  it("rejects a directory in place of the binary", async () => {
    await mkdir(join(binDir, "a-directory"));
    await expect(
      createPluginKeyring({ config: providerConfig([{ name: "a-directory" }]), binDir }),
    ).rejects.toThrow(/is not a regular file/);
  });

  it("loads a config file and names it in errors", async () => {
    const file = join(work, "providers.yaml");
    await writeFile(
      file,
      [
        "apiVersion: kubelet.config.k8s.io/v1",
        "kind: CredentialProviderConfig",
        "providers:",
        "  - name: ok-plugin",
        "    matchImages: ['*.example.com']",
        "    defaultCacheDuration: 1m",
        `    apiVersion: ${V1}`,
        "  - name: missing-plugin",
        "    matchImages: ['*.example.com']",
        "    defaultCacheDuration: 1m",
        `    apiVersion: ${V1}`,
      ].join("\n"),
    );
    await writePlugin(binDir, "ok-plugin", "exit 0");
    await expect(createPluginKeyring({ config: file, binDir })).rejects.toThrow(
      `(providers[1].name in ${file}) does not exist`,
    );
  });
});

describe("plugin cache", () => {
  function cachedKeyring(fields: Record<string, unknown>, provider: Partial<CredentialProvider> = {}) {
    const clock = createManualClock(1_000_000);
    return pluginKeyring(respondingScript(response({ auth: goodAuth, ...fields })), provider, { clock }).then(
      (r) => ({ ...r, clock }),
    );
  }

  it("cacheKeyType Image: cached per image until cacheDuration passes", async () => {
    const { keyring, clock } = await cachedKeyring({ cacheKeyType: "Image", cacheDuration: "10m" });
    await keyring.lookup("registry.example.com/a:1");
    await keyring.lookup("registry.example.com/a:2");
    await keyring.lookup("registry.example.com/a@sha256:00");
    expect(await runs(counter)).toBe(1);
    expect((await keyring.lookup("registry.example.com/b")).map((a) => a.username)).toEqual(["plugin-user"]);
    expect(await runs(counter)).toBe(2);
    clock.advance(10 * 60_000);
    await keyring.lookup("registry.example.com/a");
    expect(await runs(counter)).toBe(2);
    clock.advance(1);
    expect((await keyring.lookup("registry.example.com/a")).map((a) => a.username)).toEqual(["plugin-user"]);
    expect(await runs(counter)).toBe(3);
  });

  it("cacheKeyType Registry: one answer serves every image of the registry (port included)", async () => {
    const { keyring, clock } = await cachedKeyring({ cacheKeyType: "Registry", cacheDuration: "1m" });
    await keyring.lookup("registry.example.com/a");
    expect((await keyring.lookup("registry.example.com/b/c")).map((a) => a.username)).toEqual([
      "plugin-user",
    ]);
    expect(await runs(counter)).toBe(1);
    await keyring.lookup("registry.example.com:5000/a");
    expect(await runs(counter)).toBe(2);
    await keyring.lookup("other.example.com/a");
    expect(await runs(counter)).toBe(3);
    clock.advance(60_001);
    await keyring.lookup("registry.example.com/a");
    expect(await runs(counter)).toBe(4);
  });

  it("cacheKeyType Global: one answer serves every image", async () => {
    const { keyring, clock } = await cachedKeyring({ cacheKeyType: "Global", cacheDuration: "1h" });
    await keyring.lookup("registry.example.com/a");
    await keyring.lookup("other.example.com/b");
    await keyring.lookup("third.example.com:5000/c");
    expect(await runs(counter)).toBe(1);
    clock.advance(3600_001);
    await keyring.lookup("other.example.com/b");
    expect(await runs(counter)).toBe(2);
  });

  it("cacheDuration 0s is not cached", async () => {
    const { keyring } = await cachedKeyring({ cacheKeyType: "Global", cacheDuration: "0s" });
    await keyring.lookup("registry.example.com/a");
    await keyring.lookup("registry.example.com/a");
    expect(await runs(counter)).toBe(2);
  });

  it("no cacheDuration: defaultCacheDuration applies; a default of 0 is not cached", async () => {
    const cached = await cachedKeyring({ cacheKeyType: "Image" }, { defaultCacheDurationMs: 30_000 });
    await cached.keyring.lookup("registry.example.com/a");
    cached.clock.advance(30_000);
    await cached.keyring.lookup("registry.example.com/a");
    expect(await runs(counter)).toBe(1);
    cached.clock.advance(1);
    await cached.keyring.lookup("registry.example.com/a");
    expect(await runs(counter)).toBe(2);

    testIndex += 1;
    counter = join(work, `counter-${testIndex}`);
    const uncached = await cachedKeyring({ cacheKeyType: "Image" }, { defaultCacheDurationMs: 0 });
    await uncached.keyring.lookup("registry.example.com/a");
    await uncached.keyring.lookup("registry.example.com/a");
    expect(await runs(counter)).toBe(2);
  });

  it("looks up image, then registry, then global entries", async () => {
    // Run 1 answers Image, run 2 Registry, run 3 Global, so all three levels are filled.
    const clock = createManualClock(1_000_000);
    const script = [
      "cat > /dev/null",
      'echo run >> "$COUNTER"',
      'n=$(wc -l < "$COUNTER")',
      'case "$n" in',
      "  *1) type=Image; user=image ;;",
      "  *2) type=Registry; user=registry ;;",
      "  *) type=Global; user=global ;;",
      "esac",
      `printf '{"apiVersion":"${V1}","kind":"CredentialProviderResponse","cacheKeyType":"%s","cacheDuration":"1h","auth":{"*.example.com":{"username":"%s","password":"p"}}}' "$type" "$user"`,
    ].join("\n");
    const { keyring } = await pluginKeyring(script, {}, { clock });
    const user = async (image: string) => (await keyring.lookup(image)).map((a) => a.username);
    expect(await user("r.example.com/x")).toEqual(["image"]);
    expect(await user("r.example.com/y")).toEqual(["registry"]);
    expect(await user("other.example.com/z")).toEqual(["global"]);
    expect(await runs(counter)).toBe(3);
    // Image beats registry and global; registry beats global; global serves the rest.
    expect(await user("r.example.com/x:2")).toEqual(["image"]);
    expect(await user("r.example.com/w")).toEqual(["registry"]);
    expect(await user("third.example.com/q")).toEqual(["global"]);
    expect(await runs(counter)).toBe(3);
    // After an hour everything expired: the next lookup runs the plugin again.
    clock.advance(3600_001);
    await keyring.lookup("r.example.com/x");
    expect(await runs(counter)).toBe(4);
  });

  it("concurrent lookups of one image share one run (single-flight)", async () => {
    const clock = createManualClock(1_000_000);
    const { keyring } = await pluginKeyring(
      respondingScript(response({ auth: goodAuth, cacheDuration: "0s" }), { sleepSeconds: 0.3 }),
      {},
      { clock },
    );
    const results = await Promise.all(
      Array.from({ length: 10 }, () => keyring.lookup("registry.example.com/app:1")),
    );
    expect(results.every((r) => r.length === 1 && r[0]?.username === "plugin-user")).toBe(true);
    expect(await runs(counter)).toBe(1);
    // Once settled, the next lookup runs again (cacheDuration 0s).
    await keyring.lookup("registry.example.com/app:1");
    expect(await runs(counter)).toBe(2);
  });

  it("a failed run is not cached", async () => {
    const { keyring } = await pluginKeyring('cat > /dev/null; echo run >> "$COUNTER"; exit 1');
    await keyring.lookup("registry.example.com/app");
    await keyring.lookup("registry.example.com/app");
    expect(await runs(counter)).toBe(2);
  });
});

describe("plugin metrics", () => {
  it("records duration per run and errors per failed run, labelled by plugin name", async () => {
    const registry = new Registry();
    const ok = await pluginKeyring(
      respondingScript(response({ auth: goodAuth, cacheDuration: "0s" })),
      {},
      { registry },
    );
    await ok.keyring.lookup("registry.example.com/a");
    await ok.keyring.lookup("registry.example.com/b");

    testIndex += 1;
    const failing = await pluginKeyring("cat > /dev/null; exit 2", {}, { registry });
    await failing.keyring.lookup("registry.example.com/a");
    testIndex += 1;
    // Garbage output: the run succeeded; as in the kubelet, only failed runs count as errors.
    const garbage = await pluginKeyring("cat > /dev/null; echo nope", {}, { registry });
    await garbage.keyring.lookup("registry.example.com/a");

    const errors = await registry.getSingleMetric("kubelet_kubelet_credential_provider_plugin_errors")?.get();
    expect(errors?.values).toEqual([{ labels: { plugin_name: failing.name }, value: 1 }]);
    const duration = await registry
      .getSingleMetric("kubelet_kubelet_credential_provider_plugin_duration")
      ?.get();
    const counts = Object.fromEntries(
      (
        (duration?.values ?? []) as Array<{
          metricName?: string;
          labels: Record<string, unknown>;
          value: number;
        }>
      )
        .filter((v) => v.metricName === "kubelet_kubelet_credential_provider_plugin_duration_count")
        .map((v) => [v.labels.plugin_name, v.value]),
    );
    expect(counts).toEqual({ [ok.name]: 2, [failing.name]: 1, [garbage.name]: 1 });
    const text = await registry.metrics();
    expect(text).toContain("# TYPE kubelet_kubelet_credential_provider_plugin_duration histogram");
    expect(text).toContain(
      `kubelet_kubelet_credential_provider_plugin_errors{plugin_name="${failing.name}"} 1`,
    );
  });
});

describe("errors thrown into the logger", () => {
  it("are NodeletErrors even when a plugin path fails oddly", async () => {
    const { keyring, log } = await pluginKeyring("exit 0");
    expect(await keyring.lookup("registry.example.com/a")).toEqual([]);
    expect(log.errors[0]).toBeInstanceOf(NodeletError);
    expect(log.errors[0]?.message).toMatch(/wrote 0 bytes to stdout that are not JSON/);
  });
});
