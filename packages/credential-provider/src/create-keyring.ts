import type { AuthConfig } from "@nodelet/cri-api";
import {
  type Clock,
  type DockerKeyring,
  ErrorCode,
  errorMessage,
  type Logger,
  NodeletError,
  type V1Secret,
} from "@nodelet/runtime-api";
import { consoleKeyringLogger, logSourceError } from "./logger.js";
import { createNodeDockerConfigKeyring, type NodeDockerConfigOptions } from "./node-config.js";
import type { PluginKeyring } from "./plugin-keyring.js";
import { createPullSecretKeyring } from "./pull-secrets.js";

export interface KeyringOptions {
  /** The node's docker config search (rootDir, cache...); `false` leaves the node's files out. */
  nodeConfig?: NodeDockerConfigOptions | false | undefined;
  /** Exec plugins, from `createPluginKeyring`. */
  plugins?: PluginKeyring | undefined;
  /** Default for the node config's clock. */
  clock?: Clock | undefined;
  /** Default: the console. */
  logger?: Logger | undefined;
}

function sameAuth(a: AuthConfig, b: AuthConfig): boolean {
  return (
    a.username === b.username &&
    a.password === b.password &&
    a.auth === b.auth &&
    a.serverAddress === b.serverAddress &&
    a.identityToken === b.identityToken &&
    a.registryToken === b.registryToken
  );
}

/** Drops later copies of a credential, keeping the first position. */
export function dedupeAuthConfigs(configs: readonly AuthConfig[]): AuthConfig[] {
  const out: AuthConfig[] = [];
  for (const c of configs) if (!out.some((o) => sameAuth(o, c))) out.push(c);
  return out;
}

/**
 * The kubelet's keyring: the pod's pull secrets, then the node's docker config, then the exec
 * plugins whose matchImages match; every matching credential in that order, duplicates removed.
 * Empty when nothing matches (the pull is then anonymous). `lookup` never rejects: a failing
 * source is logged and contributes nothing.
 */
export function createKeyring(options: KeyringOptions = {}): DockerKeyring {
  const logger = options.logger ?? consoleKeyringLogger;
  const node =
    options.nodeConfig === false
      ? undefined
      : createNodeDockerConfigKeyring({
          ...(options.clock ? { clock: options.clock } : {}),
          logger,
          ...options.nodeConfig,
        });
  const plugins = options.plugins;
  const guarded = async (what: string, lookup: () => Promise<AuthConfig[]>): Promise<AuthConfig[]> => {
    try {
      return await lookup();
    } catch (error) {
      logSourceError(
        logger,
        new NodeletError(ErrorCode.CredentialProviderError, `${what} failed: ${errorMessage(error)}`, {
          cause: error,
        }),
      );
      return [];
    }
  };

  return {
    async lookup(image: string, lookupOptions?: { pullSecrets?: readonly V1Secret[] | undefined }) {
      const secrets = await guarded("pull secret lookup", async () =>
        createPullSecretKeyring(lookupOptions?.pullSecrets ?? [], {
          onWarning: (message) => logger.warn(message),
        }).lookup(image),
      );
      const [fromNode, fromPlugins] = await Promise.all([
        node ? guarded("node docker config lookup", () => node.lookup(image)) : [],
        plugins ? guarded("credential provider plugin lookup", () => plugins.lookup(image)) : [],
      ]);
      return dedupeAuthConfigs([...secrets, ...fromNode, ...fromPlugins]);
    },
  };
}
