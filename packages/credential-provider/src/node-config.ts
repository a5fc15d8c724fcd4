import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { AuthConfig } from "@nodelet/cri-api";
import {
  type Clock,
  DEFAULT_MAX_FILE_BYTES,
  isNodeletError,
  type Logger,
  type RegularFile,
  RegularFileError,
  readRegularFile,
  systemClock,
} from "@nodelet/runtime-api";
import { type DockerConfig, parseDockerConfigJson, parseDockercfg } from "./docker-config.js";
import { createStaticKeyring, type StaticKeyring } from "./keyring.js";
import { consoleKeyringLogger } from "./logger.js";

/** The kubelet caches the node's docker config for 5 minutes. */
export const NODE_CONFIG_CACHE_TTL_MS = 5 * 60 * 1000;

export interface NodeDockerConfigOptions {
  /** The kubelet's root directory: searched first (the preferred path). */
  rootDir?: string | undefined;
  /** Default: process.cwd() at each read. */
  cwd?: string | undefined;
  /** Default: os.homedir() ($HOME). */
  homeDir?: string | undefined;
  /** The filesystem root for `/.docker` and `/.dockercfg`. Default "/". */
  fsRoot?: string | undefined;
  clock?: Clock | undefined;
  /** How long a read is used before the files are searched again. Default 5 minutes. */
  cacheTtlMs?: number | undefined;
  /** Larger files are skipped with a warning. Default 1 MiB. */
  maxFileBytes?: number | undefined;
  logger?: Logger | undefined;
}

export interface DockerConfigCandidate {
  path: string;
  format: "config.json" | ".dockercfg";
}

/**
 * The files searched, in order: `config.json` in [rootDir, cwd, $HOME/.docker, /.docker], then
 * `.dockercfg` in [rootDir, cwd, $HOME, /]. Duplicates are dropped.
 */
export function dockerConfigSearchPaths(options: NodeDockerConfigOptions = {}): DockerConfigCandidate[] {
  const cwd = options.cwd ?? process.cwd();
  const home = options.homeDir ?? homedir();
  const root = options.fsRoot ?? "/";
  const preferred = options.rootDir === undefined || options.rootDir === "" ? [] : [options.rootDir];
  const candidates: DockerConfigCandidate[] = [
    ...[...preferred, cwd, join(home, ".docker"), join(root, ".docker")].map((dir) => ({
      path: join(dir, "config.json"),
      format: "config.json" as const,
    })),
    ...[...preferred, cwd, home, root].map((dir) => ({
      path: join(dir, ".dockercfg"),
      format: ".dockercfg" as const,
    })),
  ];
  const seen = new Set<string>();
  return candidates.filter((c) => {
    if (seen.has(c.path)) return false;
    seen.add(c.path);
    return true;
  });
}

/** What the node's docker config provider is using. */
export interface NodeDockerConfigSnapshot {
  /** The file read, or undefined when none of the candidates was usable. */
  path: string | undefined;
  config: DockerConfig;
}

/** The node's docker config as a keyring source, cached like the kubelet's. */
export interface NodeDockerConfigKeyring {
  lookup(image: string): Promise<AuthConfig[]>;
  /** The file in use and its entries (reading the files if the cache is stale). */
  snapshot(): Promise<NodeDockerConfigSnapshot>;
}

interface CacheState {
  snapshot: NodeDockerConfigSnapshot;
  keyring: StaticKeyring;
  expiresAt: number;
  file: { path: string; mtimeMs: number; size: number } | undefined;
}

/**
 * Reads the first valid file of `dockerConfigSearchPaths` and keeps it for 5 minutes; it is read
 * again earlier when that file's mtime or size changed (or it is gone). Only regular files up to
 * `maxFileBytes` are read. Unusable files and malformed entries are reported through the logger.
 */
export function createNodeDockerConfigKeyring(
  options: NodeDockerConfigOptions = {},
): NodeDockerConfigKeyring {
  const clock = options.clock ?? systemClock;
  const ttl = options.cacheTtlMs ?? NODE_CONFIG_CACHE_TTL_MS;
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const logger = options.logger ?? consoleKeyringLogger;
  let cache: CacheState | undefined;
  let refreshing: Promise<CacheState> | undefined;

  async function readFirstValid(): Promise<CacheState> {
    const warn = (message: string) => logger.warn(message);
    for (const candidate of dockerConfigSearchPaths(options)) {
      let read: RegularFile;
      try {
        read = await readRegularFile(candidate.path, { maxBytes });
      } catch (error) {
        if (!(error instanceof RegularFileError)) throw error;
        if (error.problem !== "missing") warn(`docker config ${candidate.path} ${error.detail}; skipping it`);
        continue;
      }
      const parseOptions = { source: candidate.path, onWarning: warn };
      let config: DockerConfig;
      try {
        config =
          candidate.format === "config.json"
            ? parseDockerConfigJson(read.text, parseOptions)
            : parseDockercfg(read.text, parseOptions);
      } catch (error) {
        if (!isNodeletError(error)) throw error;
        warn(`${error.message}; skipping it`);
        continue;
      }
      return {
        snapshot: { path: candidate.path, config },
        keyring: createStaticKeyring(config, parseOptions),
        expiresAt: clock.now() + ttl,
        file: { path: candidate.path, mtimeMs: read.mtimeMs, size: read.size },
      };
    }
    const config = new Map();
    return {
      snapshot: { path: undefined, config },
      keyring: createStaticKeyring(config),
      expiresAt: clock.now() + ttl,
      file: undefined,
    };
  }

  async function unchanged(state: CacheState): Promise<boolean> {
    if (clock.now() >= state.expiresAt) return false;
    if (state.file === undefined) return true;
    try {
      const s = await stat(state.file.path);
      return s.mtimeMs === state.file.mtimeMs && s.size === state.file.size;
    } catch {
      return false;
    }
  }

  async function current(): Promise<CacheState> {
    if (cache !== undefined && (await unchanged(cache))) return cache;
    if (refreshing === undefined) {
      refreshing = readFirstValid().then(
        (state) => {
          cache = state;
          refreshing = undefined;
          return state;
        },
        (error: unknown) => {
          refreshing = undefined;
          throw error;
        },
      );
    }
    return refreshing;
  }

  return {
    async lookup(image) {
      return (await current()).keyring.lookup(image);
    },
    async snapshot() {
      return (await current()).snapshot;
    },
  };
}
