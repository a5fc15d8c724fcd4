// Container logs and termination messages, the kubelet's kuberuntime_logs.go, the log parts of
// kuberuntime_container.go (GetContainerLogs, getTerminationMessage, readLastStringFromContainerLogs)
// and the choice of the instance to read (validateContainerLogStatus in kubelet_pods.go). The
// reading itself is @nodelet/logs'.

import { open } from "node:fs/promises";
import type { ContainerStatus as CriContainerStatus } from "@nodelet/cri-api";
import { readLogs } from "@nodelet/logs";
import {
  type Clock,
  type ContainerID,
  ErrorCode,
  errnoCode,
  errorMessage,
  formatContainerID,
  isNodeletError,
  NodeletError,
  type PodStatus,
  type RuntimeService,
  type SignalOptions,
  shouldContainerBeRestarted,
  type V1Pod,
  type V1PodLogOptions,
} from "@nodelet/runtime-api";

/** The kubelet's limits: 4096 bytes from the file, the last 80 lines / 2048 bytes of the log. */
export const MAX_TERMINATION_MESSAGE_BYTES = 4096;
export const MAX_TERMINATION_MESSAGE_LOG_LINES = 80;
export const MAX_TERMINATION_MESSAGE_LOG_BYTES = 2048;
/** The kubelet's cap on all the termination messages of one pod. */
export const MAX_POD_TERMINATION_MESSAGE_BYTES = 12 * 1024;

const CONTAINER_RUNNING = 1; // runtime.v1 ContainerState.CONTAINER_RUNNING

/**
 * The container instance whose logs are read: with `previous`, the instance the kubelet shows as
 * the container's lastState (statuses are newest first), else the newest. Typed errors as the
 * kubelet's answers: NotFound for an unknown container, InvalidArgument for no previous instance.
 */
export function logContainerId(
  status: PodStatus,
  containerName: string,
  previous: boolean,
  pod?: V1Pod,
): ContainerID {
  const instances = status.containerStatuses.filter((c) => c.name === containerName);
  const podName = `${status.namespace}/${status.name}`;
  if (previous) {
    // lastState is the instance before the newest, except while the newest has exited and waits
    // to be restarted (CrashLoopBackOff): then the newest is the last terminated one.
    const spec = [...(pod?.spec.initContainers ?? []), ...(pod?.spec.containers ?? [])].find(
      (c) => c.name === containerName,
    );
    const newestWaits =
      pod !== undefined &&
      spec !== undefined &&
      instances[0]?.state === "exited" &&
      shouldContainerBeRestarted(spec, pod, status);
    const last = newestWaits ? instances[0] : instances[1];
    if (last === undefined) {
      throw new NodeletError(
        ErrorCode.InvalidArgument,
        `previous terminated container "${containerName}" in pod "${podName}" not found`,
        { details: { container: containerName, pod: podName, previous: true } },
      );
    }
    return last.id;
  }
  const current = instances[0];
  if (current === undefined) {
    throw new NodeletError(
      ErrorCode.InvalidArgument,
      `container "${containerName}" in pod "${podName}" is waiting to start: ContainerCreating`,
      { details: { container: containerName, pod: podName } },
    );
  }
  return current.id;
}

export interface ContainerLogsContext {
  runtimeService: RuntimeService;
  clock: Clock;
}

/** Runtime.getContainerLogs: ContainerStatus for the log path, then readLogs with the options. */
export async function getContainerLogs(
  ctx: ContainerLogsContext,
  containerId: ContainerID,
  logOptions: V1PodLogOptions,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
  options: SignalOptions = {},
): Promise<void> {
  let logPath: string;
  try {
    const status = (await ctx.runtimeService.containerStatus(containerId.id, false)).status;
    logPath = status?.logPath ?? "";
  } catch (err) {
    throw new NodeletError(
      isNodeletError(err) ? err.code : ErrorCode.Unknown,
      `unable to retrieve container logs for ${formatContainerID(containerId)}: ${errorMessage(err)}`,
      { cause: err, details: { containerId: containerId.id } },
    );
  }
  if (logPath === "") {
    throw new NodeletError(
      ErrorCode.NotFound,
      `container ${formatContainerID(containerId)} has no log file`,
      { details: { containerId: containerId.id } },
    );
  }
  // The later of sinceTime and now - sinceSeconds.
  let since: number | undefined;
  if (logOptions.sinceTime !== undefined) since = Date.parse(logOptions.sinceTime);
  if (logOptions.sinceSeconds !== undefined) {
    const fromSeconds = ctx.clock.now() - logOptions.sinceSeconds * 1000;
    since = since === undefined ? fromSeconds : Math.max(since, fromSeconds);
  }
  await readLogs(logPath, stdout, stderr, {
    tailLines: logOptions.tailLines,
    limitBytes: logOptions.limitBytes,
    timestamps: logOptions.timestamps,
    follow: logOptions.follow,
    sinceTime: since === undefined || Number.isNaN(since) ? undefined : new Date(since),
    signal: options.signal,
    clock: ctx.clock,
    isRunning: async () => {
      try {
        const res = await ctx.runtimeService.containerStatus(containerId.id, false);
        return res.status?.state === CONTAINER_RUNNING;
      } catch (err) {
        if (isNodeletError(err, ErrorCode.NotFound)) return false;
        throw err;
      }
    },
  });
}

/** The last `maxBytes` of a file, as text; "" when it cannot be read. */
export async function readFileTail(path: string, maxBytes: number): Promise<string> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, "r");
  } catch (err) {
    // Removed with the pod directory, or never written: the runtime's own message stands.
    if (errnoCode(err) === "ENOENT") return "";
    throw err;
  }
  try {
    const { size } = await file.stat();
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await file.read(buf, 0, length, size - length);
    return buf.subarray(0, bytesRead).toString("utf8");
  } finally {
    await file.close();
  }
}

/** The last 80 lines of the container's log, at most their last 2048 bytes. */
export async function readLastLogLines(logPath: string): Promise<string> {
  const chunks: Buffer[] = [];
  const sink = {
    write(chunk: Buffer) {
      chunks.push(Buffer.from(chunk));
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  try {
    await readLogs(logPath, sink, sink, { tailLines: MAX_TERMINATION_MESSAGE_LOG_LINES });
  } catch (err) {
    if (isNodeletError(err, ErrorCode.NotFound)) return "";
    throw err;
  }
  const all = Buffer.concat(chunks);
  return all.subarray(Math.max(0, all.length - MAX_TERMINATION_MESSAGE_LOG_BYTES)).toString("utf8");
}

/**
 * The kubelet's getTerminationMessage for an exited container: the last 4096 bytes of the
 * termination-message file (found through the container's mounts); with FallbackToLogsOnError, a
 * failed container (exit code not 0, reason not ContainerCannotRun) and an empty message, the tail
 * of its log.
 */
export async function terminationMessage(
  status: CriContainerStatus,
  path: string,
  policy: string,
): Promise<string> {
  let message = "";
  const mount = path ? status.mounts.find((m) => m.containerPath === path) : undefined;
  if (mount) {
    try {
      message = await readFileTail(mount.hostPath, MAX_TERMINATION_MESSAGE_BYTES);
    } catch {
      message = ""; // unreadable: as the kubelet, the runtime's message stands
    }
  }
  if (
    message === "" &&
    policy === "FallbackToLogsOnError" &&
    status.exitCode !== 0 &&
    status.reason !== "ContainerCannotRun" &&
    status.logPath !== ""
  ) {
    message = await readLastLogLines(status.logPath).catch(() => "");
  }
  return message;
}

/**
 * The kubelet's per-pod cap: when the pod's messages together exceed 12 KiB, each is cut to an
 * equal share (its last bytes, where the reason for a failure usually is).
 */
export function capTerminationMessages<T extends { message: string }>(statuses: T[]): T[] {
  const total = statuses.reduce((sum, s) => sum + Buffer.byteLength(s.message), 0);
  if (total <= MAX_POD_TERMINATION_MESSAGE_BYTES || statuses.length === 0) return statuses;
  const share = Math.floor(MAX_POD_TERMINATION_MESSAGE_BYTES / statuses.length);
  return statuses.map((s) => {
    const bytes = Buffer.from(s.message);
    return bytes.length <= share
      ? s
      : { ...s, message: bytes.subarray(bytes.length - share).toString("utf8") };
  });
}
