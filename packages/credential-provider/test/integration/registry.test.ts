import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AuthConfig, ImageSpec } from "@nodelet/cri-api";
import { createRemoteImageService } from "@nodelet/cri-remote";
import {
  createManualClock,
  type ImageManagerService,
  isRegistryUnauthorized,
  type Logger,
  NodeletError,
  noopLogger,
  type V1Secret,
} from "@nodelet/runtime-api";
import { readTestEnv, type TestEnv } from "@nodelet/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyring, createPluginKeyring } from "../../src/index.js";

let env: TestEnv;
let images: ImageManagerService;
let work: string;
const reported: string[] = [];
const record = (fieldsOrMsg: object | string, msg?: string) =>
  reported.push(typeof fieldsOrMsg === "string" ? fieldsOrMsg : (msg ?? ""));
const logger: Logger = { ...noopLogger, warn: record, error: record };

beforeAll(async () => {
  env = await readTestEnv();
  images = await createRemoteImageService(env.criEndpoint);
  work = await mkdtemp(join(tmpdir(), "nodelet-cp-it-"));
});

afterAll(async () => {
  // Nothing pulled here is removed: busybox:1.36 in the auth registry is shared with other suites.
  images?.close();
  await rm(work, { recursive: true, force: true });
  // Whatever went wrong, no message the keyring reported may hold the password.
  for (const message of reported) expect(message).not.toContain(env.auth.password);
});

function b64(text: string): string {
  return Buffer.from(text).toString("base64");
}

/** A node search that sees only `rootDir` (no cwd, $HOME or / files of this machine). */
async function isolatedNodeConfig(name: string) {
  const dir = join(work, name);
  const dirs = {
    rootDir: join(dir, "root"),
    cwd: join(dir, "cwd"),
    homeDir: join(dir, "home"),
    fsRoot: join(dir, "fs"),
  };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
  return dirs;
}

/**
 * Pulls as the kubelet does: each credential in order until one works, anonymous only when the
 * keyring returned none. Counts the PullImage calls.
 */
async function pullWithCredentials(
  image: string,
  credentials: AuthConfig[],
): Promise<{ attempts: AuthConfig[]; ref?: string; error?: NodeletError }> {
  const attempts: AuthConfig[] = [];
  let error: NodeletError | undefined;
  for (const auth of credentials.length > 0 ? credentials : [undefined]) {
    if (auth) attempts.push(auth);
    try {
      const ref = await images.pullImage(ImageSpec.fromPartial({ image }), auth, undefined);
      return { attempts, ref };
    } catch (e) {
      error = e as NodeletError;
    }
  }
  return { attempts, ...(error ? { error } : {}) };
}

describe("credentials against the basic-auth registry", () => {
  it("needs credentials: an anonymous pull is refused (the runtime asks the registry every time)", async () => {
    const result = await pullWithCredentials(env.images.authBusybox, []);
    expect(result.error?.message).toMatch(/401 Unauthorized/);
  });

  it("(a) pulls with a node config.json found in the root dir", async () => {
    const dirs = await isolatedNodeConfig("node");
    await writeFile(
      join(dirs.rootDir, "config.json"),
      JSON.stringify({
        auths: {
          [`http://${env.registries.auth}`]: { auth: b64(`${env.auth.username}:${env.auth.password}`) },
        },
      }),
    );
    const keyring = createKeyring({ nodeConfig: dirs, logger });
    const credentials = await keyring.lookup(env.images.authBusybox);
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({ username: env.auth.username, password: env.auth.password });

    const result = await pullWithCredentials(env.images.authBusybox, credentials);
    expect(result.error).toBeUndefined();
    expect(result.ref).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.attempts).toHaveLength(1);
  });

  it("(b) pulls with a kubernetes.io/dockerconfigjson pull secret", async () => {
    const secret: V1Secret = {
      metadata: { name: "regcred", namespace: "credential-provider-it" },
      type: "kubernetes.io/dockerconfigjson",
      data: {
        ".dockerconfigjson": b64(
          JSON.stringify({
            auths: { [env.registries.auth]: { username: env.auth.username, password: env.auth.password } },
          }),
        ),
      },
    };
    const keyring = createKeyring({ nodeConfig: false, logger });
    expect(await keyring.lookup(env.images.authBusybox)).toEqual([]);
    const credentials = await keyring.lookup(env.images.authBusybox, { pullSecrets: [secret] });
    expect(credentials).toHaveLength(1);

    const result = await pullWithCredentials(env.images.authBusybox, credentials);
    expect(result.error).toBeUndefined();
    expect(result.ref).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("(c) pulls with an exec plugin's credentials; the Registry cache answers later lookups without running it", async () => {
    const binDir = join(work, "bin");
    await mkdir(binDir, { recursive: true });
    const counter = join(work, "plugin-runs");
    const responseFile = join(work, "plugin-response.json");
    await writeFile(
      responseFile,
      JSON.stringify({
        apiVersion: "credentialprovider.kubelet.k8s.io/v1",
        kind: "CredentialProviderResponse",
        cacheKeyType: "Registry",
        cacheDuration: "5m",
        auth: { [env.registries.auth]: { username: env.auth.username, password: env.auth.password } },
      }),
      { mode: 0o600 },
    );
    const plugin = join(binDir, "test-registry-credentials");
    await writeFile(plugin, '#!/bin/sh\ncat > /dev/null\necho run >> "$COUNTER"\ncat "$RESPONSE_FILE"\n');
    await chmod(plugin, 0o755);
    const configFile = join(work, "credential-providers.yaml");
    await writeFile(
      configFile,
      [
        "apiVersion: kubelet.config.k8s.io/v1",
        "kind: CredentialProviderConfig",
        "providers:",
        "  - name: test-registry-credentials",
        `    matchImages: ["${env.registries.auth}"]`,
        "    defaultCacheDuration: 1m",
        "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
        "    env:",
        `      - {name: COUNTER, value: "${counter}"}`,
        `      - {name: RESPONSE_FILE, value: "${responseFile}"}`,
      ].join("\n"),
    );
    const clock = createManualClock(Date.now());
    const keyring = createKeyring({
      nodeConfig: false,
      plugins: await createPluginKeyring({ config: configFile, binDir, clock, logger }),
      logger,
    });
    const runs = async () =>
      (await readFile(counter, "utf8").catch(() => "")).split("\n").filter(Boolean).length;

    // Three pulls, the first three lookups concurrent: one plugin run.
    const [first, ...others] = await Promise.all(
      Array.from({ length: 3 }, () => keyring.lookup(env.images.authBusybox)),
    );
    expect(await runs()).toBe(1);
    for (const credentials of [first, ...others]) {
      expect(credentials).toHaveLength(1);
      const result = await pullWithCredentials(env.images.authBusybox, credentials ?? []);
      expect(result.error).toBeUndefined();
      expect(result.ref).toMatch(/^sha256:/);
    }
    // Another repository of the same registry is served from the Registry cache entry.
    const other = await keyring.lookup(`${env.registries.auth}/other:1`);
    expect(other).toEqual(first);
    expect(await runs()).toBe(1);
    // An image of the plain registry does not match the plugin at all.
    expect(await keyring.lookup(env.images.busybox)).toEqual([]);
    expect(await runs()).toBe(1);
    // After the 5 minutes the plugin runs again.
    clock.advance(5 * 60 * 1000 + 1);
    expect(await keyring.lookup(env.images.authBusybox)).toHaveLength(1);
    expect(await runs()).toBe(2);
  });

  it("(d) a wrong password is returned, tried once, and the pull fails with the runtime's 401", async () => {
    const secret: V1Secret = {
      metadata: { name: "wrong", namespace: "credential-provider-it" },
      type: "kubernetes.io/dockercfg",
      data: {
        ".dockercfg": b64(
          JSON.stringify({ [env.registries.auth]: { auth: b64(`${env.auth.username}:not-the-password`) } }),
        ),
      },
    };
    const keyring = createKeyring({ nodeConfig: false, logger });
    const credentials = await keyring.lookup(env.images.authBusybox, { pullSecrets: [secret] });
    expect(credentials).toEqual([
      expect.objectContaining({ username: env.auth.username, password: "not-the-password" }),
    ]);

    const result = await pullWithCredentials(env.images.authBusybox, credentials);
    // One attempt with the credential; no anonymous retry after it failed.
    expect(result.attempts).toHaveLength(1);
    expect(result.ref).toBeUndefined();
    expect(result.error).toBeInstanceOf(NodeletError);
    expect(result.error?.message).toMatch(/401 Unauthorized/);
    expect(isRegistryUnauthorized(result.error)).toBe(true);
  });

  it("pull secrets come before the node config: the secret's good password wins over the node's bad one", async () => {
    const dirs = await isolatedNodeConfig("node-wrong");
    await writeFile(
      join(dirs.rootDir, "config.json"),
      JSON.stringify({
        auths: { [env.registries.auth]: { username: env.auth.username, password: "stale" } },
      }),
    );
    const secret: V1Secret = {
      metadata: { name: "good", namespace: "credential-provider-it" },
      type: "kubernetes.io/dockerconfigjson",
      data: {
        ".dockerconfigjson": b64(
          JSON.stringify({
            auths: { [env.registries.auth]: { auth: b64(`${env.auth.username}:${env.auth.password}`) } },
          }),
        ),
      },
    };
    const keyring = createKeyring({ nodeConfig: dirs, logger });
    const credentials = await keyring.lookup(env.images.authBusybox, { pullSecrets: [secret] });
    expect(credentials.map((c) => c.password === env.auth.password)).toEqual([true, false]);
    const result = await pullWithCredentials(env.images.authBusybox, credentials);
    expect(result.error).toBeUndefined();
    expect(result.attempts).toHaveLength(1);
  });
});
