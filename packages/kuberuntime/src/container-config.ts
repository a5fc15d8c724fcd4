import { mkdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { ContainerConfig } from "@nodelet/cri-api";
import {
  type ContainerType,
  ErrorCode,
  errorMessage,
  formatPod,
  isNodeletError,
  type Logger,
  NodeletError,
  podNamespace,
  type V1Container,
  type V1Pod,
} from "@nodelet/runtime-api";
import { expandContainerCommandAndArgs, makeEnvironmentVariables } from "./env.js";
import { makeHostsMount, shouldMountHostsFile } from "./etc-hosts.js";
import { DEFAULT_TERMINATION_MESSAGE_PATH, newContainerAnnotations, newContainerLabels } from "./labels.js";
import type { Mounter } from "./mounter.js";
import { computeLinuxResources, type MemorySwapBehavior, oomScoreAdjust } from "./resources.js";
import { buildPodLogsDirectory, namespacesForPod, podHostnameAndDomain } from "./sandbox-config.js";
import {
  convertToLinuxContainerSecurityContext,
  type ImageUser,
  verifyRunAsNonRoot,
} from "./security-context.js";
import { assertSafePathSegment, makeMounts, makeTerminationMessageFile, podDirectory } from "./volumes.js";

const DEFAULT_POD_LOGS_DIR = "/var/log/pods";

export interface GenerateContainerConfigArgs {
  pod: V1Pod;
  container: V1Container;
  containerType: ContainerType;
  restartCount: number;
  /** The image id from EnsureImageExists / PullImage. */
  imageRef: string;
  /** The image as the pod spec names it. */
  userSpecifiedImage: string;
  podIPs: readonly string[];
  hostIPs: readonly string[];
  nodeName: string;
  /** The kubelet root directory: pods live in `<rootDir>/pods/<uid>`, seccomp profiles in `<rootDir>/seccomp`. */
  rootDir: string;
  /** Default /var/log/pods. */
  podLogsDir?: string;
  cpuCFSQuota: boolean;
  cpuCFSQuotaPeriodUs: number;
  seccompDefault: boolean;
  memorySwapBehavior: MemorySwapBehavior;
  memoryCapacityBytes: number;
  /** From CRI ImageStatus; omitted or empty means root, as the kubelet reads it. */
  imageUser?: ImageUser;
  cgroupV1: boolean;
  /** Names the termination-message file (8 hex digits); random by default. */
  randomHex?: () => string;
  /** See LinuxResourcesOptions. */
  swapControllerAvailable?: boolean;
  singleProcessOOMKill?: boolean;
  swapCapacityBytes?: number;
  /** What resourceFieldRef reports for unset limits; default: all cpus, memoryCapacityBytes. */
  nodeAllocatable?: { cpuMilli: number; memoryBytes: number };
  /** Makes subPath bind mounts and Memory emptyDirs (createHostMounter by default in the manager). */
  mounter: Mounter;
  /** The kubelet's clusterDomain, for the pod's FQDN in its managed /etc/hosts. */
  clusterDomain?: string;
  /** Where a termination-message file that cannot be made is reported (the container starts without it). */
  logger?: Logger;
}

/**
 * The CRI container config (the kubelet's generateContainerConfig). Checks come first (non-root
 * policy, environment, security context, resources); then the files: volume directories, the
 * container log directory `<pod log dir>/<name>` (0755) and the termination-message file. Every
 * failure is a CreateContainerConfigError naming the container.
 */
export async function generateContainerConfig(args: GenerateContainerConfigArgs): Promise<ContainerConfig> {
  const { pod, container } = args;
  try {
    return await generate(args);
  } catch (error) {
    if (isNodeletError(error, ErrorCode.CreateContainerConfigError)) throw error;
    throw new NodeletError(
      ErrorCode.CreateContainerConfigError,
      `container "${container.name}" of pod "${pod.metadata.name ?? ""}": ${errorMessage(error)}`,
      { cause: error, details: { container: container.name } },
    );
  }
}

async function generate(args: GenerateContainerConfigArgs): Promise<ContainerConfig> {
  const { pod, container } = args;
  assertSafePathSegment(container.name, "container name", ErrorCode.CreateContainerConfigError);
  const uid = pod.metadata.uid ?? "";
  const podDir = podDirectory(args.rootDir, uid);
  const logDir = join(
    buildPodLogsDirectory(
      args.podLogsDir ?? DEFAULT_POD_LOGS_DIR,
      podNamespace(pod),
      pod.metadata.name ?? "",
      uid,
    ),
    container.name,
  );

  verifyRunAsNonRoot(pod, container, args.imageUser);
  const envs = makeEnvironmentVariables(pod, container, {
    podIPs: args.podIPs,
    hostIPs: args.hostIPs,
    nodeName: args.nodeName,
    nodeAllocatable: args.nodeAllocatable ?? {
      cpuMilli: availableParallelism() * 1000,
      memoryBytes: args.memoryCapacityBytes,
    },
  });
  const { command, args: commandArgs } = expandContainerCommandAndArgs(container, envs);
  const securityContext = convertToLinuxContainerSecurityContext(pod, container, {
    seccompDefault: args.seccompDefault,
    seccompProfileRoot: join(args.rootDir, "seccomp"),
    namespaceOptions: namespacesForPod(pod),
    ...(args.imageUser === undefined ? {} : { imageUser: args.imageUser }),
  });
  const resources = computeLinuxResources(pod, container, {
    cpuCFSQuota: args.cpuCFSQuota,
    cpuCFSQuotaPeriodUs: args.cpuCFSQuotaPeriodUs,
    memorySwapBehavior: args.memorySwapBehavior,
    cgroupV1: args.cgroupV1,
    memoryCapacityBytes: args.memoryCapacityBytes,
    ...(args.swapControllerAvailable === undefined
      ? {}
      : { swapControllerAvailable: args.swapControllerAvailable }),
    ...(args.singleProcessOOMKill === undefined ? {} : { singleProcessOOMKill: args.singleProcessOOMKill }),
    ...(args.swapCapacityBytes === undefined ? {} : { swapCapacityBytes: args.swapCapacityBytes }),
  });
  resources.oomScoreAdj = BigInt(oomScoreAdjust(pod, container, args.memoryCapacityBytes));
  const labels = newContainerLabels(container, pod);
  const annotations = newContainerAnnotations(container, pod, args.restartCount, args.containerType);

  const mounts = await makeMounts(pod, container, {
    rootDir: args.rootDir,
    podDir,
    mounter: args.mounter,
    nodeAllocatableMemoryBytes: args.nodeAllocatable?.memoryBytes ?? args.memoryCapacityBytes,
  });
  // The hosts file, the log directory and the termination-message file are independent: made
  // together they wait for the threadpool once, not three times, on a start's critical path.
  const [hosts, logDirMade, terminationFile] = await Promise.allSettled([
    shouldMountHostsFile(pod, container, args.podIPs)
      ? makeHostsMount(podDir, pod, args.podIPs, podHostnameAndDomain(pod, args.clusterDomain ?? ""))
      : undefined,
    mkdir(logDir, { recursive: true, mode: 0o755 }),
    makeTerminationMessageFile(
      podDir,
      container.name,
      container.terminationMessagePath || DEFAULT_TERMINATION_MESSAGE_PATH,
      args.randomHex === undefined ? {} : { randomHex: args.randomHex },
    ),
  ]);
  if (hosts.status === "rejected") {
    throw new NodeletError(
      ErrorCode.CreateContainerConfigError,
      `container "${container.name}": cannot write the pod's managed /etc/hosts: ${errorMessage(hosts.reason)}`,
      { cause: hosts.reason, details: { container: container.name, field: "hostAliases" } },
    );
  }
  if (hosts.value) mounts.push(hosts.value);
  if (logDirMade.status === "rejected") {
    throw new NodeletError(
      ErrorCode.CreateContainerConfigError,
      `create container log directory for container ${container.name} failed: ${errorMessage(logDirMade.reason)}`,
      { cause: logDirMade.reason, details: { container: container.name, field: "logPath" } },
    );
  }
  // The kubelet logs a termination-message file it cannot make and starts the container without it.
  if (terminationFile.status === "fulfilled") mounts.push(terminationFile.value);
  else {
    args.logger?.warn(
      { pod: formatPod(pod), container: container.name, err: errorMessage(terminationFile.reason) },
      "cannot create the termination-message file; the container starts without it",
    );
  }

  return ContainerConfig.fromPartial({
    metadata: { name: container.name, attempt: args.restartCount },
    image: { image: args.imageRef, userSpecifiedImage: args.userSpecifiedImage },
    command,
    args: commandArgs,
    workingDir: container.workingDir ?? "",
    envs,
    mounts,
    devices: [],
    labels,
    annotations,
    logPath: `${container.name}/${args.restartCount}.log`,
    stdin: container.stdin ?? false,
    stdinOnce: container.stdinOnce ?? false,
    tty: container.tty ?? false,
    linux: { resources, securityContext },
  });
}
