import { spawn as nodeSpawn } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { AuthConfig } from "@nodelet/cri-api";
import {
  type Clock,
  ErrorCode,
  type Logger,
  NodeletError,
  normalizeImage,
  registryOf,
  systemClock,
} from "@nodelet/runtime-api";
import type { Registry } from "prom-client";
import type { DockerConfigEntry } from "./docker-config.js";
import { createStaticKeyring } from "./keyring.js";
import { consoleKeyringLogger, logSourceError } from "./logger.js";
import { type CredentialProviderMetrics, credentialProviderMetrics } from "./metrics.js";
import { createExpiringCache } from "./plugin-cache.js";
import {
  type CredentialProvider,
  type CredentialProviderConfig,
  loadCredentialProviderConfig,
} from "./plugin-config.js";
import {
  DEFAULT_PLUGIN_MAX_OUTPUT_BYTES,
  DEFAULT_PLUGIN_TIMEOUT_MS,
  execPlugin,
  type PluginSpawn,
} from "./plugin-exec.js";
import { type CredentialProviderResponse, decodeCredentialProviderResponse } from "./plugin-response.js";
import { urlsMatchString } from "./url-match.js";

const GLOBAL_CACHE_KEY = "<global>";

export interface PluginKeyringOptions {
  /** A CredentialProviderConfig file (YAML or JSON), or a config already parsed. */
  config: string | CredentialProviderConfig;
  /** The kubelet's --image-credential-provider-bin-dir: each plugin is `<binDir>/<name>`. */
  binDir: string;
  /** Drives the answer cache. Default: the system clock. */
  clock?: Clock | undefined;
  logger?: Logger | undefined;
  /** Where the plugin metrics are registered; none recorded without it. */
  registry?: Registry | undefined;
  /** Default: node:child_process.spawn (no shell). */
  spawn?: PluginSpawn | undefined;
  /** Per run. Default 1 minute. */
  timeoutMs?: number | undefined;
  /** Largest stdout accepted. Default 1 MiB. */
  maxOutputBytes?: number | undefined;
  /** The environment plugins inherit before their configured env. Default: process.env. */
  env?: NodeJS.ProcessEnv | undefined;
}

/** Exec credential-provider plugins as a keyring source. */
export interface PluginKeyring {
  readonly providers: readonly CredentialProvider[];
  /**
   * Credentials from every plugin whose matchImages match the image (cached answers first), their
   * auth keys matched against the image. A failing plugin is logged and contributes nothing.
   */
  lookup(image: string): Promise<AuthConfig[]>;
}

type Entries = ReadonlyArray<readonly [string, DockerConfigEntry]>;

async function checkBinary(
  file: string,
  provider: CredentialProvider,
  index: number,
  source: string,
): Promise<void> {
  const where = `providers[${index}].name in ${source}`;
  const fail = (what: string) =>
    new NodeletError(ErrorCode.InvalidConfig, `credential provider plugin ${file} (${where}) ${what}`, {
      details: { file: source, field: `providers[${index}].name`, plugin: provider.name, binary: file },
    });
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch {
    throw fail("does not exist; install the plugin in the bin dir or fix the name");
  }
  if (!isFile) throw fail("is not a regular file; point the name at the plugin binary");
  try {
    await access(file, constants.X_OK);
  } catch {
    throw fail("is not executable; make it executable (chmod +x)");
  }
}

function toEntries(response: CredentialProviderResponse): Entries {
  return [...response.auth].map(([key, { username, password }]) => [
    key,
    { username, password, email: "", identityToken: "", registryToken: "" },
  ]);
}

interface ProviderRuntime {
  provider: CredentialProvider;
  provide(image: string): Promise<Entries>;
}

function createProviderRuntime(
  provider: CredentialProvider,
  binary: string,
  settings: {
    clock: Clock;
    logger: Logger;
    metrics: CredentialProviderMetrics | undefined;
    spawn: PluginSpawn;
    timeoutMs: number;
    maxOutputBytes: number;
    env: NodeJS.ProcessEnv;
  },
): ProviderRuntime {
  const cache = createExpiringCache<Entries>(settings.clock);
  const inflight = new Map<string, Promise<Entries>>();
  const env: NodeJS.ProcessEnv = { ...settings.env };
  // The configured env wins over the inherited one.
  for (const { name, value } of provider.env) env[name] = value;

  async function run(image: string): Promise<Entries> {
    const started = performance.now();
    let stdout: Buffer;
    try {
      stdout = await execPlugin({
        name: provider.name,
        image,
        command: binary,
        args: provider.args,
        env,
        stdin: JSON.stringify({ apiVersion: provider.apiVersion, kind: "CredentialProviderRequest", image }),
        timeoutMs: settings.timeoutMs,
        maxOutputBytes: settings.maxOutputBytes,
        spawn: settings.spawn,
      });
    } catch (error) {
      // As the kubelet: the errors counter counts failed runs (start, timeout, exit status).
      settings.metrics?.errors.inc({ plugin_name: provider.name });
      throw error;
    } finally {
      settings.metrics?.duration.observe(
        { plugin_name: provider.name },
        (performance.now() - started) / 1000,
      );
    }
    const response = decodeCredentialProviderResponse(stdout, provider.apiVersion, {
      name: provider.name,
      image,
    });
    const entries = toEntries(response);
    const ttl = response.cacheDurationMs ?? provider.defaultCacheDurationMs;
    if (ttl > 0) {
      const key =
        response.cacheKeyType === "Image"
          ? `image:${image}`
          : response.cacheKeyType === "Registry"
            ? `registry:${registryOf(image)}`
            : GLOBAL_CACHE_KEY;
      cache.set(key, entries, ttl);
    }
    return entries;
  }

  return {
    provider,
    async provide(image) {
      const cached =
        cache.get(`image:${image}`) ??
        cache.get(`registry:${registryOf(image)}`) ??
        cache.get(GLOBAL_CACHE_KEY);
      if (cached !== undefined) return cached;
      // Concurrent lookups of one image share one run (the kubelet's singleflight, keyed by image).
      let pending = inflight.get(image);
      if (pending === undefined) {
        pending = run(image)
          .catch((error: unknown) => {
            logSourceError(settings.logger, NodeletError.from(error, ErrorCode.CredentialProviderError));
            return [] as Entries;
          })
          .finally(() => inflight.delete(image));
        inflight.set(image, pending);
      }
      return pending;
    },
  };
}

/**
 * Loads the plugin config (a file is read and validated) and checks each plugin binary exists
 * and is executable; any problem throws `InvalidConfig`, as the kubelet refuses to start.
 */
export async function createPluginKeyring(options: PluginKeyringOptions): Promise<PluginKeyring> {
  const source = typeof options.config === "string" ? options.config : "(inline config)";
  const config =
    typeof options.config === "string" ? await loadCredentialProviderConfig(options.config) : options.config;
  const settings = {
    clock: options.clock ?? systemClock,
    logger: options.logger ?? consoleKeyringLogger,
    metrics: options.registry ? credentialProviderMetrics(options.registry) : undefined,
    spawn: options.spawn ?? nodeSpawn,
    timeoutMs: options.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS,
    maxOutputBytes: options.maxOutputBytes ?? DEFAULT_PLUGIN_MAX_OUTPUT_BYTES,
    env: options.env ?? process.env,
  };
  const runtimes: ProviderRuntime[] = [];
  for (const [i, provider] of config.providers.entries()) {
    const binary = join(options.binDir, provider.name);
    await checkBinary(binary, provider, i, source);
    runtimes.push(createProviderRuntime(provider, binary, settings));
  }

  return {
    providers: config.providers,
    async lookup(image) {
      const repo = normalizeImage(image);
      if (repo === "") return [];
      const matching = runtimes.filter((r) => r.provider.matchImages.some((p) => urlsMatchString(p, repo)));
      if (matching.length === 0) return [];
      const answers = await Promise.all(matching.map((r) => r.provide(repo)));
      // One index over all plugins' answers, as the kubelet's keyring adds every provider's config.
      return createStaticKeyring(answers.flat(), {
        source: "credential provider plugin answer",
        onWarning: (message) => settings.logger.warn(message),
      }).lookup(repo);
    },
  };
}
