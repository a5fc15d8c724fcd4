import { ImageSpec, type PodSandboxConfig } from "@nodelet/cri-api";
import {
  applyDefaultImageTag,
  type Backoff,
  type Clock,
  createBackoff,
  type DockerKeyring,
  ErrorCode,
  type EventRecorder,
  type EventType,
  errorMessage,
  formatGoDuration,
  type Image,
  type ImageManager,
  type ImageManagerService,
  type ImagePuller,
  type ImagePullProgress,
  type ImageService,
  type ImageStats,
  KUBELET_BACKOFF,
  NodeletError,
  type ImageSpec as RuntimeImageSpec,
  type SignalOptions,
  systemClock,
  type V1Container,
  type V1Pod,
  type V1Secret,
} from "@nodelet/runtime-api";
import type { Registry } from "prom-client";
import { pullWithCredentials } from "./credential-pull.js";
import { isCancelled, toPullError } from "./errors.js";
import { createPullLimiter, type PullLimitOptions, resolvePullLimits } from "./limits.js";
import { imagePullDurationMetric, imageSizeBucket } from "./metrics.js";
import { defaultPullPolicy, shouldPullImage } from "./pull-policy.js";
import { createRemotePuller } from "./remote-puller.js";

/** The object a container's image events are about. */
export interface ContainerObjectRef {
  kind: "Pod";
  namespace: string;
  name: string;
  uid: string;
  fieldPath: string;
}

export interface ImageManagerOptions extends PullLimitOptions {
  /** The CRI image service: ImageStatus for the present check, and the default puller's PullImage. */
  images: ImageManagerService;
  /** Moves the bytes; default `createRemotePuller(images)`. Give a bare puller: the manager applies the limits. */
  puller?: ImagePuller | undefined;
  /** Credentials by image; without one every pull is anonymous. */
  keyring?: DockerKeyring | undefined;
  recorder?: EventRecorder | undefined;
  /** Per-pod pull backoff; default the kubelet's (10 s doubling to 300 s) on `clock`. */
  backoff?: Backoff | undefined;
  /** Where `kubelet_image_pull_duration_seconds` is registered. */
  registry?: Registry | undefined;
  /** Called while a pull for a container runs (the default puller: elapsed time every 10 s). */
  onPullProgress?: ((progress: ImagePullProgress, object: ContainerObjectRef) => void) | undefined;
}

/** The image manager plus the kubelet's ImageService, the surface kuberuntime composes. */
export type NodeletImageManager = ImageManager & ImageService;

function objectRef(pod: V1Pod, container: V1Container): ContainerObjectRef {
  const isInit = pod.spec?.initContainers?.some((c) => c.name === container.name) ?? false;
  return {
    kind: "Pod",
    namespace: pod.metadata.namespace ?? "default",
    name: pod.metadata.name ?? "",
    uid: pod.metadata.uid ?? "",
    fieldPath: `spec.${isInit ? "initContainers" : "containers"}{${container.name}}`,
  };
}

function toCriImageSpec(image: RuntimeImageSpec): ImageSpec {
  return ImageSpec.fromPartial({
    image: image.image,
    runtimeHandler: image.runtimeHandler ?? "",
    annotations: image.annotations ?? {},
  });
}

/**
 * The kubelet's image manager (pkg/kubelet/images) over a CRI image service: default tag, pull
 * policy, per-pod backoff, events, limits on pulls and the pull-duration metric; plus the
 * ImageService methods (pullImage, getImageRef, listImages, removeImage, imageStats).
 * Throws InvalidConfig for contradictory pull limits.
 */
export function createImageManager(options: ImageManagerOptions): NodeletImageManager {
  const { images, keyring, recorder } = options;
  const clock: Clock = options.clock ?? systemClock;
  const limits = resolvePullLimits(options);
  const limiter = createPullLimiter({ limits, clock });
  const puller = options.puller ?? createRemotePuller(images, { clock });
  const backoff = options.backoff ?? createBackoff({ ...KUBELET_BACKOFF, clock });
  const pullDuration = options.registry ? imagePullDurationMetric(options.registry) : undefined;
  const deps = { puller, limiter, keyring };

  const event = (ref: ContainerObjectRef, type: EventType, reason: string, message: string) => {
    recorder?.event(ref, type, reason, message);
  };

  return {
    async ensureImageExists(
      pod: V1Pod,
      container: V1Container,
      pullSecrets: readonly V1Secret[],
      sandboxConfig: PodSandboxConfig | undefined,
      callOptions: SignalOptions = {},
    ): Promise<string> {
      const { signal } = callOptions;
      // Messages, events and the backoff key use the image as written; the CRI sees it with the tag.
      const imgRef = container.image ?? "";
      const ref = objectRef(pod, container);

      let image: string;
      try {
        image = applyDefaultImageTag(imgRef);
      } catch (err) {
        const message = `Failed to apply default image tag "${imgRef}": couldn't parse image name "${imgRef}": ${errorMessage(err)}`;
        event(ref, "Warning", "InspectFailed", message);
        throw new NodeletError(ErrorCode.InvalidImageName, message, {
          cause: err,
          details: { image: imgRef },
        });
      }

      const spec = ImageSpec.fromPartial({ image, annotations: pod.metadata.annotations ?? {} });
      let presentRef: string;
      try {
        presentRef = (await images.imageStatus(spec, false, { signal })).image?.id ?? "";
      } catch (err) {
        if (isCancelled(err) && signal?.aborted) throw err;
        const message = `Failed to inspect image "${imgRef}": ${errorMessage(err)}`;
        event(ref, "Warning", "InspectFailed", message);
        throw new NodeletError(ErrorCode.ImageInspectError, message, {
          cause: err,
          details: { image: imgRef },
        });
      }

      const present = presentRef !== "";
      const policy = container.imagePullPolicy ?? defaultPullPolicy(imgRef);
      if (!shouldPullImage(policy, present)) {
        if (present) {
          event(ref, "Normal", "Pulled", `Container image "${imgRef}" already present on machine`);
          return presentRef;
        }
        const message = `Container image "${imgRef}" is not present with pull policy of Never`;
        event(ref, "Warning", "ErrImageNeverPull", message);
        throw new NodeletError(ErrorCode.ErrImageNeverPull, message, { details: { image: imgRef } });
      }

      const backoffKey = `${pod.metadata.uid ?? ""}_${imgRef}`;
      if (backoff.isInBackOffSinceUpdate(backoffKey, clock.now())) {
        const message = `Back-off pulling image "${imgRef}"`;
        event(ref, "Normal", "BackOff", message);
        throw new NodeletError(ErrorCode.ImagePullBackOff, message, {
          details: { image: imgRef, backoffMs: backoff.get(backoffKey) },
        });
      }

      event(ref, "Normal", "Pulling", `Pulling image "${imgRef}"`);
      const started = clock.now();
      const onPullProgress = options.onPullProgress;
      let result: Awaited<ReturnType<typeof pullWithCredentials>>;
      try {
        result = await pullWithCredentials(deps, image, pullSecrets, sandboxConfig, {
          signal,
          onProgress: onPullProgress ? (progress) => onPullProgress(progress, ref) : undefined,
        });
      } catch (err) {
        // Cancelled by the caller (pod deleted, agent stopping): no failure to report or back off from.
        if (isCancelled(err) && signal?.aborted) throw err;
        event(ref, "Warning", "Failed", `Failed to pull image "${imgRef}": ${errorMessage(err)}`);
        backoff.next(backoffKey, clock.now());
        throw toPullError(imgRef, err);
      }
      const totalMs = clock.now() - started;
      const size = result.imageSize ?? 0;
      event(
        ref,
        "Normal",
        "Pulled",
        `Successfully pulled image "${imgRef}" in ${formatGoDuration(result.pullDurationMs)} ` +
          `(${formatGoDuration(totalMs)} including waiting). Image size: ${size} bytes.`,
      );
      pullDuration?.observe({ image_size_in_bytes: imageSizeBucket(size) }, totalMs / 1000);
      backoff.gc();
      return result.imageRef;
    },

    async pullImage(
      image: RuntimeImageSpec,
      pullSecrets: readonly V1Secret[],
      sandboxConfig: PodSandboxConfig | undefined,
      callOptions: SignalOptions = {},
    ): Promise<string> {
      try {
        const result = await pullWithCredentials(deps, image.image, pullSecrets, sandboxConfig, callOptions);
        return result.imageRef;
      } catch (err) {
        throw toPullError(image.image, err);
      }
    },

    async getImageRef(image: RuntimeImageSpec): Promise<string> {
      const status = await images.imageStatus(toCriImageSpec(image), false);
      return status.image?.id ?? "";
    },

    async listImages(): Promise<Image[]> {
      const listed = await images.listImages();
      return listed.map((i) => ({
        id: i.id,
        repoTags: i.repoTags,
        repoDigests: i.repoDigests,
        size: Number(i.size),
        spec: {
          image: i.spec?.image ?? "",
          runtimeHandler: i.spec?.runtimeHandler ?? "",
          annotations: i.spec?.annotations ?? {},
        },
        pinned: i.pinned,
      }));
    },

    async removeImage(image: RuntimeImageSpec): Promise<void> {
      await images.removeImage(toCriImageSpec(image));
    },

    async imageStats(): Promise<ImageStats> {
      const listed = await images.listImages();
      // As the kubelet: the sum of image sizes, which counts shared layers more than once.
      return { totalStorageBytes: listed.reduce((sum, i) => sum + Number(i.size), 0) };
    },
  };
}
