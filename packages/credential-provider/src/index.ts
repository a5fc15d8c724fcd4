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
export type { SchemelessUrl } from "./url-match.js";
export { matchPatternProblem, parseSchemelessUrl, urlsMatch, urlsMatchString } from "./url-match.js";
