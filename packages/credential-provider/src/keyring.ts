import { AuthConfig } from "@nodelet/cri-api";
import { DOCKER_HUB_ALIASES, isDockerHubImage, normalizeImage } from "@nodelet/runtime-api";
import type { DockerConfigEntry } from "./docker-config.js";
import { parseSchemelessUrl, type SchemelessUrl, tryParseSchemelessUrl, urlsMatch } from "./url-match.js";

/**
 * The index key of a credential, as the kubelet's keyring Add computes it: `https://` is assumed
 * when there is no http(s) scheme, a leading `/v1/` or `/v2/` is dropped, and the key is
 * `host[:port][/path]`. Returns the reason when the location does not parse.
 */
export function normalizeRegistryKey(location: string): { key: string } | { error: string } {
  const schemeless = location.startsWith("https://")
    ? location.slice("https://".length)
    : location.startsWith("http://")
      ? location.slice("http://".length)
      : location;
  const parsed = parseSchemelessUrl(schemeless);
  if ("error" in parsed) return parsed;
  let path = parsed.path;
  if (path.startsWith("/v1/") || path.startsWith("/v2/")) path = path.slice(3);
  return { key: path !== "" && path !== "/" ? parsed.hostPort + path : parsed.hostPort };
}

/** Credentials indexed by registry key, looked up like the kubelet's BasicDockerKeyring. */
export interface StaticKeyring {
  /** The index: deduplicated keys, reverse-sorted so longer, more specific keys come first. */
  readonly keys: readonly string[];
  /** Every matching credential, in index order; Docker Hub aliases when nothing else matched. */
  lookup(image: string): AuthConfig[];
}

export interface StaticKeyringOptions {
  /** Called for an entry whose key does not parse (that entry is left out). */
  onWarning?: ((message: string) => void) | undefined;
  /** Names the entries' origin in warnings (a file, a secret). */
  source?: string | undefined;
}

function toAuthConfig(entry: DockerConfigEntry): AuthConfig {
  return AuthConfig.fromPartial({
    username: entry.username,
    password: entry.password,
    identityToken: entry.identityToken,
    registryToken: entry.registryToken,
  });
}

function reverseCompare(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

/**
 * A keyring over fixed entries (a parsed docker config, pull secrets, a plugin's answer).
 * Entries under the same key keep their order; keys are reverse-sorted.
 */
export function createStaticKeyring(
  entries: Iterable<readonly [string, DockerConfigEntry]>,
  options: StaticKeyringOptions = {},
): StaticKeyring {
  const creds = new Map<string, DockerConfigEntry[]>();
  for (const [location, entry] of entries) {
    const normalized = normalizeRegistryKey(location);
    if ("error" in normalized) {
      const where = options.source === undefined ? "" : `${options.source}: `;
      options.onWarning?.(
        `${where}entry ${JSON.stringify(location)} is not a registry location (${normalized.error}); ignoring it`,
      );
      continue;
    }
    const list = creds.get(normalized.key);
    if (list) list.push(entry);
    else creds.set(normalized.key, [entry]);
  }
  const keys = [...creds.keys()].sort(reverseCompare);
  const index: Array<{ key: string; url: SchemelessUrl | undefined; entries: DockerConfigEntry[] }> =
    keys.map((key) => ({
      key,
      url: tryParseSchemelessUrl(key),
      entries: creds.get(key) as DockerConfigEntry[],
    }));

  return {
    keys,
    lookup(image: string): AuthConfig[] {
      const repo = normalizeImage(image);
      const target = repo === "" ? undefined : tryParseSchemelessUrl(repo);
      if (target === undefined) return [];
      const found: AuthConfig[] = [];
      for (const { url, entries: list } of index) {
        if (url !== undefined && urlsMatch(url, target)) found.push(...list.map(toAuthConfig));
      }
      if (found.length > 0 || !isDockerHubImage(repo)) return found;
      // Docker Hub: credentials written for its other names (`https://index.docker.io/v1/` → index.docker.io).
      for (const { url, entries: list } of index) {
        if (
          url !== undefined &&
          url.port === "" &&
          DOCKER_HUB_ALIASES.includes(url.hostname) &&
          target.path.startsWith(url.path)
        ) {
          found.push(...list.map(toAuthConfig));
        }
      }
      return found;
    },
  };
}
