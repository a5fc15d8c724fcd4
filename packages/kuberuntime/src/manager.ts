// createKubeGenericRuntimeManager: the kubelet's kubeGenericRuntimeManager over any CRI runtime.
// Follows pkg/kubelet/kuberuntime/kuberuntime_manager.go (construction, version, status, GetPods,
// SyncPod, KillPod, GetPodStatus, doBackOff); container start and kill live in container-start.ts
// and container-kill.ts, sandboxes in sandbox.ts, the options and their defaults in setup.ts.
import type { GCPassResult } from "@nodelet/container-gc";
import type { PodSandboxConfig } from "@nodelet/cri-api";
import { createImageManager, type NodeletImageManager } from "@nodelet/image-manager";
import { createHandlerRunner } from "@nodelet/lifecycle";
import {
  type Backoff,
  type ContainerGCRuntime,
  type ContainerID,
  type ContainerType,
  CRI_VERSION,
  ErrorCode,
  errorMessage,
  formatPod,
  type GCPolicy,
  type Image,
  type ImageManagerService,
  type ImageStats,
  isNodeletError,
  isRestartableInitContainer,
  type KubeGenericRuntime,
  NodeletError,
  type Pod,
  type PodStatus,
  PodSyncResult,
  type ProbeResults,
  podNamespace,
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
import {
  deleteContainer,
  killContainer,
  killContainersWithSyncResult,
  removeInitContainers,
} from "./container-kill.js";
import { getContainerLogs } from "./container-logs.js";
import { doBackOff, startContainer } from "./container-start.js";
import { createContainerGCRuntime, createRuntimeContainerGC } from "./gc.js";
import { startMetrics } from "./metrics.js";
import { type ContainerKillReason, computePodActions, noProbeResults } from "./pod-actions.js";
import { type RuntimeContext, recordEvent } from "./runtime-context.js";
import {
  determinePodSandboxIPs,
  listPods,
  readPodStatus,
  runningPodFromStatus,
  toRuntimeStatus,
} from "./runtime-status.js";
import { createPodSandbox, getPortForward, sandboxConfigFor } from "./sandbox.js";
import { type KubeGenericRuntimeManagerOptions, type ManagerSetup, resolveSetup } from "./setup.js";
import { createStatusMemo } from "./status-memo.js";
import { unmountPodVolumes } from "./volume-cleanup.js";

export interface KubeGenericRuntimeManager extends KubeGenericRuntime {
  /** The CRI services as wrapped (instrumented when a registry was given). */
  readonly runtimeService: RuntimeService;
  readonly imageService: ImageManagerService;
  /**
   * The CRI lists and removal with logs (see @nodelet/container-gc), over every object on the
   * runtime; Runtime.garbageCollect works through an owned view of it (ContainerGCSettings.owns).
   */
  readonly containerGCRuntime: ContainerGCRuntime;
  /** Runtime.garbageCollect (one pass, with the options' containerGC settings), resolving with what it removed. */
  runContainerGC(
    policy: GCPolicy,
    allSourcesReady: boolean,
    evictNonDeletedPods: boolean,
  ): Promise<GCPassResult>;
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

/**
 * Composes the runtime manager. Checks the runtime's CRI version (UnsupportedRuntimeApiVersion
 * unless it answers CRI_VERSION on runtime.v1), records its name and creates the pod logs directory.
 */
export async function createKubeGenericRuntimeManager(
  options: KubeGenericRuntimeManagerOptions,
): Promise<KubeGenericRuntimeManager> {
  return new Manager(await resolveSetup(options));
}

class Manager implements KubeGenericRuntimeManager {
  readonly runtimeService: RuntimeService;
  readonly imageService: ImageManagerService;
  readonly containerGCRuntime: ContainerGCRuntime;
  readonly #ctx: RuntimeContext;
  readonly #gc: ReturnType<typeof createRuntimeContainerGC>;
  /** The image side of the Runtime (pullImage, listImages...), with the same keyring and limits. */
  readonly #images: NodeletImageManager;
  readonly #probes: ProbeResults;
  #apiVersionCache: { value: Version; at: number } | undefined;

  constructor(setup: ManagerSetup) {
    const { options, runtimeService, imageService } = setup;
    this.runtimeService = runtimeService;
    this.imageService = imageService;
    const clock = options.clock ?? systemClock;
    this.#probes = options.probeResults ?? noProbeResults;
    this.#images = createImageManager({
      images: imageService,
      ...(options.imagePuller ? { puller: options.imagePuller } : {}),
      ...(options.keyring ? { keyring: options.keyring } : {}),
      ...(options.eventRecorder ? { recorder: options.eventRecorder } : {}),
      ...(options.registry ? { registry: options.registry } : {}),
      ...(options.onPullProgress ? { onPullProgress: options.onPullProgress } : {}),
      ...options.pullLimits,
      clock,
    });
    const handlerRunner =
      options.handlerRunner ??
      createHandlerRunner({
        commandRunner: this,
        podIPs: async (pod) =>
          (await this.getPodStatus(pod.metadata.uid ?? "", pod.metadata.name ?? "", podNamespace(pod))).ips,
        ...(options.eventRecorder ? { eventRecorder: options.eventRecorder } : {}),
        ...(options.registry ? { registry: options.registry } : {}),
      });
    this.#ctx = {
      runtimeService,
      imageService,
      runtimeName: setup.runtimeName,
      options,
      clock,
      podLogsDirectory: setup.podLogsDirectory,
      cgroupV1: setup.cgroupV1,
      mounter: setup.mounter,
      imageManager: options.imageManager ?? this.#images,
      handlerRunner,
      metrics: options.registry ? startMetrics(options.registry) : undefined,
      statusMemo: createStatusMemo(),
    };
    this.containerGCRuntime = createContainerGCRuntime(this.#ctx);
    this.#gc = createRuntimeContainerGC(this.#ctx, options.containerGC);
  }

  // --- Runtime: identity and state ---------------------------------------------------------

  type(): string {
    return this.#ctx.runtimeName;
  }

  supportsSingleFileMapping(): boolean {
    return true;
  }

  async version(): Promise<Version> {
    const res = await this.runtimeService.version(CRI_VERSION);
    return Version.parse(res.runtimeVersion);
  }

  async apiVersion(): Promise<Version> {
    // Cached for a minute, as the kubelet's versionCache.
    const now = this.#ctx.clock.now();
    if (this.#apiVersionCache && now - this.#apiVersionCache.at < 60_000) return this.#apiVersionCache.value;
    const res = await this.runtimeService.version(CRI_VERSION);
    const value = Version.parse(res.runtimeApiVersion.replace(/^v/, "").replace(/[a-z].*$/, "") || "1");
    this.#apiVersionCache = { value, at: now };
    return value;
  }

  async status(): Promise<RuntimeStatus> {
    return toRuntimeStatus(await this.runtimeService.status(false));
  }

  getPods(all: boolean): Promise<Pod[]> {
    return listPods(this.runtimeService, this.#ctx.runtimeName, all);
  }

  getPodStatus(uid: string, name: string, namespace: string): Promise<PodStatus> {
    const ctx = this.#ctx;
    return readPodStatus(
      this.runtimeService,
      ctx.runtimeName,
      ctx.clock,
      uid,
      name,
      namespace,
      ctx.statusMemo,
    );
  }

  async garbageCollect(
    policy: GCPolicy,
    allSourcesReady: boolean,
    evictNonDeletedPods: boolean,
  ): Promise<void> {
    await this.runContainerGC(policy, allSourcesReady, evictNonDeletedPods);
  }

  runContainerGC(
    policy: GCPolicy,
    allSourcesReady: boolean,
    evictNonDeletedPods: boolean,
  ): Promise<GCPassResult> {
    return this.#gc.garbageCollect(policy, allSourcesReady, evictNonDeletedPods);
  }

  getContainerLogs(
    _pod: V1Pod,
    containerId: ContainerID,
    logOptions: V1PodLogOptions,
    stdout: NodeJS.WritableStream,
    stderr: NodeJS.WritableStream,
    options?: SignalOptions,
  ): Promise<void> {
    return getContainerLogs(this.#ctx, containerId, logOptions, stdout, stderr, options);
  }

  deleteContainer(containerId: ContainerID): Promise<void> {
    return deleteContainer(this.#ctx, containerId);
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

  getPortForward(
    podName: string,
    podNamespace: string,
    podUid: string,
    ports: readonly number[],
  ): Promise<URL> {
    return getPortForward(this.#ctx, podName, podNamespace, podUid, ports);
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
      recordEvent(
        this.#ctx,
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
        runningPodFromStatus(this.#ctx.runtimeName, podStatus),
      );
      result.addAll(killed);
      if (killed.error()) return result;
      if (changes.createSandbox) await removeInitContainers(this.#ctx, pod, podStatus, false);
    } else {
      for (const kill of changes.containersToKill.values()) {
        const step = result.add({ action: "KillContainer", target: kill.name, message: "" });
        try {
          await killContainer(this.#ctx, pod, kill.id, kill.name, kill.message, kill.reason);
        } catch (err) {
          step.error = ErrorCode.KillContainerError;
          step.message = errorMessage(err);
          return result;
        }
      }
    }

    await removeInitContainers(this.#ctx, pod, podStatus, true);

    let podIPs = podStatus.ips;
    let sandboxId = changes.sandboxId;
    // The config a sandbox was just made with; the containers reuse it rather than reading the
    // host's resolv.conf again (the kubelet generates it twice).
    let createdConfig: PodSandboxConfig | undefined;
    if (changes.createSandbox) {
      if (pod.metadata.deletionTimestamp) return result; // terminating: do not bring it back
      const step = result.add({ action: "CreatePodSandbox", target: formatPod(pod), message: "" });
      try {
        const created = await createPodSandbox(this.#ctx, pod, changes.attempt);
        sandboxId = created.id;
        createdConfig = created.config;
      } catch (err) {
        this.#ctx.metrics?.startedPodsErrors.inc();
        step.error = ErrorCode.CreatePodSandboxError;
        step.message = `Failed to create pod sandbox: ${errorMessage(err)}`;
        recordEvent(this.#ctx, pod, undefined, "Warning", "FailedCreatePodSandBox", step.message);
        return result;
      }
      this.#ctx.metrics?.startedPods.inc();
      try {
        const res = await this.runtimeService.podSandboxStatus(sandboxId, false);
        if (res.status) this.#ctx.statusMemo.addSandbox(pod.metadata.uid ?? "", res.status);
        if (!pod.spec.hostNetwork && res.status) podIPs = determinePodSandboxIPs(res.status);
      } catch (err) {
        recordEvent(
          this.#ctx,
          pod,
          undefined,
          "Warning",
          "FailedPodSandBoxStatus",
          `Unable to get pod sandbox status: ${errorMessage(err)}`,
        );
        result.fail(NodeletError.from(err));
        return result;
      }
    }

    const configStep = result.add({ action: "ConfigPodSandbox", target: sandboxId, message: "" });
    let sandboxConfig: PodSandboxConfig;
    try {
      sandboxConfig = createdConfig ?? sandboxConfigFor(this.#ctx, pod, changes.attempt);
    } catch (err) {
      configStep.error = ErrorCode.ConfigPodSandboxError;
      configStep.message = `GeneratePodSandboxConfig for pod "${formatPod(pod)}" failed: ${errorMessage(err)}`;
      return result;
    }

    const start = async (container: V1Container, type: ContainerType): Promise<boolean> => {
      const metricType = type === "init" ? "init_container" : "container";
      const step = result.add({ action: "StartContainer", target: container.name, message: "" });
      const backoffMessage = doBackOff(this.#ctx, pod, container, podStatus, backOff);
      if (backoffMessage) {
        step.error = ErrorCode.CrashLoopBackOff;
        step.message = backoffMessage;
        return false;
      }
      this.#ctx.metrics?.startedContainers.inc({ container_type: metricType });
      try {
        await startContainer(this.#ctx, {
          sandboxId,
          sandboxConfig,
          pod,
          container,
          type,
          podStatus,
          pullSecrets,
          podIPs,
          options,
        });
        return true;
      } catch (err) {
        const failure = NodeletError.from(err, ErrorCode.RunContainerError);
        this.#ctx.metrics?.startedContainersErrors.inc({ container_type: metricType, code: failure.code });
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

  // --- killPod / killContainer -------------------------------------------------------------------

  async killPod(pod: V1Pod | undefined, runningPod: Pod, gracePeriodOverrideSeconds?: number): Promise<void> {
    const result = await this.#killPodWithSyncResult(pod, runningPod, gracePeriodOverrideSeconds);
    const err = result.error();
    if (err) throw err;
    // Everything stopped: the pod's subPath bind mounts and Memory emptyDirs go too.
    await unmountPodVolumes(this.#ctx, pod?.metadata.uid ?? runningPod.id);
  }

  /** The kubelet's killPodWithSyncResult: the containers, then every sandbox of the pod. */
  async #killPodWithSyncResult(
    pod: V1Pod | undefined,
    runningPod: Pod,
    gracePeriodOverrideSeconds?: number,
  ): Promise<PodSyncResult> {
    const result = await killContainersWithSyncResult(this.#ctx, pod, runningPod, gracePeriodOverrideSeconds);
    const step = result.add({ action: "KillPodSandbox", target: runningPod.id, message: "" });
    // Every sandbox of the pod is stopped; removal is left to garbage collection.
    for (const sandbox of runningPod.sandboxes) {
      try {
        await this.runtimeService.stopPodSandbox(sandbox.id.id);
      } catch (err) {
        if (isNodeletError(err, ErrorCode.NotFound)) continue;
        step.error = ErrorCode.KillPodSandboxError;
        step.message = errorMessage(err);
      }
    }
    return result;
  }

  killContainer(...args: Parameters<KubeGenericRuntimeManager["killContainer"]>): Promise<void> {
    return killContainer(this.#ctx, ...args);
  }
}
