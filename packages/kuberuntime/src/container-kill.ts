// Stopping and removing containers: the grace period, preStop, sidecar ordering, StopContainer;
// the Pod rebuilt from labels when it is gone; init-container pruning; removal with its logs.
// Follows killContainer, killContainersWithSyncResult, executePreStopHook,
// restoreSpecsFromContainerLabels, pruneInitContainersBeforeStart, purgeInitContainers and
// removeContainer in pkg/kubelet/kuberuntime/kuberuntime_container.go.
import {
  type ContainerID,
  ErrorCode,
  errorMessage,
  formatContainerID,
  formatPod,
  isNodeletError,
  NodeletError,
  type Pod,
  type PodStatus,
  PodSyncResult,
  type V1Container,
  type V1Pod,
} from "@nodelet/runtime-api";
import { getContainerInfoFromAnnotations, getContainerInfoFromLabels } from "./labels.js";
import type { ContainerKillReason } from "./pod-actions.js";
import { type RuntimeContext, recordEvent } from "./runtime-context.js";
import { TerminationOrdering, waitAtMost } from "./termination-ordering.js";

/** The kubelet's minimumGracePeriodInSeconds: every container gets at least this to stop. */
export const MINIMUM_GRACE_PERIOD_SECONDS = 2;

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

/** Stops one container with the kubelet's grace-period rules (preStop first). */
export async function killContainer(
  ctx: RuntimeContext,
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
    spec = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((c) => c.name === containerName);
    if (!spec) {
      throw new NodeletError(
        ErrorCode.KillContainerError,
        `failed to get containerSpec "${containerName}" (id=${formatContainerID(containerId)}) in pod "${formatPod(pod)}"`,
      );
    }
  } else {
    // The Pod object is gone (e.g. agent restarted): rebuild what killing needs from the labels.
    ({ pod, container: spec } = await restoreSpecFromLabels(ctx, containerId));
  }

  let grace = terminationGracePeriod(pod, spec, reason);
  recordEvent(ctx, pod, spec, "Normal", "Killing", reasonMessage || `Stopping container ${spec.name}`);
  // An override only shortens or lengthens a non-zero grace period.
  if (gracePeriodOverrideSeconds !== undefined && grace !== 0) grace = gracePeriodOverrideSeconds;

  const preStop = spec.lifecycle?.preStop;
  if (preStop && grace > 0) grace -= await runPreStop(ctx, pod, containerId, spec, grace);
  if (ordering && grace > 0) grace -= await ordering.waitForTurn(spec.name, grace);
  grace = Math.max(grace, MINIMUM_GRACE_PERIOD_SECONDS);

  try {
    await ctx.runtimeService.stopContainer(containerId.id, grace);
  } catch (err) {
    if (!isNodeletError(err, ErrorCode.NotFound)) throw err;
  }
  ctx.statusMemo.containerChanged(pod.metadata.uid ?? "", containerId.id);
}

/** Kills the running containers of a pod in parallel, sidecars after the rest; one step each. */
export async function killContainersWithSyncResult(
  ctx: RuntimeContext,
  pod: V1Pod | undefined,
  runningPod: Pod,
  gracePeriodOverrideSeconds?: number,
): Promise<PodSyncResult> {
  const result = new PodSyncResult();
  const running = runningPod.containers.filter((c) => c.state === "running");
  const ordering = pod
    ? new TerminationOrdering(pod, new Set(running.map((c) => c.name)), ctx.clock)
    : undefined;
  await Promise.all(
    running.map(async (c) => {
      const step = result.add({ action: "KillContainer", target: c.name, message: "" });
      try {
        await killContainer(ctx, pod, c.id, c.name, "", "", gracePeriodOverrideSeconds, ordering);
      } catch (err) {
        step.error = ErrorCode.KillContainerError;
        step.message = errorMessage(err);
      } finally {
        ordering?.terminated(c.name);
      }
    }),
  );
  return result;
}

/** Runs preStop for at most `graceSeconds` (it is not cancelled after), returning whole seconds used. */
async function runPreStop(
  ctx: RuntimeContext,
  pod: V1Pod,
  containerId: ContainerID,
  container: V1Container,
  graceSeconds: number,
): Promise<number> {
  const hook = ctx.handlerRunner
    .run(containerId, pod, container, container.lifecycle?.preStop ?? {})
    .catch((err: unknown) => {
      recordEvent(ctx, pod, container, "Warning", "FailedPreStopHook", "PreStopHook failed");
      // The container is stopped all the same; the event carries no detail (output may hold secrets).
      ctx.options.logger?.warn(
        { pod: formatPod(pod), container: container.name, containerId: formatContainerID(containerId) },
        `preStop hook failed: ${errorMessage(err)}`,
      );
    });
  return waitAtMost(ctx.clock, hook, graceSeconds);
}

async function restoreSpecFromLabels(
  ctx: RuntimeContext,
  containerId: ContainerID,
): Promise<{ pod: V1Pod; container: V1Container }> {
  const res = await ctx.runtimeService.containerStatus(containerId.id, false);
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

/** Removes a container and its rotated logs; one that is already gone counts as removed. */
export async function deleteContainer(ctx: RuntimeContext, containerId: ContainerID): Promise<void> {
  // Rotated logs first: if that fails, the container stays and removal is retried.
  await ctx.options.logManager?.clean(containerId.id);
  try {
    await ctx.runtimeService.removeContainer(containerId.id);
  } catch (err) {
    if (!isNodeletError(err, ErrorCode.NotFound)) throw err;
  }
}

/**
 * Init containers: before a start, keep only the newest finished instance per name (prune);
 * when the sandbox is recreated, remove them all (purge).
 */
export async function removeInitContainers(
  ctx: RuntimeContext,
  pod: V1Pod,
  podStatus: PodStatus,
  keepNewest: boolean,
): Promise<void> {
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
    await deleteContainer(ctx, status.id).catch((err: unknown) => {
      // Best effort, as the kubelet: the next sync or container GC retries.
      ctx.options.logger?.warn(
        { pod: formatPod(pod), container: status.name, containerId: formatContainerID(status.id) },
        `failed to remove init container: ${errorMessage(err)}`,
      );
    });
  }
}
