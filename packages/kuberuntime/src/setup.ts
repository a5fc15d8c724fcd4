// The manager's options and the defaults resolved before it is built: the CRI version check, the
// keyring, cgroup detection. Follows the preamble of NewKubeGenericRuntimeManager
// (pkg/kubelet/kuberuntime/kuberuntime_manager.go) and the cgroup-mode check of
// libcontainer/cgroups (IsCgroup2UnifiedMode) the kubelet relies on.
import { mkdir, readdir } from "node:fs/promises";
import { availableParallelism, totalmem } from "node:os";
import { createKeyring, createPluginKeyring } from "@nodelet/credential-provider";
import { instrumentImageService, instrumentRuntimeService } from "@nodelet/cri-remote";
import type { PullLimitOptions } from "@nodelet/image-manager";
import {
  assertSupportedRuntimeVersion,
  type Clock,
  type ContainerLogManager,
  CRI_VERSION,
  type DockerKeyring,
  ErrorCode,
  type EventRecorder,
  type HandlerRunner,
  type ImageManager,
  type ImageManagerService,
  type ImagePuller,
  type ImagePullProgress,
  type Logger,
  NodeletError,
  type ObjectReference,
  type ProbeResults,
  type RuntimeClassResolver,
  type RuntimeService,
} from "@nodelet/runtime-api";
import type { Registry } from "prom-client";
import type { ContainerGCSettings } from "./gc.js";
import { createHostMounter, type Mounter } from "./mounter.js";

export interface NodeAllocatable {
  cpuMilli: number;
  memoryBytes: number;
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
  /** Runtime.garbageCollect: which pods are gone, the legacy log directory, concurrency and deadline. */
  containerGC?: ContainerGCSettings | undefined;
  /** Defaults to @nodelet/lifecycle's runner, executing through this manager. */
  handlerRunner?: HandlerRunner | undefined;
  /** Maps runtimeClassName to a handler; default: the class name is the handler name. */
  runtimeClassResolver?: RuntimeClassResolver | undefined;
  /** Liveness and startup results from a prober; default: none. */
  probeResults?: ProbeResults | undefined;
  eventRecorder?: EventRecorder | undefined;
  /** Told how an image pull for a container is going (the default puller: elapsed time every 10 s). */
  onPullProgress?: ((progress: ImagePullProgress, object: ObjectReference) => void) | undefined;
  /** Where failures that do not fail the call go (best-effort cleanups); a pino logger fits. */
  logger?: Logger | undefined;
  clock?: Clock | undefined;
  /** The agent's root directory (pod volumes live under <root>/pods/<uid>). */
  rootDirectory: string;
  /** Default /var/log/pods. */
  podLogsDirectory?: string | undefined;
  nodeName?: string | undefined;
  /**
   * The node's IPs (the kubelet's --node-ip, or the addresses it picked), primary first: what the
   * downward API's status.hostIP / status.hostIPs give containers.
   */
  nodeIPs?: string[] | undefined;
  /** @deprecated Use nodeIPs (read when nodeIPs is unset). */
  hostIPs?: string[] | undefined;
  /** The kubelet's clusterDNS: nameserver IPs for dnsPolicy ClusterFirst pods. */
  clusterDNS?: string[] | undefined;
  /** The kubelet's clusterDomain (e.g. cluster.local): search paths and pod FQDNs. */
  clusterDomain?: string | undefined;
  /** The kubelet's resolvConf: the host resolver file for dnsPolicy Default; "" for none. Default /etc/resolv.conf. */
  resolvConf?: string | undefined;
  /** Makes subPath bind mounts and Memory emptyDir tmpfs mounts; default mount(8)/umount(8) (root). */
  mounter?: Mounter | undefined;
  cpuCFSQuota?: boolean | undefined;
  cpuCFSQuotaPeriodUs?: number | undefined;
  seccompDefault?: boolean | undefined;
  memorySwapBehavior?: "NoSwap" | "LimitedSwap" | "" | undefined;
  /** Only cgroup v1 changes behaviour (swap limit); default: detected from /sys/fs/cgroup. */
  cgroupV1?: boolean | undefined;
  getNodeAllocatable?: (() => NodeAllocatable) | undefined;
  /** When given, CRI calls and pod/container starts are recorded with the kubelet's metric names. */
  registry?: Registry | undefined;
}

/** What createKubeGenericRuntimeManager resolved before building the manager. */
export interface ManagerSetup {
  /** The options, with the keyring defaulted. */
  options: KubeGenericRuntimeManagerOptions;
  /** The CRI services as wrapped (instrumented when a registry was given). */
  runtimeService: RuntimeService;
  imageService: ImageManagerService;
  runtimeName: string;
  podLogsDirectory: string;
  cgroupV1: boolean;
  mounter: Mounter;
}

/**
 * Wraps the services, checks the runtime's CRI version (UnsupportedRuntimeApiVersion unless it
 * answers runtime.v1 and CRI_VERSION, the check cri-remote makes), creates the pod logs directory and resolves the keyring and cgroup mode.
 */
export async function resolveSetup(options: KubeGenericRuntimeManagerOptions): Promise<ManagerSetup> {
  const registry = options.registry;
  const runtimeService = registry
    ? instrumentRuntimeService(options.runtimeService, { registry })
    : options.runtimeService;
  const imageService = registry
    ? instrumentImageService(options.imageService, { registry })
    : options.imageService;
  const version = await runtimeService.version(CRI_VERSION);
  assertSupportedRuntimeVersion(version);
  const podLogsDirectory = options.podLogsDirectory ?? "/var/log/pods";
  await mkdir(podLogsDirectory, { recursive: true, mode: 0o755 });
  const cgroupV1 = options.cgroupV1 ?? (await detectCgroupV1());
  const keyring = options.keyring ?? (await defaultKeyring(options));
  return {
    options: { ...options, keyring },
    runtimeService,
    imageService,
    runtimeName: version.runtimeName,
    podLogsDirectory,
    cgroupV1,
    mounter: options.mounter ?? createHostMounter(),
  };
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

/** cgroup v2 mounts a unified hierarchy whose root holds cgroup.controllers. */
async function detectCgroupV1(): Promise<boolean> {
  try {
    const entries = await readdir("/sys/fs/cgroup");
    return !entries.includes("cgroup.controllers");
  } catch {
    // No cgroupfs to read (not Linux, or a restricted sandbox): keep the v1 behaviour, as before.
    return true;
  }
}

/**
 * Without getNodeAllocatable, the machine's whole capacity: the CPUs this process may run on
 * (availableParallelism, a system call; os.cpus() parses /proc/cpuinfo, which cost 0.7 ms of
 * every container start here) and all memory.
 */
export function defaultAllocatable(): NodeAllocatable {
  return { cpuMilli: availableParallelism() * 1000, memoryBytes: totalmem() };
}
