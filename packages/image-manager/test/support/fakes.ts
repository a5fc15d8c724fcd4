import {
  type AuthConfig,
  type Container,
  ContainerState,
  type Image,
  ImageFsInfoResponse,
  type ImageSpec,
  type ImageStatusResponse,
  type PodSandboxConfig,
} from "@nodelet/cri-api";
import type {
  EventType,
  ImageManagerService,
  ImagePuller,
  ImagePullRequest,
  ImagePullResult,
  RuntimeService,
} from "@nodelet/runtime-api";

export interface RecordedEvent {
  object: { kind: string; namespace?: string; name: string; uid: string; fieldPath?: string };
  type: EventType;
  reason: string;
  message: string;
}

export function eventLog() {
  const events: RecordedEvent[] = [];
  return {
    events,
    recorder: {
      event(object: RecordedEvent["object"], type: EventType, reason: string, message: string) {
        events.push({ object, type, reason, message });
      },
    },
    reasons: () => events.map((e) => e.reason),
  };
}

export function image(id: string, tags: string[], size: number, pinned = false): Image {
  return {
    id,
    repoTags: tags,
    repoDigests: [],
    size: BigInt(size),
    uid: undefined,
    username: "",
    spec: undefined,
    pinned,
  };
}

export interface FakeImageService extends ImageManagerService {
  images: Image[];
  pulls: Array<{ image: string; auth: AuthConfig | undefined; timeoutMs: number | undefined }>;
  removed: string[];
  /** Decides what a PullImage does; default: the image appears with id `sha256:<name>`. */
  onPull: (image: string, auth: AuthConfig | undefined, signal: AbortSignal | undefined) => Promise<string>;
  mountpoint: string;
}

/** A plain-object CRI image service holding images in memory. */
export function fakeImageService(initial: Image[] = []): FakeImageService {
  const find = (ref: string, list: Image[]) =>
    list.find((i) => i.id === ref || i.repoTags.includes(ref) || i.repoDigests.includes(ref));
  const service: FakeImageService = {
    images: [...initial],
    pulls: [],
    removed: [],
    mountpoint: "/var/lib/fake/images",
    async onPull(name) {
      const id = `sha256:${name.replace(/[^a-z0-9]/g, "")}`;
      if (!find(name, service.images)) service.images.push(image(id, [name], 1000));
      return id;
    },
    async listImages() {
      return [...service.images];
    },
    async *streamImages() {},
    async imageStatus(spec: ImageSpec): Promise<ImageStatusResponse> {
      return { image: find(spec.image, service.images), info: {} };
    },
    async pullImage(
      spec: ImageSpec,
      auth: AuthConfig | undefined,
      _sandbox: PodSandboxConfig | undefined,
      options?: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
    ) {
      service.pulls.push({ image: spec.image, auth, timeoutMs: options?.timeoutMs });
      return service.onPull(spec.image, auth, options?.signal);
    },
    async removeImage(spec: ImageSpec) {
      const found = find(spec.image, service.images);
      service.removed.push(spec.image);
      if (found) service.images = service.images.filter((i) => i !== found);
    },
    async imageFsInfo() {
      return ImageFsInfoResponse.fromPartial({
        imageFilesystems: [{ fsId: { mountpoint: service.mountpoint }, usedBytes: { value: 1n } }],
      });
    },
    close() {},
  };
  return service;
}

/** A RuntimeService whose only working method is listContainers. */
export function fakeRuntime(containers: () => Array<Partial<Container>>): RuntimeService {
  const unused = () => {
    throw new Error("not used by image GC");
  };
  const full = (c: Partial<Container>): Container => ({
    id: c.id ?? "c1",
    podSandboxId: "s1",
    metadata: undefined,
    image: c.image,
    imageRef: c.imageRef ?? "",
    state: c.state ?? ContainerState.CONTAINER_RUNNING,
    createdAt: 1n,
    labels: {},
    annotations: {},
    imageId: c.imageId ?? "",
  });
  return new Proxy({} as RuntimeService, {
    get(_target, prop) {
      if (prop === "listContainers") return async () => containers().map(full);
      return unused;
    },
  });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An ImagePuller that records calls and the highest number running at once; each call waits for `release`. */
export function recordingPuller(
  options: { autoRelease?: boolean; fail?: (req: ImagePullRequest) => unknown } = {},
) {
  let running = 0;
  const state = {
    calls: [] as ImagePullRequest[],
    maxConcurrent: 0,
    pending: [] as Array<Deferred<void>>,
    releaseAll() {
      for (const d of state.pending.splice(0)) d.resolve();
    },
    releaseOne() {
      state.pending.shift()?.resolve();
    },
  };
  const puller: ImagePuller = {
    async pullImage(request: ImagePullRequest): Promise<ImagePullResult> {
      state.calls.push(request);
      running += 1;
      state.maxConcurrent = Math.max(state.maxConcurrent, running);
      try {
        if (!options.autoRelease) {
          const gate = deferred<void>();
          state.pending.push(gate);
          await gate.promise;
        }
        const failure = options.fail?.(request);
        if (failure !== undefined) throw failure;
        return { imageRef: `sha256:${request.image.length}`, imageSize: 1234 };
      } finally {
        running -= 1;
      }
    },
  };
  return { puller, state };
}

/** Lets pending promise callbacks run. */
export async function flush(times = 10): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
