export type { KeyringOptions } from "./create-keyring.js";
export { createKeyring, dedupeAuthConfigs } from "./create-keyring.js";
export type { DockerConfig, DockerConfigEntry, ParseDockerConfigOptions } from "./docker-config.js";
export { parseDockerConfigEntries, parseDockerConfigJson, parseDockercfg } from "./docker-config.js";
export { globMatch, isValidGlob } from "./glob.js";
export type { StaticKeyring, StaticKeyringOptions } from "./keyring.js";
export { createStaticKeyring, normalizeRegistryKey } from "./keyring.js";
export { consoleKeyringLogger } from "./logger.js";
export type { CredentialProviderMetrics } from "./metrics.js";
export { credentialProviderMetrics, PLUGIN_DURATION_METRIC, PLUGIN_ERRORS_METRIC } from "./metrics.js";
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
export type {
  ConfigFieldError,
  CredentialProvider,
  CredentialProviderApiVersion,
  CredentialProviderConfig,
  CredentialProviderEnvVar,
} from "./plugin-config.js";
export {
  CREDENTIAL_PROVIDER_API_VERSIONS,
  CREDENTIAL_PROVIDER_CONFIG_API_VERSIONS,
  loadCredentialProviderConfig,
  parseCredentialProviderConfig,
} from "./plugin-config.js";
export type { PluginSpawn, PluginSpawnOptions } from "./plugin-exec.js";
export { DEFAULT_PLUGIN_MAX_OUTPUT_BYTES, DEFAULT_PLUGIN_TIMEOUT_MS } from "./plugin-exec.js";
export type { PluginKeyring, PluginKeyringOptions } from "./plugin-keyring.js";
export { createPluginKeyring } from "./plugin-keyring.js";
export type { CredentialProviderResponse, PluginCacheKeyType } from "./plugin-response.js";
export { decodeCredentialProviderResponse } from "./plugin-response.js";
export type { PullSecretOptions } from "./pull-secrets.js";
export {
  createPullSecretKeyring,
  parsePullSecrets,
  SECRET_TYPE_DOCKER_CONFIG_JSON,
  SECRET_TYPE_DOCKERCFG,
} from "./pull-secrets.js";
export type { SchemelessUrl } from "./url-match.js";
export { matchPatternProblem, parseSchemelessUrl, urlsMatch, urlsMatchString } from "./url-match.js";
