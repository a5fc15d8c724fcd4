import { isNodeletError, type V1Secret } from "@nodelet/runtime-api";
import { decodeBase64Strict } from "./base64.js";
import { type DockerConfigEntry, parseDockerConfigJson, parseDockercfg } from "./docker-config.js";
import { createStaticKeyring, type StaticKeyring } from "./keyring.js";

export const SECRET_TYPE_DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson";
export const SECRET_TYPE_DOCKERCFG = "kubernetes.io/dockercfg";

export interface PullSecretOptions {
  /** Called for each secret or entry that was skipped; the message names the secret, never a value. */
  onWarning?: ((message: string) => void) | undefined;
}

function secretName(secret: V1Secret): string {
  const name = secret.metadata?.name ?? "(unnamed)";
  const namespace = secret.metadata?.namespace;
  return `pull secret ${namespace ? `${namespace}/` : ""}${name}`;
}

/**
 * The registry entries of the pod's pull secrets, in secret order: `.dockerconfigjson` of
 * `kubernetes.io/dockerconfigjson` secrets and `.dockercfg` of `kubernetes.io/dockercfg` secrets.
 * Other types are ignored; a malformed secret is reported and skipped, a malformed entry left out.
 */
export function parsePullSecrets(
  secrets: readonly V1Secret[],
  options: PullSecretOptions = {},
): Array<[string, DockerConfigEntry]> {
  const entries: Array<[string, DockerConfigEntry]> = [];
  for (const secret of secrets) {
    const type = secret.type;
    const dataKey =
      type === SECRET_TYPE_DOCKER_CONFIG_JSON
        ? ".dockerconfigjson"
        : type === SECRET_TYPE_DOCKERCFG
          ? ".dockercfg"
          : undefined;
    if (dataKey === undefined) continue;
    const source = secretName(secret);
    const encoded = secret.data?.[dataKey];
    if (typeof encoded !== "string" || encoded === "") {
      options.onWarning?.(`${source} of type ${type} has no ${dataKey} data; skipping it`);
      continue;
    }
    const decoded = decodeBase64Strict(encoded);
    if (decoded === undefined) {
      options.onWarning?.(`${source}: ${dataKey} is not valid base64; skipping it`);
      continue;
    }
    const parseOptions = { source, onWarning: options.onWarning };
    try {
      const text = decoded.toString("utf8");
      const config =
        dataKey === ".dockerconfigjson"
          ? parseDockerConfigJson(text, parseOptions)
          : parseDockercfg(text, parseOptions);
      entries.push(...config);
    } catch (error) {
      if (!isNodeletError(error)) throw error;
      options.onWarning?.(`${error.message}; skipping it`);
    }
  }
  return entries;
}

/** One keyring over all the pod's pull secrets (one index, as the kubelet builds it). */
export function createPullSecretKeyring(
  secrets: readonly V1Secret[],
  options: PullSecretOptions = {},
): StaticKeyring {
  return createStaticKeyring(parsePullSecrets(secrets, options), { onWarning: options.onWarning });
}
