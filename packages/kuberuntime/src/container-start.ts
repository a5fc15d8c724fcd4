// Starting one container: image, config, CreateContainer, StartContainer, postStart hook.
// Follows startContainer in pkg/kubelet/kuberuntime/kuberuntime_container.go, with its
// restart-count recovery from the log directory of dead instances.
import { readdir } from "node:fs/promises";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import { ImageSpec, type PodSandboxConfig } from "@nodelet/cri-api";
import {
  type Backoff,
  type ContainerType,
  ErrorCode,
  type EventType,
  errorMessage,
  findContainerStatusByName,
  formatGoDuration,
  formatPod,
  getPodFullName,
  NodeletError,
  type PodStatus,
  type SignalOptions,
  type V1Container,
  type V1Pod,
  type V1Secret,
} from "@nodelet/runtime-api";
import { generateContainerConfig } from "./container-config.js";
import { hashContainer } from "./container-hash.js";
import { killContainer } from "./container-kill.js";
import { type RuntimeContext, recordEvent } from "./runtime-context.js";
import { defaultAllocatable } from "./setup.js";

/** Restart count for a container the runtime has no status for: one past the newest <n>.log file. */
export async function restartCountFromLogDir(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0; // no log directory: the container never ran
  }
  let next = 0;
  for (const name of names) {
    const m = /^(\d+)\.log(\..*)?$/.exec(name);
    if (m) next = Math.max(next, Number(m[1]) + 1);
  }
  return next;
}

/**
 * CrashLoopBackOff (doBackOff in kuberuntime_manager.go): the newest exited instance's FinishedAt is
 * the start of the wait, keyed by pod, container name and spec hash; returns the step message while
 * the container must wait.
 */
export function doBackOff(
  ctx: RuntimeContext,
  pod: V1Pod,
  container: V1Container,
  podStatus: PodStatus,
  backOff: Backoff,
): string | undefined {
  const exited = podStatus.containerStatuses.find((c) => c.name === container.name && c.state === "exited");
  if (!exited) return undefined;
  const finishedAt = exited.finishedAt?.getTime() ?? 0;
  // GetStableKey hashes the container as the spec now has it, not the exited instance: a fixed
  // image (a new hash) under the same pod UID starts a new backoff and restarts at once.
  const key = `${getPodFullName(pod)}_${pod.metadata.uid ?? ""}_${container.name}_${hashContainer(container)}`;
  if (backOff.isInBackOffSince(key, finishedAt)) {
    recordEvent(
      ctx,
      pod,
      container,
      "Warning",
      "BackOff",
      `Back-off restarting failed container ${container.name} in pod ${formatPod(pod)}`,
    );
    return `back-off ${formatGoDuration(backOff.get(key))} restarting failed container=${container.name} pod=${formatPod(pod)}`;
  }
  backOff.next(key, finishedAt);
  return undefined;
}

export interface StartContainerArgs {
  sandboxId: string;
  sandboxConfig: PodSandboxConfig;
  pod: V1Pod;
  container: V1Container;
  type: ContainerType;
  podStatus: PodStatus;
  pullSecrets: readonly V1Secret[];
  podIPs: string[];
  options?: SignalOptions | undefined;
}

/**
 * Rejects with the step's reason as the code (ErrImagePull..., CreateContainerConfigError,
 * CreateContainerError, RunContainerError, PostStartHookError), after a Warning event.
 */
export async function startContainer(ctx: RuntimeContext, args: StartContainerArgs): Promise<void> {
  const { sandboxId, sandboxConfig, pod, container, type, podStatus, pullSecrets, podIPs, options } = args;
  // Events name the container's list in the spec (spec.initContainers{...} for init containers).
  const event = (eventType: EventType, reason: string, text: string): void =>
    recordEvent(ctx, pod, container, eventType, reason, text, type);
  const fail = (code: ErrorCode, err: unknown): never => {
    const text = errorMessage(err);
    event("Warning", "Failed", `Error: ${text}`);
    throw new NodeletError(code, text, { cause: err });
  };

  // The restart count survives a runtime that lost its state, through the log files; the
  // directory is read while the image is checked.
  const previous = findContainerStatusByName(podStatus, container.name);
  const restartCountRead = previous
    ? Promise.resolve(previous.restartCount + 1)
    : restartCountFromLogDir(join(sandboxConfig.logDirectory, container.name));

  // 1. The image.
  let imageRef: string;
  try {
    imageRef = await ctx.imageManager.ensureImageExists(pod, container, pullSecrets, sandboxConfig, options);
  } catch (err) {
    const failure = NodeletError.from(err, ErrorCode.ErrImagePull);
    event("Warning", "Failed", `Error: ${failure.message}`);
    throw failure;
  }

  // 2. The container.
  const restartCount = await restartCountRead;
  const o = ctx.options;
  const allocatable = (o.getNodeAllocatable ?? defaultAllocatable)();
  let config: Awaited<ReturnType<typeof generateContainerConfig>>;
  try {
    const imageUser = await getImageUser(ctx, imageRef);
    config = await generateContainerConfig({
      pod,
      container,
      containerType: type,
      restartCount,
      imageRef,
      userSpecifiedImage: container.image ?? "",
      podIPs,
      hostIPs: o.nodeIPs ?? o.hostIPs ?? [],
      nodeName: o.nodeName ?? osHostname(),
      rootDir: o.rootDirectory,
      podLogsDir: ctx.podLogsDirectory,
      cpuCFSQuota: o.cpuCFSQuota ?? true,
      cpuCFSQuotaPeriodUs: o.cpuCFSQuotaPeriodUs ?? 100_000,
      seccompDefault: o.seccompDefault ?? false,
      memorySwapBehavior: o.memorySwapBehavior ?? "NoSwap",
      memoryCapacityBytes: allocatable.memoryBytes,
      nodeAllocatable: allocatable,
      cgroupV1: ctx.cgroupV1,
      mounter: ctx.mounter,
      ...(o.clusterDomain === undefined ? {} : { clusterDomain: o.clusterDomain }),
      ...(o.logger === undefined ? {} : { logger: o.logger }),
      ...(imageUser ? { imageUser } : {}),
    });
  } catch (err) {
    return fail(ErrorCode.CreateContainerConfigError, err);
  }

  let containerId: string;
  try {
    containerId = await ctx.runtimeService.createContainer(sandboxId, config, sandboxConfig);
  } catch (err) {
    return fail(ErrorCode.CreateContainerError, err);
  }
  ctx.statusMemo.containerChanged(pod.metadata.uid ?? "", containerId);
  event("Normal", "Created", `Created container ${container.name}`);

  // 3. Start it.
  try {
    await ctx.runtimeService.startContainer(containerId);
  } catch (err) {
    return fail(ErrorCode.RunContainerError, err);
  }
  event("Normal", "Started", `Started container ${container.name}`);
  // The legacy log symlink for log shippers (best effort: it never fails the start).
  await ctx.options.logManager?.containerStarted?.({
    containerId,
    podName: pod.metadata.name ?? "",
    podNamespace: pod.metadata.namespace ?? "default",
    containerName: container.name,
    logPath: join(sandboxConfig.logDirectory, config.logPath),
  });

  // 4. postStart blocks the start; a failure kills the container.
  const postStart = container.lifecycle?.postStart;
  if (!postStart) return;
  const id = { type: ctx.runtimeName, id: containerId };
  try {
    await ctx.handlerRunner.run(id, pod, container, postStart, options);
  } catch (err) {
    // No detail in the event: hook output may carry secrets.
    event("Warning", "FailedPostStartHook", "PostStartHook failed");
    await killContainer(ctx, pod, id, container.name, "FailedPostStartHook", "FailedPostStartHook").catch(
      (killErr: unknown) => {
        // The PostStartHookError below is what the caller acts on; the next sync kills it again.
        ctx.options.logger?.warn(
          { pod: formatPod(pod), container: container.name },
          `failed to kill the container after its postStart hook failed: ${errorMessage(killErr)}`,
        );
      },
    );
    throw new NodeletError(ErrorCode.PostStartHookError, errorMessage(err), { cause: err });
  }
}

/** The image's configured user, checked against runAsNonRoot. */
async function getImageUser(
  ctx: RuntimeContext,
  imageRef: string,
): Promise<{ uid?: bigint; username?: string } | undefined> {
  const res = await ctx.imageService.imageStatus(ImageSpec.fromPartial({ image: imageRef }), false);
  if (!res.image) return undefined;
  return {
    ...(res.image.uid ? { uid: res.image.uid.value } : {}),
    ...(res.image.username ? { username: res.image.username } : {}),
  };
}
