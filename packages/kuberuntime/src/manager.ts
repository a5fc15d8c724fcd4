// createKubeGenericRuntimeManager: the kubelet's kubeGenericRuntimeManager over any CRI runtime.
import { mkdir, readdir } from "node:fs/promises";
import { cpus, hostname as osHostname, totalmem } from "node:os";
import { join } from "node:path";
import { createKeyring, createPluginKeyring } from "@nodelet/credential-provider";
import { ImageSpec, type PodSandboxConfig } from "@nodelet/cri-api";
import { instrumentImageService, instrumentRuntimeService } from "@nodelet/cri-remote";
import { createImageManager, type NodeletImageManager, type PullLimitOptions } from "@nodelet/image-manager";
import { createHandlerRunner } from "@nodelet/lifecycle";
import {
  type Backoff,
  type Clock,
  type ContainerID,
  type ContainerLogManager,
  type ContainerType,
  type DockerKeyring,
  ErrorCode,
  type EventRecorder,
  type EventType,
  findContainerStatusByName,
  formatContainerID,
  formatGoDuration,
  type GCPolicy,
  type HandlerRunner,
  type Image,
  type ImageManager,
  type ImageManagerService,
  type ImagePuller,
  type ImageStats,
  isNodeletError,
  type KubeGenericRuntime,
  NodeletError,
  type Pod,
  type PodStatus,
  PodSyncResult,
  type ProbeResults,
  type RuntimeClassResolver,
  type ImageSpec as RuntimeImageSpec,
  type RuntimeService,
  type RuntimeStatus,
  type SignalOptions,
  systemClock,
  type V1Container,
  type V1Pod,
  type V1PodLogOptions,
  type V1Secret,
  Version,
  validatePod,
} from "@nodelet/runtime-api";
import type { Registry } from "prom-client";
import { generateContainerConfig } from "./container-config.js";
import { getContainerInfoFromAnnotations, getContainerInfoFromLabels } from "./labels.js";
import { type StartMetrics, startMetrics } from "./metrics.js";
import {
  type ContainerKillReason,
  computePodActions,
  isRestartableInitContainer,
  noProbeResults,
} from "./pod-actions.js";
import { determinePodSandboxIPs, listPods, readPodStatus, runningPodFromStatus } from "./runtime-status.js";
import { generatePodSandboxConfig } from "./sandbox-config.js";
import { TerminationOrdering } from "./termination-ordering.js";

/** The kubelet's minimumGracePeriodInSeconds: every container gets at least this to stop. */
export const MINIMUM_GRACE_PERIOD_SECONDS = 2;

export interface NodeAllocatable {
  cpuMilli: number;
  memoryBytes: number;
}

export interface ManagerLogger {
  warn(fields: object, message: string): void;
}

export interface KubeGenericRuntimeManagerOptions {
  /** CRI runtime service (createRemoteRuntimeService, or any implementation). */
  runtimeService: RuntimeService;
  /** CRI image service. */
  imageService: ImageManagerService;
  /**
   * Decides when to pull (policies, backoff, events). Default: @nodelet/image-manager built from
   * `imagePuller`, `keyring` and `pullLimits`.
   */
  imageManager?: ImageManager | undefined;
  /** Moves the bytes of one pull; the plugin point for a third-party puller. Default: CRI PullImage. */
  imagePuller?: ImagePuller | undefined;
  /** Serial/parallel pulls and the registry QPS limit (the kubelet's defaults when unset). */
  pullLimits?: PullLimitOptions | undefined;
  /**
   * Credentials for pulls. Default: @nodelet/credential-provider's keyring — pod pull secrets, the
   * docker config in `rootDirectory` (then cwd, $HOME/.docker, /.docker), then the plugins of
   * `imageCredentialProviderConfigFile` when given.
   */
  keyring?: DockerKeyring | undefined;
  /** The kubelet's --image-credential-provider-config. */
  imageCredentialProviderConfigFile?: string | undefined;
  /** The kubelet's --image-credential-provider-bin-dir. */
  imageCredentialProviderBinDir?: string | undefined;
  logManager?: ContainerLogManager | undefined;
  /** Defaults to @nodelet/lifecycle's runner, executing through this manager. */
  handlerRunner?: HandlerRunner | undefined;
  /** Maps runtimeClassName to a handler; default: the class name is the handler name. */
  runtimeClassResolver?: RuntimeClassResolver | undefined;
  /** Liveness and startup results from a prober; default: none. */
  probeResults?: ProbeResults | undefined;
  eventRecorder?: EventRecorder | undefined;
  /** Where failures that do not fail the call go (best-effort cleanups); a pino logger fits. */
  logger?: ManagerLogger | undefined;
  clock?: Clock | undefined;
  /** The agent's root directory (pod volumes live under <root>/pods/<uid>). */
  rootDirectory: string;
  /** Default /var/log/pods. */
  podLogsDirectory?: string | undefined;
  nodeName?: string | undefined;
  hostIPs?: string[] | undefined;
  cpuCFSQuota?: boolean | undefined;
  cpuCFSQuotaPeriodUs?: number | undefined;
  seccompDefault?: boolean | undefined;
  memorySwapBehavior?: "NoSwap" | "LimitedSwap" | "" | undefined;
  /** Only cgroup v1 changes behaviour (swap limit); default: detected from /sys/fs/cgroup. */
  cgroupV1?: boolean | undefined;
  getNodeAllocatable?: (() => NodeAllocatable) | undefined;
  memoryThrottlingFactor?: number | undefined;
  /** When given, CRI calls and pod/container starts are recorded with the kubelet's metric names. */
  registry?: Registry | undefined;
}

export interface KubeGenericRuntimeManager extends KubeGenericRuntime {
  /** The CRI services as wrapped (instrumented when a registry was given). */
  readonly runtimeService: RuntimeService;
  readonly imageService: ImageManagerService;
  /** Stops one container with the kubelet's grace-period rules (preStop first). */
  killContainer(
    pod: V1Pod | undefined,
    containerId: ContainerID,
    containerName: string,
    message: string,
    reason: ContainerKillReason,
    gracePeriodOverrideSeconds?: number,
  ): Promise<void>;
}

function podDescription(pod: V1Pod): string {
  return `${pod.metadata.name ?? ""}_${pod.metadata.namespace ?? "default"}(${pod.metadata.uid ?? ""})`;
}

function defaultAllocatable(): NodeAllocatable {
  return { cpuMilli: cpus().length * 1000, memoryBytes: totalmem() };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Composes the runtime manager. Checks the runtime's CRI version (VersionNotSupported unless it
 * answers "0.1.0"), records its name and creates the pod logs directory.
 */
export async function createKubeGenericRuntimeManager(
  options: KubeGenericRuntimeManagerOptions,
): Promise<KubeGenericRuntimeManager> {
  const registry = options.registry;
  const runtimeService = registry
    ? instrumentRuntimeService(options.runtimeService, { registry })
    : options.runtimeService;
  const imageService = registry
    ? instrumentImageService(options.imageService, { registry })
    : options.imageService;
  const version = await runtimeService.version("0.1.0");
  if (version.version !== "0.1.0") {
    throw new NodeletError(
      ErrorCode.VersionNotSupported,
      `runtime api version is not supported: ${version.runtimeName} answered version "${version.version}", nodelet needs "0.1.0"`,
    );
  }
  const podLogsDirectory = options.podLogsDirectory ?? "/var/log/pods";
  await mkdir(podLogsDirectory, { recursive: true, mode: 0o755 });
  const cgroupV1 = options.cgroupV1 ?? (await detectCgroupV1());
  const keyring = options.keyring ?? (await defaultKeyring(options));
  return new Manager(
    { ...options, keyring },
    runtimeService,
    imageService,
    version.runtimeName,
    podLogsDirectory,
    cgroupV1,
  );
}

/** The kubelet's keyring: pull secrets, node docker config, then exec plugins when configured. */
async function defaultKeyring(options: KubeGenericRuntimeManagerOptions): Promise<DockerKeyring> {
  const configFile = options.imageCredentialProviderConfigFile;
  if (configFile !== undefined && options.imageCredentialProviderBinDir === undefined) {
    throw new NodeletError(
      ErrorCode.InvalidConfig,
      "imageCredentialProviderConfigFile is set but imageCredentialProviderBinDir is not: give both (the plugins are looked up by name in the bin dir)",
    );
  }
  const plugins =
    configFile !== undefined
      ? await createPluginKeyring({
          config: configFile,
          binDir: options.imageCredentialProviderBinDir as string,
          ...(options.clock ? { clock: options.clock } : {}),
          ...(options.registry ? { registry: options.registry } : {}),
        })
      : undefined;
  return createKeyring({
    nodeConfig: { rootDir: options.rootDirectory },
    ...(plugins ? { plugins } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

async function detectCgroupV1(): Promise<boolean> {
  try {
    const entries = await readdir("/sys/fs/cgroup");
    return !entries.includes("cgroup.controllers");
  } catch {
    return true;
  }
}

/** Restart count for a container the runtime has no status for: one past the newest <n>.log file. */
export async function restartCountFromLogDir(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let next = 0;
  for (const name of names) {
    const m = /^(\d+)\.log(\..*)?$/.exec(name);
    if (m) next = Math.max(next, Number(m[1]) + 1);
  }
  return next;
}

class Manager implements KubeGenericRuntimeManager {
  readonly runtimeService: RuntimeService;
  readonly imageService: ImageManagerService;
  readonly #runtimeName: string;
  readonly #options: KubeGenericRuntimeManagerOptions;
  readonly #clock: Clock;
  readonly #podLogsDirectory: string;
  readonly #cgroupV1: boolean;
  readonly #imageManager: ImageManager;
  /** The image side of the Runtime (pullImage, listImages...), with the same keyring and limits. */
  readonly #images: NodeletImageManager;
  readonly #handlerRunner: HandlerRunner;
  readonly #probes: ProbeResults;
  readonly #metrics: StartMetrics | undefined;
  #apiVersionCache: { value: Version; at: number } | undefined;

  constructor(
    options: KubeGenericRuntimeManagerOptions,
    runtimeService: RuntimeService,
    imageService: ImageManagerService,
    runtimeName: string,
    podLogsDirectory: string,
    cgroupV1: boolean,
  ) {
    this.#options = options;
    this.runtimeService = runtimeService;
    this.imageService = imageService;
    this.#runtimeName = runtimeName;
    this.#podLogsDirectory = podLogsDirectory;
    this.#cgroupV1 = cgroupV1;
    this.#clock = options.clock ?? systemClock;
    this.#probes = options.probeResults ?? noProbeResults;
    this.#metrics = options.registry ? startMetrics(options.registry) : undefined;
    this.#images = createImageManager({
      images: imageService,
      ...(options.imagePuller ? { puller: options.imagePuller } : {}),
      ...(options.keyring ? { keyring: options.keyring } : {}),
      ...(options.eventRecorder ? { recorder: options.eventRecorder } : {}),
      ...(options.registry ? { registry: options.registry } : {}),
      ...options.pullLimits,
      clock: this.#clock,
    });
    this.#imageManager = options.imageManager ?? this.#images;
    this.#handlerRunner =
      options.handlerRunner ??
      createHandlerRunner({
        commandRunner: this,
        podIPs: async (pod) =>
          (
            await this.getPodStatus(
              pod.metadata.uid ?? "",
              pod.metadata.name ?? "",
              pod.metadata.namespace ?? "default",
            )
          ).ips,
        ...(options.eventRecorder ? { eventRecorder: options.eventRecorder } : {}),
        ...(options.registry ? { registry: options.registry } : {}),
      });
  }

  #event(
    pod: V1Pod,
    container: V1Container | undefined,
    type: EventType,
    reason: string,
    text: string,
  ): void {
    this.#options.eventRecorder?.event(
      {
        kind: "Pod",
        namespace: pod.metadata.namespace ?? "default",
        name: pod.metadata.name ?? "",
        uid: pod.metadata.uid ?? "",
        ...(container ? { fieldPath: `spec.containers{${container.name}}` } : {}),
      },
      type,
      reason,
      text,
    );
  }

  // --- Runtime: identity and state ---------------------------------------------------------

  type(): string {
    return this.#runtimeName;
  }

  supportsSingleFileMapping(): boolean {
    return true;
  }

  async version(): Promise<Version> {
    const res = await this.runtimeService.version("0.1.0");
    return Version.parse(res.runtimeVersion);
  }

  async apiVersion(): Promise<Version> {
    // Cached for a minute, as the kubelet's versionCache.
    const now = this.#clock.now();
    if (this.#apiVersionCache && now - this.#apiVersionCache.at < 60_000) return this.#apiVersionCache.value;
    const res = await this.runtimeService.version("0.1.0");
    const value = Version.parse(res.runtimeApiVersion.replace(/^v/, "").replace(/[a-z].*$/, "") || "1");
    this.#apiVersionCache = { value, at: now };
    return value;
  }

  async status(): Promise<RuntimeStatus> {
    const res = await this.runtimeService.status(false);
    return {
      conditions: (res.status?.conditions ?? []).map((c) => ({
        type: c.type,
        status: c.status,
        reason: c.reason,
        message: c.message,
      })),
      handlers: res.runtimeHandlers.map((h) => ({
        name: h.name,
        recursiveReadOnlyMounts: h.features?.recursiveReadOnlyMounts ?? false,
        userNamespaces: h.features?.userNamespaces ?? false,
      })),
      features: { supplementalGroupsPolicy: res.features?.supplementalGroupsPolicy ?? false },
    };
  }

  getPods(all: boolean): Promise<Pod[]> {
    return listPods(this.runtimeService, this.#runtimeName, all);
  }

  getPodStatus(uid: string, name: string, namespace: string): Promise<PodStatus> {
    return readPodStatus(this.runtimeService, this.#runtimeName, this.#clock, uid, name, namespace);
  }

  async garbageCollect(
    _policy: GCPolicy,
    _allSourcesReady: boolean,
    _evictNonDeletedPods: boolean,
  ): Promise<void> {
    throw new NodeletError(ErrorCode.Unimplemented, "garbageCollect arrives with @nodelet/container-gc");
  }

  async getContainerLogs(
    _pod: V1Pod,
    containerId: ContainerID,
    _logOptions: V1PodLogOptions,
    _stdout: NodeJS.WritableStream,
    _stderr: NodeJS.WritableStream,
  ): Promise<void> {
    throw new NodeletError(
      ErrorCode.Unimplemented,
      `getContainerLogs (${formatContainerID(containerId)}) arrives with @nodelet/logs`,
    );
  }

  async deleteContainer(containerId: ContainerID): Promise<void> {
    // Rotated logs first: if that fails, the container stays and removal is retried.
    await this.#options.logManager?.clean(containerId.id);
    try {
      await this.runtimeService.removeContainer(containerId.id);
    } catch (err) {
      if (!isNodeletError(err, ErrorCode.NotFound)) throw err;
    }
  }

  async updatePodCIDR(podCIDR: string): Promise<void> {
    await this.runtimeService.updateRuntimeConfig({ networkConfig: { podCidr: podCIDR } });
  }

  // --- ImageService -----------------------------------------------------------------------

  pullImage(
    image: RuntimeImageSpec,
    pullSecrets: readonly V1Secret[],
    sandboxConfig: PodSandboxConfig | undefined,
    options?: SignalOptions,
  ): Promise<string> {
    return this.#images.pullImage(image, pullSecrets, sandboxConfig, options);
  }

  getImageRef(image: RuntimeImageSpec): Promise<string> {
    return this.#images.getImageRef(image);
  }

  listImages(): Promise<Image[]> {
    return this.#images.listImages();
  }

  removeImage(image: RuntimeImageSpec): Promise<void> {
    return this.#images.removeImage(image);
  }

  imageStats(): Promise<ImageStats> {
    return this.#images.imageStats();
  }

  // --- StreamingRuntime and CommandRunner --------------------------------------------------

  async getExec(
    containerId: ContainerID,
    cmd: readonly string[],
    streams: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean },
  ): Promise<URL> {
    const res = await this.runtimeService.exec({ containerId: containerId.id, cmd: [...cmd], ...streams });
    return new URL(res.url);
  }

  async getAttach(
    containerId: ContainerID,
    streams: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean },
  ): Promise<URL> {
    const res = await this.runtimeService.attach({ containerId: containerId.id, ...streams });
    return new URL(res.url);
  }

  async getPortForward(
    podName: string,
    podNamespace: string,
    podUid: string,
    ports: readonly number[],
  ): Promise<URL> {
    const status = await this.getPodStatus(podUid, podName, podNamespace);
    const newest = status.sandboxStatuses[0];
    if (!newest) {
      throw new NodeletError(
        ErrorCode.NotFound,
        `failed to find sandboxID for pod ${podName}_${podNamespace}(${podUid})`,
      );
    }
    const res = await this.runtimeService.portForward({ podSandboxId: newest.id, port: [...ports] });
    return new URL(res.url);
  }

  async runInContainer(
    containerId: ContainerID,
    cmd: readonly string[],
    timeoutSeconds: number,
  ): Promise<Buffer> {
    const res = await this.runtimeService.execSync(containerId.id, cmd, timeoutSeconds);
    return Buffer.concat([res.stdout, res.stderr]);
  }

  // --- syncPod --------------------------------------------------------------------------------

  async syncPod(
    pod: V1Pod,
    podStatus: PodStatus,
    pullSecrets: readonly V1Secret[],
    backOff: Backoff,
    options?: SignalOptions,
  ): Promise<PodSyncResult> {
    const result = new PodSyncResult();
    try {
      validatePod(pod); // before anything is created: a bad spec must not leave half a pod behind
    } catch (err) {
      result.fail(NodeletError.from(err, ErrorCode.InvalidPod));
      return result;
    }
    const changes = computePodActions(pod, podStatus, this.#probes);

    if (changes.createSandbox && changes.sandboxId !== "") {
      this.#event(
        pod,
        undefined,
        "Normal",
        "SandboxChanged",
        "Pod sandbox changed, it will be killed and re-created.",
      );
    }

    if (changes.killPod) {
      const killed = await this.#killPodWithSyncResult(
        pod,
        runningPodFromStatus(this.#runtimeName, podStatus),
      );
      result.addAll(killed);
      if (killed.error()) return result;
      if (changes.createSandbox) await this.#removeInitContainers(pod, podStatus, false);
    } else {
      for (const kill of changes.containersToKill.values()) {
        const step = result.add({ action: "KillContainer", target: kill.name, message: "" });
        try {
          await this.killContainer(pod, kill.id, kill.name, kill.message, kill.reason);
        } catch (err) {
          step.error = ErrorCode.KillContainerError;
          step.message = message(err);
          return result;
        }
      }
    }

    await this.#removeInitContainers(pod, podStatus, true);

    let podIPs = podStatus.ips;
    let sandboxId = changes.sandboxId;
    if (changes.createSandbox) {
      if (pod.metadata.deletionTimestamp) return result; // terminating: do not bring it back
      const step = result.add({ action: "CreatePodSandbox", target: podDescription(pod), message: "" });
      try {
        sandboxId = await this.#createPodSandbox(pod, changes.attempt);
      } catch (err) {
        this.#metrics?.startedPodsErrors.inc();
        step.error = ErrorCode.CreatePodSandboxError;
        step.message = `Failed to create pod sandbox: ${message(err)}`;
        this.#event(pod, undefined, "Warning", "FailedCreatePodSandBox", step.message);
        return result;
      }
      this.#metrics?.startedPods.inc();
      try {
        const res = await this.runtimeService.podSandboxStatus(sandboxId, false);
        if (!pod.spec.hostNetwork && res.status) podIPs = determinePodSandboxIPs(res.status);
      } catch (err) {
        this.#event(
          pod,
          undefined,
          "Warning",
          "FailedPodSandBoxStatus",
          `Unable to get pod sandbox status: ${message(err)}`,
        );
        result.fail(NodeletError.from(err));
        return result;
      }
    }

    const configStep = result.add({ action: "ConfigPodSandbox", target: sandboxId, message: "" });
    let sandboxConfig: PodSandboxConfig;
    try {
      sandboxConfig = this.#sandboxConfig(pod, changes.attempt);
    } catch (err) {
      configStep.error = ErrorCode.ConfigPodSandboxError;
      configStep.message = `GeneratePodSandboxConfig for pod "${podDescription(pod)}" failed: ${message(err)}`;
      return result;
    }

    const start = async (container: V1Container, type: ContainerType): Promise<boolean> => {
      const metricType = type === "init" ? "init_container" : "container";
      const step = result.add({ action: "StartContainer", target: container.name, message: "" });
      const backoffMessage = this.#doBackOff(pod, container, podStatus, backOff);
      if (backoffMessage) {
        step.error = ErrorCode.CrashLoopBackOff;
        step.message = backoffMessage;
        return false;
      }
      this.#metrics?.startedContainers.inc({ container_type: metricType });
      try {
        await this.#startContainer(
          sandboxId,
          sandboxConfig,
          pod,
          container,
          type,
          podStatus,
          pullSecrets,
          podIPs,
          options,
        );
        return true;
      } catch (err) {
        const failure = NodeletError.from(err, ErrorCode.RunContainerError);
        this.#metrics?.startedContainersErrors.inc({ container_type: metricType, code: failure.code });
        step.error = failure.code;
        step.message = failure.message;
        return false;
      }
    };

    const inits = pod.spec.initContainers ?? [];
    for (const index of changes.initContainersToStart) {
      const container = inits[index] as V1Container;
      const started = await start(container, "init");
      // A failed sidecar does not hold up the rest; a failed init container does.
      if (!started && !isRestartableInitContainer(container)) return result;
    }
    for (const index of changes.containersToStart) {
      await start(pod.spec.containers[index] as V1Container, "container");
    }
    return result;
  }

  /** CrashLoopBackOff: the newest exited instance's FinishedAt is the start of the wait. */
  #doBackOff(pod: V1Pod, container: V1Container, podStatus: PodStatus, backOff: Backoff): string | undefined {
    const exited = podStatus.containerStatuses.find((c) => c.name === container.name && c.state === "exited");
    if (!exited) return undefined;
    const finishedAt = exited.finishedAt?.getTime() ?? 0;
    const key = `${pod.metadata.name ?? ""}_${pod.metadata.namespace ?? "default"}_${pod.metadata.uid ?? ""}_${container.name}_${exited.hash}`;
    if (backOff.isInBackOffSince(key, finishedAt)) {
      this.#event(
        pod,
        container,
        "Warning",
        "BackOff",
        `Back-off restarting failed container ${container.name} in pod ${podDescription(pod)}`,
      );
      return `back-off ${formatGoDuration(backOff.get(key))} restarting failed container=${container.name} pod=${podDescription(pod)}`;
    }
    backOff.next(key, finishedAt);
    return undefined;
  }

  #sandboxConfig(pod: V1Pod, attempt: number): PodSandboxConfig {
    return generatePodSandboxConfig(pod, attempt, {
      podLogsDir: this.#podLogsDirectory,
      seccompDefault: this.#options.seccompDefault ?? false,
      ...(this.#options.nodeName ? { nodeName: this.#options.nodeName } : {}),
    });
  }

  async #createPodSandbox(pod: V1Pod, attempt: number): Promise<string> {
    const config = this.#sandboxConfig(pod, attempt);
    await mkdir(config.logDirectory, { recursive: true, mode: 0o755 });
    const handler = this.#options.runtimeClassResolver
      ? await this.#options.runtimeClassResolver.lookupRuntimeHandler(pod.spec.runtimeClassName)
      : (pod.spec.runtimeClassName ?? "");
    const stop = this.#metrics?.runPodSandboxDuration.startTimer({ runtime_handler: handler });
    try {
      return await this.runtimeService.runPodSandbox(config, handler);
    } catch (err) {
      this.#metrics?.runPodSandboxErrors.inc({ runtime_handler: handler });
      throw err;
    } finally {
      stop?.();
    }
  }

  async #startContainer(
    sandboxId: string,
    sandboxConfig: PodSandboxConfig,
    pod: V1Pod,
    container: V1Container,
    type: ContainerType,
    podStatus: PodStatus,
    pullSecrets: readonly V1Secret[],
    podIPs: string[],
    options?: SignalOptions,
  ): Promise<void> {
    const fail = (code: ErrorCode, err: unknown): never => {
      const text = message(err);
      this.#event(pod, container, "Warning", "Failed", `Error: ${text}`);
      throw new NodeletError(code, text, { cause: err });
    };

    // 1. The image.
    let imageRef: string;
    try {
      imageRef = await this.#imageManager.ensureImageExists(
        pod,
        container,
        pullSecrets,
        sandboxConfig,
        options,
      );
    } catch (err) {
      const failure = NodeletError.from(err, ErrorCode.ErrImagePull);
      this.#event(pod, container, "Warning", "Failed", `Error: ${failure.message}`);
      throw failure;
    }

    // 2. The container: restart count survives a runtime that lost its state, through the log files.
    const previous = findContainerStatusByName(podStatus, container.name);
    const restartCount = previous
      ? previous.restartCount + 1
      : await restartCountFromLogDir(join(sandboxConfig.logDirectory, container.name));
    let config: Awaited<ReturnType<typeof generateContainerConfig>>;
    try {
      const imageUser = await this.#imageUser(imageRef);
      config = await generateContainerConfig({
        pod,
        container,
        containerType: type,
        restartCount,
        imageRef,
        userSpecifiedImage: container.image ?? "",
        podIPs,
        hostIPs: this.#options.hostIPs ?? [],
        nodeName: this.#options.nodeName ?? osHostname(),
        rootDir: this.#options.rootDirectory,
        podLogsDir: this.#podLogsDirectory,
        cpuCFSQuota: this.#options.cpuCFSQuota ?? true,
        cpuCFSQuotaPeriodUs: this.#options.cpuCFSQuotaPeriodUs ?? 100_000,
        seccompDefault: this.#options.seccompDefault ?? false,
        memorySwapBehavior: this.#options.memorySwapBehavior ?? "NoSwap",
        memoryCapacityBytes: (this.#options.getNodeAllocatable ?? defaultAllocatable)().memoryBytes,
        cgroupV1: this.#cgroupV1,
        ...(imageUser ? { imageUser } : {}),
      });
    } catch (err) {
      return fail(ErrorCode.CreateContainerConfigError, err);
    }

    let containerId: string;
    try {
      containerId = await this.runtimeService.createContainer(sandboxId, config, sandboxConfig);
    } catch (err) {
      return fail(ErrorCode.CreateContainerError, err);
    }
    this.#event(pod, container, "Normal", "Created", `Created container ${container.name}`);

    // 3. Start it.
    try {
      await this.runtimeService.startContainer(containerId);
    } catch (err) {
      return fail(ErrorCode.RunContainerError, err);
    }
    this.#event(pod, container, "Normal", "Started", `Started container ${container.name}`);

    // 4. postStart blocks the start; a failure kills the container.
    const postStart = container.lifecycle?.postStart;
    if (postStart) {
      const id = { type: this.#runtimeName, id: containerId };
      try {
        await this.#handlerRunner.run(id, pod, container, postStart, options);
      } catch (err) {
        // No detail in the event: hook output may carry secrets.
        this.#event(pod, container, "Warning", "FailedPostStartHook", "PostStartHook failed");
        await this.killContainer(pod, id, container.name, "FailedPostStartHook", "FailedPostStartHook").catch(
          (killErr: unknown) => {
            // The PostStartHookError below is what the caller acts on; the next sync kills it again.
            this.#options.logger?.warn(
              { pod: podDescription(pod), container: container.name },
              `failed to kill the container after its postStart hook failed: ${message(killErr)}`,
            );
          },
        );
        throw new NodeletError(ErrorCode.PostStartHookError, message(err), { cause: err });
      }
    }
  }

  async #imageUser(imageRef: string): Promise<{ uid?: bigint; username?: string } | undefined> {
    const res = await this.imageService.imageStatus(ImageSpec.fromPartial({ image: imageRef }), false);
    if (!res.image) return undefined;
    return {
      ...(res.image.uid ? { uid: res.image.uid.value } : {}),
      ...(res.image.username ? { username: res.image.username } : {}),
    };
  }

  /**
   * Init containers: before a start, keep only the newest finished instance per name (prune);
   * when the sandbox is recreated, remove them all (purge).
   */
  async #removeInitContainers(pod: V1Pod, podStatus: PodStatus, keepNewest: boolean): Promise<void> {
    const initNames = new Set((pod.spec.initContainers ?? []).map((c) => c.name));
    const seen = new Set<string>();
    for (const status of podStatus.containerStatuses) {
      if (!initNames.has(status.name)) continue;
      if (keepNewest) {
        if (status.state !== "exited" && status.state !== "unknown") continue;
        if (!seen.has(status.name)) {
          seen.add(status.name);
          continue;
        }
      }
      await this.deleteContainer(status.id).catch((err: unknown) => {
        // Best effort, as the kubelet: the next sync or container GC retries.
        this.#options.logger?.warn(
          { pod: podDescription(pod), container: status.name, containerId: formatContainerID(status.id) },
          `failed to remove init container: ${message(err)}`,
        );
      });
    }
  }

  // --- killPod / killContainer -------------------------------------------------------------------

  async killPod(pod: V1Pod | undefined, runningPod: Pod, gracePeriodOverrideSeconds?: number): Promise<void> {
    const result = await this.#killPodWithSyncResult(pod, runningPod, gracePeriodOverrideSeconds);
    const err = result.error();
    if (err) throw err;
  }

  async #killPodWithSyncResult(
    pod: V1Pod | undefined,
    runningPod: Pod,
    gracePeriodOverrideSeconds?: number,
  ): Promise<PodSyncResult> {
    const result = new PodSyncResult();
    const running = runningPod.containers.filter((c) => c.state === "running");
    const ordering = pod ? new TerminationOrdering(pod, new Set(running.map((c) => c.name))) : undefined;
    await Promise.all(
      running.map(async (c) => {
        const step = result.add({ action: "KillContainer", target: c.name, message: "" });
        try {
          await this.killContainer(pod, c.id, c.name, "", "", gracePeriodOverrideSeconds, ordering);
        } catch (err) {
          step.error = ErrorCode.KillContainerError;
          step.message = message(err);
        } finally {
          ordering?.terminated(c.name);
        }
      }),
    );
    const step = result.add({ action: "KillPodSandbox", target: runningPod.id, message: "" });
    // Every sandbox of the pod is stopped; removal is left to garbage collection.
    for (const sandbox of runningPod.sandboxes) {
      try {
        await this.runtimeService.stopPodSandbox(sandbox.id.id);
      } catch (err) {
        if (isNodeletError(err, ErrorCode.NotFound)) continue;
        step.error = ErrorCode.KillPodSandboxError;
        step.message = message(err);
      }
    }
    return result;
  }

  async killContainer(
    pod: V1Pod | undefined,
    containerId: ContainerID,
    containerName: string,
    reasonMessage: string,
    reason: ContainerKillReason,
    gracePeriodOverrideSeconds?: number,
    ordering?: TerminationOrdering,
  ): Promise<void> {
    let spec: V1Container | undefined;
    if (pod) {
      spec = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find(
        (c) => c.name === containerName,
      );
      if (!spec) {
        throw new NodeletError(
          ErrorCode.KillContainerError,
          `failed to get containerSpec "${containerName}" (id=${formatContainerID(containerId)}) in pod "${podDescription(pod)}"`,
        );
      }
    } else {
      // The Pod object is gone (e.g. agent restarted): rebuild what killing needs from the labels.
      ({ pod, container: spec } = await this.#restoreSpecFromLabels(containerId));
    }

    let grace = terminationGracePeriod(pod, spec, reason);
    this.#event(pod, spec, "Normal", "Killing", reasonMessage || `Stopping container ${spec.name}`);
    // An override only shortens or lengthens a non-zero grace period.
    if (gracePeriodOverrideSeconds !== undefined && grace !== 0) grace = gracePeriodOverrideSeconds;

    const preStop = spec.lifecycle?.preStop;
    if (preStop && grace > 0) grace -= await this.#runPreStop(pod, containerId, spec, grace);
    if (ordering && grace > 0) grace -= await ordering.waitForTurn(spec.name, grace);
    grace = Math.max(grace, MINIMUM_GRACE_PERIOD_SECONDS);

    try {
      await this.runtimeService.stopContainer(containerId.id, grace);
    } catch (err) {
      if (!isNodeletError(err, ErrorCode.NotFound)) throw err;
    }
  }

  /** Runs preStop for at most `graceSeconds` (it is not cancelled after), returning whole seconds used. */
  async #runPreStop(
    pod: V1Pod,
    containerId: ContainerID,
    container: V1Container,
    graceSeconds: number,
  ): Promise<number> {
    const started = Date.now();
    const hook = this.#handlerRunner
      .run(containerId, pod, container, container.lifecycle?.preStop ?? {})
      .catch((err: unknown) => {
        this.#event(pod, container, "Warning", "FailedPreStopHook", "PreStopHook failed");
        return `preStop failed: ${message(err)}`;
      });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      hook,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, graceSeconds * 1000))),
    ]);
    clearTimeout(timer);
    return Math.floor((Date.now() - started) / 1000);
  }

  async #restoreSpecFromLabels(containerId: ContainerID): Promise<{ pod: V1Pod; container: V1Container }> {
    const res = await this.runtimeService.containerStatus(containerId.id, false);
    const status = res.status;
    if (!status) {
      throw new NodeletError(
        ErrorCode.KillContainerError,
        `no status for container ${formatContainerID(containerId)}`,
      );
    }
    const labelled = getContainerInfoFromLabels(status.labels);
    const annotated = getContainerInfoFromAnnotations(status.annotations);
    const container: V1Container = {
      name: labelled.containerName,
      terminationMessagePath: annotated.terminationMessagePath,
      ...(annotated.preStopHandler ? { lifecycle: { preStop: annotated.preStopHandler } } : {}),
      ...(annotated.containerPorts.length > 0 ? { ports: annotated.containerPorts } : {}),
    };
    const pod: V1Pod = {
      metadata: {
        name: labelled.podName,
        namespace: labelled.podNamespace,
        uid: labelled.podUid,
        ...(annotated.podDeletionGracePeriod !== undefined
          ? { deletionGracePeriodSeconds: annotated.podDeletionGracePeriod }
          : {}),
      },
      spec: {
        containers: [container],
        ...(annotated.podTerminationGracePeriod !== undefined
          ? { terminationGracePeriodSeconds: annotated.podTerminationGracePeriod }
          : {}),
      },
    };
    return { pod, container };
  }
}

/** deletionGracePeriodSeconds, else the probe's or the pod's terminationGracePeriodSeconds, else 2 s. */
export function terminationGracePeriod(
  pod: V1Pod,
  container: V1Container,
  reason: ContainerKillReason,
): number {
  if (pod.metadata.deletionGracePeriodSeconds !== undefined) return pod.metadata.deletionGracePeriodSeconds;
  if (pod.spec.terminationGracePeriodSeconds !== undefined) {
    const probe =
      reason === "StartupProbe"
        ? container.startupProbe
        : reason === "LivenessProbe"
          ? container.livenessProbe
          : undefined;
    return probe?.terminationGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds;
  }
  return MINIMUM_GRACE_PERIOD_SECONDS;
}
