// A minimal ImageManager (pull policy + keyring + per-pod backoff), in use until @nodelet/image-manager
// brings the full one. It follows the kubelet's rules for what it does.
import { ImageSpec, type PodSandboxConfig } from "@nodelet/cri-api";
import {
  type Backoff,
  type Clock,
  createBackoff,
  type DockerKeyring,
  ErrorCode,
  type EventRecorder,
  type ImageManager,
  type ImageManagerService,
  isNodeletError,
  KUBELET_BACKOFF,
  NodeletError,
  type SignalOptions,
  type V1Container,
  type V1Pod,
  type V1Secret,
} from "@nodelet/runtime-api";

/** Repository without tag or digest: the keyring's lookup key. */
export function repositoryOf(image: string): string {
  const withoutDigest = image.split("@")[0] as string;
  const lastSlash = withoutDigest.lastIndexOf("/");
  const lastColon = withoutDigest.lastIndexOf(":");
  return lastColon > lastSlash ? withoutDigest.slice(0, lastColon) : withoutDigest;
}

/** `latest` or no tag (and no digest) means Always, else IfNotPresent. */
export function defaultPullPolicy(image: string): "Always" | "IfNotPresent" {
  if (image.includes("@")) return "IfNotPresent";
  const lastSlash = image.lastIndexOf("/");
  const lastColon = image.lastIndexOf(":");
  const tag = lastColon > lastSlash ? image.slice(lastColon + 1) : "";
  return tag === "" || tag === "latest" ? "Always" : "IfNotPresent";
}

/** Pulls with every matching credential in order; anonymous only when none matched. */
export async function pullWithKeyring(
  images: ImageManagerService,
  keyring: DockerKeyring | undefined,
  image: string,
  sandboxConfig: PodSandboxConfig | undefined,
  options?: SignalOptions,
): Promise<string> {
  const spec = ImageSpec.fromPartial({ image });
  const credentials = keyring ? await keyring.lookup(repositoryOf(image)) : [];
  if (credentials.length === 0) return images.pullImage(spec, undefined, sandboxConfig, options);
  const failures: string[] = [];
  for (const auth of credentials) {
    try {
      return await images.pullImage(spec, auth, sandboxConfig, options);
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  throw new NodeletError(ErrorCode.ErrImagePull, failures.join("; "), { details: { image } });
}

export interface MinimalImageManagerOptions {
  images: ImageManagerService;
  keyring?: DockerKeyring | undefined;
  recorder?: EventRecorder | undefined;
  clock?: Clock | undefined;
  backoff?: Backoff | undefined;
}

export function createMinimalImageManager(options: MinimalImageManagerOptions): ImageManager {
  const { images, keyring, recorder } = options;
  const clock = options.clock;
  const backoff = options.backoff ?? createBackoff({ ...KUBELET_BACKOFF, ...(clock ? { clock } : {}) });
  const now = () => clock?.now() ?? Date.now();
  return {
    async ensureImageExists(
      pod: V1Pod,
      container: V1Container,
      _pullSecrets: readonly V1Secret[],
      sandboxConfig: PodSandboxConfig | undefined,
      signalOptions?: SignalOptions,
    ): Promise<string> {
      const image = container.image ?? "";
      const ref = {
        kind: "Pod" as const,
        namespace: pod.metadata.namespace ?? "default",
        name: pod.metadata.name ?? "",
        uid: pod.metadata.uid ?? "",
        fieldPath: `spec.containers{${container.name}}`,
      };
      const policy = container.imagePullPolicy ?? defaultPullPolicy(image);
      if (policy !== "Always") {
        const status = await images.imageStatus(ImageSpec.fromPartial({ image }), false);
        if (status.image) return status.image.id;
        if (policy === "Never") {
          const message = `Container image "${image}" is not present with pull policy of Never`;
          recorder?.event(ref, "Warning", "ErrImageNeverPull", message);
          throw new NodeletError(ErrorCode.ErrImageNeverPull, message, { details: { image } });
        }
      }
      const key = `${pod.metadata.uid ?? ""}_${image}`;
      if (backoff.isInBackOffSinceUpdate(key, now())) {
        const message = `Back-off pulling image "${image}"`;
        recorder?.event(ref, "Normal", "BackOff", message);
        throw new NodeletError(ErrorCode.ImagePullBackOff, message, { details: { image } });
      }
      recorder?.event(ref, "Normal", "Pulling", `Pulling image "${image}"`);
      const started = now();
      try {
        const imageRef = await pullWithKeyring(images, keyring, image, sandboxConfig, signalOptions);
        recorder?.event(
          ref,
          "Normal",
          "Pulled",
          `Successfully pulled image "${image}" in ${((now() - started) / 1000).toFixed(3)}s`,
        );
        return imageRef;
      } catch (err) {
        backoff.next(key, now());
        const message = err instanceof Error ? err.message : String(err);
        recorder?.event(ref, "Warning", "Failed", `Failed to pull image "${image}": ${message}`);
        if (isNodeletError(err, ErrorCode.Cancelled)) throw err;
        throw new NodeletError(ErrorCode.ErrImagePull, message, { cause: err, details: { image } });
      }
    },
  };
}
