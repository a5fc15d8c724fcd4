import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AuthConfig } from "@nodelet/cri-api";
import { createManualClock, type V1Secret } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyring, createPluginKeyring, dedupeAuthConfigs, type PluginKeyring } from "../src/index.js";
import { makeTempDir, providerConfig, respondingScript, response, writePlugin } from "./support/plugins.js";
import { b64, expectNoSecrets, recordingLogger } from "./support/secrets.js";

let base: string;
let nodeDirs: { rootDir: string; cwd: string; homeDir: string; fsRoot: string };
let binDir: string;

beforeAll(async () => {
  base = await makeTempDir("nodelet-cp-keyring-");
  nodeDirs = {
    rootDir: join(base, "root"),
    cwd: join(base, "cwd"),
    homeDir: join(base, "home"),
    fsRoot: join(base, "fs"),
  };
  for (const d of Object.values(nodeDirs)) await mkdir(d, { recursive: true });
  binDir = join(base, "bin");
  await mkdir(binDir);
  await writeFile(
    join(nodeDirs.rootDir, "config.json"),
    JSON.stringify({
      auths: {
        "registry.example.com": { auth: b64("node-user:s3cr3t-pa55") },
        // Same as the pull secret's: reported once.
        "registry.example.com/team": { username: "secret-user", password: "other-pw-7" },
      },
    }),
  );
  await writePlugin(
    binDir,
    "good",
    respondingScript(
      response({ auth: { "*.example.com": { username: "plugin-user", password: "plugin-pw-9000" } } }),
    ).replace('echo run >> "$COUNTER"', ""),
  );
  await writePlugin(
    binDir,
    "crashing",
    'cat > /dev/null; echo "plugin-pw-9000 leaked? no: stderr only" >&2; exit 1',
  );
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const pullSecrets: V1Secret[] = [
  {
    metadata: { name: "regcred", namespace: "team" },
    type: "kubernetes.io/dockerconfigjson",
    data: {
      ".dockerconfigjson": b64(
        JSON.stringify({
          auths: { "registry.example.com/team": { username: "secret-user", password: "other-pw-7" } },
        }),
      ),
    },
  },
];

function users(auths: AuthConfig[]): string[] {
  return auths.map((a) => a.username);
}

async function plugins(names: string[]): Promise<PluginKeyring> {
  return createPluginKeyring({
    config: providerConfig(names.map((name) => ({ name }))),
    binDir,
    logger: recordingLogger().logger,
    clock: createManualClock(1_000_000),
  });
}

describe("createKeyring", () => {
  it("returns pull secrets, node config, then plugins; duplicates once", async () => {
    const keyring = createKeyring({ nodeConfig: nodeDirs, plugins: await plugins(["good"]) });
    expect(users(await keyring.lookup("registry.example.com/team/app:1", { pullSecrets }))).toEqual([
      "secret-user",
      "node-user",
      "plugin-user",
    ]);
    // Without the pull secret, the node's copy of that credential takes its place.
    expect(users(await keyring.lookup("registry.example.com/team/app:1"))).toEqual([
      "secret-user",
      "node-user",
      "plugin-user",
    ]);
    expect(users(await keyring.lookup("registry.example.com/other/app"))).toEqual([
      "node-user",
      "plugin-user",
    ]);
  });

  it("is empty when nothing matches", async () => {
    const keyring = createKeyring({ nodeConfig: nodeDirs, plugins: await plugins(["good"]) });
    expect(await keyring.lookup("quay.io/x", { pullSecrets })).toEqual([]);
    expect(await createKeyring({ nodeConfig: false }).lookup("registry.example.com/x")).toEqual([]);
  });

  it("a failing plugin is logged and the other credentials are still returned", async () => {
    const log = recordingLogger();
    const keyring = createKeyring({
      nodeConfig: nodeDirs,
      plugins: await createPluginKeyring({
        config: providerConfig([{ name: "crashing" }, { name: "good" }]),
        binDir,
        logger: log.logger,
      }),
      logger: log.logger,
    });
    expect(users(await keyring.lookup("registry.example.com/team/app", { pullSecrets }))).toEqual([
      "secret-user",
      "node-user",
      "plugin-user",
    ]);
    expect(log.errors).toHaveLength(1);
    expect(log.errors[0]?.message).toMatch(/plugin "crashing" .* exited with code 1/);
  });

  it("never rejects: a broken source is logged as CredentialProviderError", async () => {
    const log = recordingLogger();
    const broken: PluginKeyring = {
      providers: [],
      lookup: () => Promise.reject(new Error("boom")),
    };
    const keyring = createKeyring({ nodeConfig: nodeDirs, plugins: broken, logger: log.logger });
    expect(users(await keyring.lookup("registry.example.com/app"))).toEqual(["node-user"]);
    expect(log.errors[0]).toMatchObject({
      code: "CredentialProviderError",
      message: "credential provider plugin lookup failed: boom",
    });
  });

  it("reports malformed pull secrets through the logger and uses the rest", async () => {
    const log = recordingLogger();
    const keyring = createKeyring({ nodeConfig: false, logger: log.logger });
    const bad: V1Secret = {
      metadata: { name: "broken", namespace: "team" },
      type: "kubernetes.io/dockercfg",
      data: { ".dockercfg": b64('{"registry.example.com": {"auth": "s3cr3t-pa55"}}') },
    };
    expect(
      users(await keyring.lookup("registry.example.com/team/x", { pullSecrets: [bad, ...pullSecrets] })),
    ).toEqual(["secret-user"]);
    expect(log.warnings).toEqual([
      'pull secret team/broken: entry "registry.example.com" field "auth" is not valid base64; ignoring it',
    ]);
    expectNoSecrets(log.allText());
  });
});

describe("dedupeAuthConfigs", () => {
  it("keeps the first of equal credentials", () => {
    const a = {
      username: "a",
      password: "1",
      auth: "",
      serverAddress: "",
      identityToken: "",
      registryToken: "",
    };
    const b = { ...a, password: "2" };
    expect(dedupeAuthConfigs([a, b, { ...a }, { ...b, identityToken: "t" }])).toEqual([
      a,
      b,
      { ...b, identityToken: "t" },
    ]);
  });
});
