export type { DockerConfig, DockerConfigEntry, ParseDockerConfigOptions } from "./docker-config.js";
export { parseDockerConfigEntries, parseDockerConfigJson, parseDockercfg } from "./docker-config.js";
export { globMatch, isValidGlob } from "./glob.js";
export {
  DOCKER_HUB_ALIASES,
  DOCKER_HUB_REGISTRY,
  isDockerHubImage,
  normalizeImage,
  registryOf,
  stripTagAndDigest,
} from "./image-name.js";
export type { StaticKeyring, StaticKeyringOptions } from "./keyring.js";
export { createStaticKeyring, normalizeRegistryKey } from "./keyring.js";
export type { KeyringLogger } from "./logger.js";
export { consoleKeyringLogger } from "./logger.js";
export type {
  DockerConfigCandidate,
  NodeDockerConfigKeyring,
  NodeDockerConfigOptions,
  NodeDockerConfigSnapshot,
} from "./node-config.js";
export {
  createNodeDockerConfigKeyring,
  dockerConfigSearchPaths,
  NODE_CONFIG_CACHE_TTL_MS,
} from "./node-config.js";
export type { PullSecretOptions } from "./pull-secrets.js";
export {
  createPullSecretKeyring,
  parsePullSecrets,
  SECRET_TYPE_DOCKER_CONFIG_JSON,
  SECRET_TYPE_DOCKERCFG,
} from "./pull-secrets.js";
export type { SchemelessUrl } from "./url-match.js";
export { matchPatternProblem, parseSchemelessUrl, urlsMatch, urlsMatchString } from "./url-match.js";
