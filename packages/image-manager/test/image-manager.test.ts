import { AuthConfig } from "@nodelet/cri-api";
import {
  createManualClock,
  type DockerKeyring,
  ErrorCode,
  type ImagePuller,
  isNodeletError,
  isRegistryUnauthorized,
  type ManualClock,
  NodeletError,
  type V1Container,
  type V1Pod,
  type V1Secret,
} from "@nodelet/runtime-api";
import { Registry } from "prom-client";
import { beforeEach, describe, expect, it } from "vitest";
import { createImageManager, IMAGE_PULL_DURATION_SECONDS, type ImageManagerOptions } from "../src/index.js";
import {
  eventLog,
  type FakeImageService,
  fakeImageService,
  flush,
  image,
  recordingPuller,
} from "./support/fakes.js";

const pod: V1Pod = {
  metadata: { name: "web", namespace: "shop", uid: "uid-1", annotations: { team: "a" } },
  spec: { containers: [{ name: "app" }], initContainers: [{ name: "init" }] },
};
const otherPod: V1Pod = {
  metadata: { name: "api", namespace: "shop", uid: "uid-2" },
  spec: { containers: [] },
};

function container(image: string | undefined, overrides: Partial<V1Container> = {}): V1Container {
  return { name: "app", ...(image === undefined ? {} : { image }), ...overrides };
}

async function caught(promise: Promise<unknown>): Promise<NodeletError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(NodeletError);
    return err as NodeletError;
  }
  throw new Error("expected a rejection");
}

async function histogram(registry: Registry, suffix: string, size: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(IMAGE_PULL_DURATION_SECONDS)?.get();
  return metric?.values.find(
    (v) =>
      (v as { metricName?: string }).metricName === `${IMAGE_PULL_DURATION_SECONDS}${suffix}` &&
      v.labels.image_size_in_bytes === size,
  )?.value;
}

let images: FakeImageService;
let clock: ManualClock;
let log: ReturnType<typeof eventLog>;

function manager(options: Partial<ImageManagerOptions> = {}) {
  return createImageManager({ images, clock, recorder: log.recorder, registryPullQPS: 0, ...options });
}

beforeEach(() => {
  images = fakeImageService([image("sha256:bb", ["busybox:1.36", "busybox:latest"], 4_000_000)]);
  clock = createManualClock(1_700_000_000_000);
  log = eventLog();
});

describe("pull policy", () => {
  it("IfNotPresent with the image present: event Pulled 'already present', no pull", async () => {
    const ref = await manager().ensureImageExists(pod, container("busybox:1.36"), [], undefined);
    expect(ref).toBe("sha256:bb");
    expect(images.pulls).toEqual([]);
    expect(log.events).toEqual([
      {
        object: {
          kind: "Pod",
          namespace: "shop",
          name: "web",
          uid: "uid-1",
          fieldPath: "spec.containers{app}",
        },
        type: "Normal",
        reason: "Pulled",
        message: 'Container image "busybox:1.36" already present on machine',
      },
    ]);
  });

  it("Never with the image absent: ErrImageNeverPull and its event", async () => {
    const err = await caught(
      manager().ensureImageExists(pod, container("nginx:1.25", { imagePullPolicy: "Never" }), [], undefined),
    );
    expect(err.code).toBe(ErrorCode.ErrImageNeverPull);
    expect(err.message).toBe('Container image "nginx:1.25" is not present with pull policy of Never');
    expect(log.events.map((e) => [e.type, e.reason, e.message])).toEqual([
      [
        "Warning",
        "ErrImageNeverPull",
        'Container image "nginx:1.25" is not present with pull policy of Never',
      ],
    ]);
    expect(images.pulls).toEqual([]);
  });

  it("Never with the image present uses it", async () => {
    const c = container("busybox:1.36", { imagePullPolicy: "Never" });
    await expect(manager().ensureImageExists(pod, c, [], undefined)).resolves.toBe("sha256:bb");
  });

  it("Always pulls even when present", async () => {
    const c = container("busybox:1.36", { imagePullPolicy: "Always" });
    await manager().ensureImageExists(pod, c, [], undefined);
    expect(images.pulls.map((p) => p.image)).toEqual(["busybox:1.36"]);
  });

  it("unset policy: Always for no tag (pulled as :latest), IfNotPresent for a tag", async () => {
    const m = manager();
    await m.ensureImageExists(pod, container("busybox"), [], undefined);
    expect(images.pulls.map((p) => p.image)).toEqual(["busybox:latest"]);
    await m.ensureImageExists(pod, container("busybox:1.36"), [], undefined);
    expect(images.pulls).toHaveLength(1);
    // Messages name the image as written, not as defaulted.
    expect(log.events.find((e) => e.reason === "Pulling")?.message).toBe('Pulling image "busybox"');
  });

  it("asks ImageStatus with the defaulted name and the pod's annotations", async () => {
    const seen: unknown[] = [];
    const status = images.imageStatus.bind(images);
    images.imageStatus = async (spec, verbose, options) => {
      seen.push({ image: spec.image, annotations: spec.annotations });
      return status(spec, verbose, options);
    };
    await manager().ensureImageExists(
      pod,
      container("busybox", { imagePullPolicy: "IfNotPresent" }),
      [],
      undefined,
    );
    expect(seen).toEqual([{ image: "busybox:latest", annotations: { team: "a" } }]);
  });

  it("an init container's events point at spec.initContainers", async () => {
    await manager().ensureImageExists(pod, { name: "init", image: "busybox:1.36" }, [], undefined);
    expect(log.events[0]?.object.fieldPath).toBe("spec.initContainers{init}");
  });
});

describe("invalid names and inspection failures", () => {
  it("an unparsable name is InvalidImageName with an InspectFailed event", async () => {
    const err = await caught(manager().ensureImageExists(pod, container("Busybox:1"), [], undefined));
    expect(err.code).toBe(ErrorCode.InvalidImageName);
    expect(err.message).toBe(
      'Failed to apply default image tag "Busybox:1": couldn\'t parse image name "Busybox:1": ' +
        "invalid reference format: repository name (library/Busybox) must be lowercase",
    );
    expect(log.events.map((e) => [e.type, e.reason])).toEqual([["Warning", "InspectFailed"]]);
  });

  it("a missing image is InvalidImageName", async () => {
    const err = await caught(manager().ensureImageExists(pod, container(undefined), [], undefined));
    expect(err.code).toBe(ErrorCode.InvalidImageName);
  });

  it("a failing ImageStatus is ImageInspectError with an InspectFailed event", async () => {
    images.imageStatus = async () => {
      throw new NodeletError(ErrorCode.Unknown, "ImageStatus: boom");
    };
    const err = await caught(manager().ensureImageExists(pod, container("busybox:1.36"), [], undefined));
    expect(err.code).toBe(ErrorCode.ImageInspectError);
    expect(err.message).toBe('Failed to inspect image "busybox:1.36": ImageStatus: boom');
    expect(log.reasons()).toEqual(["InspectFailed"]);
  });
});

describe("backoff", () => {
  it("ErrImagePull, then ImagePullBackOff inside 10 s, allowed after, then a doubled window", async () => {
    images.onPull = async () => {
      throw new NodeletError(ErrorCode.Unknown, "failed to resolve reference: not found");
    };
    const m = manager();
    const c = container("nginx:1.25");
    const attempt = () => caught(m.ensureImageExists(pod, c, [], undefined)).then((e) => e.code);

    expect(await attempt()).toBe(ErrorCode.ErrImagePull);
    clock.advance(5_000);
    expect(await attempt()).toBe(ErrorCode.ImagePullBackOff);
    clock.advance(4_999);
    expect(await attempt()).toBe(ErrorCode.ImagePullBackOff);
    clock.advance(1);
    expect(await attempt()).toBe(ErrorCode.ErrImagePull); // 10 s after the failure
    clock.advance(19_999);
    expect(await attempt()).toBe(ErrorCode.ImagePullBackOff); // now 20 s
    clock.advance(1);
    expect(await attempt()).toBe(ErrorCode.ErrImagePull);
    expect(images.pulls).toHaveLength(3);

    // Per pod: another pod pulling the same image is not held back.
    expect(await caught(m.ensureImageExists(otherPod, c, [], undefined)).then((e) => e.code)).toBe(
      ErrorCode.ErrImagePull,
    );

    expect(log.events.filter((e) => e.reason === "BackOff").map((e) => [e.type, e.message])).toEqual([
      ["Normal", 'Back-off pulling image "nginx:1.25"'],
      ["Normal", 'Back-off pulling image "nginx:1.25"'],
      ["Normal", 'Back-off pulling image "nginx:1.25"'],
    ]);
    expect(log.events.filter((e) => e.reason === "Failed")[0]).toMatchObject({
      type: "Warning",
      message: 'Failed to pull image "nginx:1.25": failed to resolve reference: not found',
    });
  });

  it("succeeds once the window has passed and the registry answers", async () => {
    let fail = true;
    images.onPull = async (name) => {
      if (fail) throw new NodeletError(ErrorCode.Unknown, "unexpected status: 503");
      images.images.push(image("sha256:ng", [name], 10));
      return "sha256:ng";
    };
    const m = manager();
    const c = container("nginx:1.25");
    await caught(m.ensureImageExists(pod, c, [], undefined));
    fail = false;
    expect((await caught(m.ensureImageExists(pod, c, [], undefined))).code).toBe(ErrorCode.ImagePullBackOff);
    clock.advance(10_000);
    await expect(m.ensureImageExists(pod, c, [], undefined)).resolves.toBe("sha256:ng");
  });
});

describe("events, durations and the metric", () => {
  it("Pulling, then Pulled with the pull time, the time including waiting and the size", async () => {
    const registry = new Registry();
    const keyring: DockerKeyring = {
      async lookup() {
        clock.advance(100); // time spent before the pull starts counts as waiting
        return [];
      },
    };
    const puller: ImagePuller = {
      async pullImage() {
        clock.advance(1_200);
        return { imageRef: "sha256:ng", imageSize: 12_345_678 };
      },
    };
    const ref = await manager({ keyring, puller, registry }).ensureImageExists(
      pod,
      container("nginx:1.25"),
      [],
      undefined,
    );
    expect(ref).toBe("sha256:ng");
    expect(log.events.map((e) => [e.type, e.reason, e.message])).toEqual([
      ["Normal", "Pulling", 'Pulling image "nginx:1.25"'],
      [
        "Normal",
        "Pulled",
        'Successfully pulled image "nginx:1.25" in 1.2s (1.3s including waiting). Image size: 12345678 bytes.',
      ],
    ]);
    expect(await histogram(registry, "_count", "10MB-100MB")).toBe(1);
    expect(await histogram(registry, "_sum", "10MB-100MB")).toBeCloseTo(1.3);
  });

  it("an unknown size reads 0 bytes and lands in N/A; the metric registers once per registry", async () => {
    const registry = new Registry();
    const puller: ImagePuller = { pullImage: async () => ({ imageRef: "sha256:x" }) };
    await manager({ puller, registry }).ensureImageExists(pod, container("x:1"), [], undefined);
    await manager({ puller, registry }).ensureImageExists(pod, container("y:1"), [], undefined);
    expect(log.events.filter((e) => e.reason === "Pulled").map((e) => e.message)).toEqual([
      'Successfully pulled image "x:1" in 0s (0s including waiting). Image size: 0 bytes.',
      'Successfully pulled image "y:1" in 0s (0s including waiting). Image size: 0 bytes.',
    ]);
    expect(await histogram(registry, "_count", "N/A")).toBe(2);
  });
});

describe("errors", () => {
  it("RegistryUnavailable keeps its reason with the kubelet's message", async () => {
    images.onPull = async () => {
      throw new NodeletError(ErrorCode.Unknown, "RegistryUnavailable: connection refused");
    };
    const err = await caught(manager().ensureImageExists(pod, container("nginx:1.25"), [], undefined));
    expect(err.code).toBe(ErrorCode.RegistryUnavailable);
    expect(err.message).toBe(
      "image pull failed for nginx:1.25 because the registry is unavailable: connection refused",
    );
  });

  it("SignatureValidationFailed is ErrImagePull with details.reason", async () => {
    images.onPull = async () => {
      throw new NodeletError(ErrorCode.Unknown, "SignatureValidationFailed: untrusted");
    };
    const err = await caught(manager().ensureImageExists(pod, container("nginx:1.25"), [], undefined));
    expect(err.code).toBe(ErrorCode.ErrImagePull);
    expect(err.details.reason).toBe("SignatureValidationFailed");
  });

  it("keeps an auth failure recognisable", async () => {
    images.onPull = async () => {
      throw new NodeletError(ErrorCode.Unknown, "failed to authorize: 401 Unauthorized", {
        details: { unauthorized: true },
      });
    };
    const err = await caught(manager().ensureImageExists(pod, container("nginx:1.25"), [], undefined));
    expect(err.code).toBe(ErrorCode.ErrImagePull);
    expect(err.message).toBe("failed to authorize: 401 Unauthorized");
    expect(isRegistryUnauthorized(err)).toBe(true);
  });

  it("a keyring failure is a pull failure", async () => {
    const keyring: DockerKeyring = {
      lookup: async () => {
        throw new NodeletError(ErrorCode.CredentialProviderError, "plugin exited 1");
      },
    };
    const err = await caught(manager({ keyring }).ensureImageExists(pod, container("x:1"), [], undefined));
    expect(err.code).toBe(ErrorCode.ErrImagePull);
    expect(err.message).toBe("plugin exited 1");
    expect(log.reasons()).toEqual(["Pulling", "Failed"]);
  });

  it("a cancelled pull stays Cancelled, with no Failed event and no backoff", async () => {
    images.onPull = (_name, _auth, signal) =>
      new Promise((_resolve, reject) =>
        signal?.addEventListener("abort", () =>
          reject(new NodeletError(ErrorCode.Cancelled, "PullImage was cancelled")),
        ),
      );
    const m = manager();
    const controller = new AbortController();
    const pulling = m.ensureImageExists(pod, container("x:1"), [], undefined, { signal: controller.signal });
    await flush();
    controller.abort();
    expect((await caught(pulling)).code).toBe(ErrorCode.Cancelled);
    expect(log.reasons()).toEqual(["Pulling"]);
    images.onPull = async () => "sha256:x";
    await expect(m.ensureImageExists(pod, container("x:1"), [], undefined)).resolves.toBe("sha256:x");
  });
});

describe("credentials", () => {
  const secrets: V1Secret[] = [
    { metadata: { name: "regcred" }, type: "kubernetes.io/dockerconfigjson", data: {} },
  ];
  const good = AuthConfig.fromPartial({ username: "u", password: "right" });
  const bad = AuthConfig.fromPartial({ username: "u", password: "wrong" });

  it("asks the keyring for the normalized repository with the pod's pull secrets", async () => {
    const asked: unknown[] = [];
    const keyring: DockerKeyring = {
      async lookup(repo, opts) {
        asked.push([repo, opts?.pullSecrets]);
        return [];
      },
    };
    await manager({ keyring }).ensureImageExists(pod, container("nginx"), secrets, undefined);
    expect(asked).toEqual([["docker.io/library/nginx", secrets]]);
    expect(images.pulls).toEqual([{ image: "nginx:latest", auth: undefined, timeoutMs: 0 }]);
  });

  it("tries each credential in order; the first success wins", async () => {
    images.onPull = async (_name, auth) => {
      if (auth?.password !== "right") {
        throw new NodeletError(ErrorCode.Unknown, "401 Unauthorized", { details: { unauthorized: true } });
      }
      return "sha256:ok";
    };
    const keyring: DockerKeyring = { lookup: async () => [bad, good, bad] };
    await expect(
      manager({ keyring }).ensureImageExists(pod, container("reg.io/app:1"), [], undefined),
    ).resolves.toBe("sha256:ok");
    expect(images.pulls.map((p) => p.auth?.password)).toEqual(["wrong", "right"]);
  });

  it("aggregates the failures and never retries anonymously when a credential matched", async () => {
    images.onPull = async (_name, auth) => {
      throw new NodeletError(ErrorCode.Unknown, `denied for ${auth?.password}`, {
        details: { unauthorized: auth?.password === "wrong" },
      });
    };
    const keyring: DockerKeyring = { lookup: async () => [bad, good] };
    const err = await caught(
      manager({ keyring }).ensureImageExists(pod, container("reg.io/app:1"), [], undefined),
    );
    expect(err.code).toBe(ErrorCode.ErrImagePull);
    expect(err.message).toBe("[denied for wrong, denied for right]");
    expect(isRegistryUnauthorized(err)).toBe(true);
    expect(images.pulls.map((p) => p.auth?.password)).toEqual(["wrong", "right"]);
  });
});

describe("limits in the manager", () => {
  it("two callers for the same absent image share one pull", async () => {
    const { puller, state } = recordingPuller();
    const m = manager({ puller });
    const both = Promise.all([
      m.ensureImageExists(pod, container("nginx:1.25"), [], undefined),
      m.ensureImageExists(otherPod, container("nginx:1.25"), [], undefined),
    ]);
    await flush();
    expect(state.calls).toHaveLength(1);
    state.releaseAll();
    const [a, b] = await both;
    expect(a).toBe(b);
    expect(log.reasons().filter((r) => r === "Pulled")).toHaveLength(2);
  });

  it("serial by default, parallel with maxParallelImagePulls", async () => {
    for (const [options, expected] of [
      [{}, 1],
      [{ maxParallelImagePulls: 3 }, 3],
    ] as const) {
      const { puller, state } = recordingPuller();
      const m = manager({ puller, ...options });
      const all = Promise.all(
        Array.from({ length: 6 }, (_, i) => m.ensureImageExists(pod, container(`img-${i}:1`), [], undefined)),
      );
      while (state.calls.length < 6) {
        await flush();
        state.releaseOne();
      }
      state.releaseAll();
      await all;
      expect(state.maxConcurrent).toBe(expected);
    }
  });

  it('fails beyond the burst with "pull QPS exceeded." and backs off', async () => {
    const { puller } = recordingPuller({ autoRelease: true });
    const m = manager({ puller, registryPullQPS: 1, registryBurst: 1 });
    await m.ensureImageExists(pod, container("a:1"), [], undefined);
    const err = await caught(m.ensureImageExists(pod, container("b:1"), [], undefined));
    expect(err.code).toBe(ErrorCode.ErrImagePull);
    expect(err.message).toBe("pull QPS exceeded.");
    expect((await caught(m.ensureImageExists(pod, container("b:1"), [], undefined))).code).toBe(
      ErrorCode.ImagePullBackOff,
    );
  });

  it("rejects contradictory limits", () => {
    expect(() => manager({ serializeImagePulls: true, maxParallelImagePulls: 4 })).toThrowError(
      expect.objectContaining({ code: ErrorCode.InvalidConfig }),
    );
  });

  it("passes progress to onPullProgress with the container's object", async () => {
    const seen: unknown[] = [];
    const puller: ImagePuller = {
      async pullImage(req) {
        req.onProgress?.({ image: req.image, elapsedMs: 10_000 });
        return { imageRef: "sha256:p" };
      },
    };
    await manager({
      puller,
      onPullProgress: (p, o) => seen.push([p.elapsedMs, o.fieldPath]),
    }).ensureImageExists(pod, container("p:1"), [], undefined);
    expect(seen).toEqual([[10_000, "spec.containers{app}"]]);
  });
});

describe("ImageService methods", () => {
  it("pullImage uses the keyring and the puller, and maps errors", async () => {
    const keyring: DockerKeyring = { lookup: async () => [AuthConfig.fromPartial({ username: "u" })] };
    const m = manager({ keyring });
    await expect(m.pullImage({ image: "x:1" }, [], undefined)).resolves.toBe("sha256:x1");
    expect(images.pulls[0]?.auth?.username).toBe("u");
    images.onPull = async () => {
      throw new Error("boom");
    };
    const err = await caught(m.pullImage({ image: "x:1" }, [], undefined));
    expect(err.code).toBe(ErrorCode.ErrImagePull);
    expect(
      isNodeletError(await caught(m.pullImage({ image: "BAD" }, [], undefined)), ErrorCode.InvalidImageName),
    ).toBe(true);
  });

  it("getImageRef, listImages, removeImage and imageStats", async () => {
    images.images.push(image("sha256:two", ["two:1"], 6_000_000, true));
    const m = manager();
    expect(await m.getImageRef({ image: "busybox:1.36" })).toBe("sha256:bb");
    expect(await m.getImageRef({ image: "absent:1" })).toBe("");
    expect(await m.listImages()).toEqual([
      {
        id: "sha256:bb",
        repoTags: ["busybox:1.36", "busybox:latest"],
        repoDigests: [],
        size: 4_000_000,
        spec: { image: "", runtimeHandler: "", annotations: {} },
        pinned: false,
      },
      {
        id: "sha256:two",
        repoTags: ["two:1"],
        repoDigests: [],
        size: 6_000_000,
        spec: { image: "", runtimeHandler: "", annotations: {} },
        pinned: true,
      },
    ]);
    expect(await m.imageStats()).toEqual({ totalStorageBytes: 10_000_000 });
    await m.removeImage({ image: "sha256:two" });
    expect(images.removed).toEqual(["sha256:two"]);
  });
});
