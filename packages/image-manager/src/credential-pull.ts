import type { PodSandboxConfig } from "@nodelet/cri-api";
import {
  type DockerKeyring,
  ErrorCode,
  errorMessage,
  type ImagePuller,
  type ImagePullProgress,
  NodeletError,
  repositoryToPull,
  type SignalOptions,
  type V1Secret,
} from "@nodelet/runtime-api";
import { aggregatePullErrors, cancelledError, isCancelled } from "./errors.js";
import { credentialIdentity, type PullLimiter, type TimedPullResult } from "./limits.js";

export interface CredentialPullDeps {
  puller: ImagePuller;
  limiter: PullLimiter;
  keyring?: DockerKeyring | undefined;
}

export interface CredentialPullOptions extends SignalOptions {
  onProgress?: ((progress: ImagePullProgress) => void) | undefined;
}

/**
 * The kubelet's kubeGenericRuntimeManager.PullImage, under the pull limits: asks the keyring for
 * the normalized repository (no tag or digest), tries every credential it returns in order until
 * one works and reports all their errors together if none does; never falls back to an anonymous
 * pull when a credential matched. No credential: one anonymous pull.
 */
export async function pullWithCredentials(
  deps: CredentialPullDeps,
  image: string,
  pullSecrets: readonly V1Secret[],
  sandboxConfig: PodSandboxConfig | undefined,
  options: CredentialPullOptions = {},
): Promise<TimedPullResult> {
  let repository: string;
  try {
    repository = repositoryToPull(image);
  } catch (err) {
    throw new NodeletError(
      ErrorCode.InvalidImageName,
      `couldn't parse image name "${image}": ${errorMessage(err)}`,
      { cause: err, details: { image } },
    );
  }
  const credentials = deps.keyring ? await deps.keyring.lookup(repository, { pullSecrets }) : [];
  const identity = credentials.length === 0 ? "anonymous" : credentials.map(credentialIdentity).join(",");

  return deps.limiter.run(
    `${image}\n${identity}`,
    image,
    async (signal, onProgress) => {
      if (credentials.length === 0) {
        return deps.puller.pullImage({ image, sandboxConfig, signal, onProgress });
      }
      const errors: unknown[] = [];
      for (const auth of credentials) {
        try {
          return await deps.puller.pullImage({ image, auth, sandboxConfig, signal, onProgress });
        } catch (err) {
          if (signal?.aborted) throw cancelledError(image, signal.reason);
          if (isCancelled(err)) throw err;
          errors.push(err);
        }
      }
      throw aggregatePullErrors(image, errors);
    },
    { signal: options.signal, onProgress: options.onProgress },
  );
}
