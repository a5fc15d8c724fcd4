import { describe, expect, it } from "vitest";
import * as api from "../src/index.js";

describe("public API", () => {
  it("exports exactly these values", () => {
    expect(Object.keys(api).sort()).toEqual([
      "CREDENTIAL_PROVIDER_API_VERSIONS",
      "CREDENTIAL_PROVIDER_CONFIG_API_VERSIONS",
      "DEFAULT_PLUGIN_MAX_OUTPUT_BYTES",
      "DEFAULT_PLUGIN_TIMEOUT_MS",
      "NODE_CONFIG_CACHE_TTL_MS",
      "PLUGIN_DURATION_METRIC",
      "PLUGIN_ERRORS_METRIC",
      "SECRET_TYPE_DOCKERCFG",
      "SECRET_TYPE_DOCKER_CONFIG_JSON",
      "consoleKeyringLogger",
      "createKeyring",
      "createNodeDockerConfigKeyring",
      "createPluginKeyring",
      "createPullSecretKeyring",
      "createStaticKeyring",
      "credentialProviderMetrics",
      "decodeCredentialProviderResponse",
      "dedupeAuthConfigs",
      "dockerConfigSearchPaths",
      "globMatch",
      "isValidGlob",
      "loadCredentialProviderConfig",
      "matchPatternProblem",
      "normalizeRegistryKey",
      "parseCredentialProviderConfig",
      "parseDockerConfigEntries",
      "parseDockerConfigJson",
      "parseDockercfg",
      "parsePullSecrets",
      "parseSchemelessUrl",
      "urlsMatch",
      "urlsMatchString",
    ]);
  });

  it("createKeyring is a DockerKeyring of @nodelet/runtime-api", () => {
    const keyring: import("@nodelet/runtime-api").DockerKeyring = api.createKeyring({ nodeConfig: false });
    expect(typeof keyring.lookup).toBe("function");
  });
});
