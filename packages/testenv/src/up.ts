import {
  type Allocation,
  createAllocation,
  loadAllocation,
  type PortOwner,
  refreshPorts,
  saveAllocation,
  writeJsonAtomic,
} from "./allocation.js";
import { prepareCgroupsForCrun } from "./cgroups.js";
import {
  containerdPid,
  ensureContainerd,
  prepullImages,
  writeCniConfig,
  writeRegistryHosts,
} from "./containerd.js";
import {
  cniConflistName,
  RUNTIME_HANDLERS,
  renderCniConflist,
  renderContainerdConfig,
  renderHostsToml,
} from "./containerd-config.js";
import type { TestEnv } from "./env-file.js";
import { TestEnvError } from "./errors.js";
import { BENCH_IMAGE_COUNT, ensureImageLayout, imageRef, type PushTarget, pushImages } from "./images.js";
import { withLock } from "./lock.js";
import { type Logger, silentLogger } from "./log.js";
import { ensurePackages } from "./packages.js";
import { createLayout, type Layout } from "./paths.js";
import {
  AUTH_CREDENTIALS,
  ensureRegistry,
  type RegistryInstance,
  registryAddress,
  runningRegistry,
} from "./registry.js";
import { probeSnapshotter } from "./snapshotter.js";

export interface UpOptions {
  /** State directory; defaults to $NODELET_TESTENV_DIR, then `<repoRoot>/.state/testenv`. */
  stateDir?: string | undefined;
  /** Progress messages (default: none). */
  log?: Logger | undefined;
  /** How long to wait for containerd's CRI to become ready (default 60 s). */
  containerdTimeoutMs?: number | undefined;
}

export function registryInstances(
  layout: Layout,
  allocation: Allocation,
): {
  plain: RegistryInstance;
  auth: RegistryInstance;
} {
  return {
    plain: {
      kind: "plain",
      port: allocation.ports.plainRegistry,
      paths: layout.registries.plain,
      credentials: undefined,
      secret: `nodelet-${layout.hash.slice(0, 32)}`,
    },
    auth: {
      kind: "auth",
      port: allocation.ports.authRegistry,
      paths: layout.registries.auth,
      credentials: AUTH_CREDENTIALS,
      secret: `nodelet-${layout.hash.slice(32)}`,
    },
  };
}

function pushTargets(plain: RegistryInstance, auth: RegistryInstance): PushTarget[] {
  return [
    { registry: plain, repo: "pause", tag: "3.10", layoutTag: "pause" },
    { registry: plain, repo: "busybox", tag: "1.36", layoutTag: "busybox" },
    { registry: plain, repo: "busybox", tag: "latest", layoutTag: "busybox" },
    { registry: auth, repo: "busybox", tag: "1.36", layoutTag: "busybox" },
    ...Array.from({ length: BENCH_IMAGE_COUNT }, (_, i) => ({
      registry: plain,
      repo: `bench/img-${i}`,
      tag: "1",
      layoutTag: `bench-${i}`,
    })),
  ];
}

async function allocate(layout: Layout, log: Logger): Promise<Allocation> {
  let allocation = await loadAllocation(layout);
  if (!allocation) {
    allocation = await createAllocation(layout);
    log.info(
      `allocated ports ${Object.values(allocation.ports).join(", ")} and network ${allocation.cni.network} ${allocation.cni.subnet}`,
    );
  }
  const { plain, auth } = registryInstances(layout, allocation);
  const owned = new Set<PortOwner>();
  if ((await runningRegistry(plain)) !== undefined) owned.add("plainRegistry");
  if ((await runningRegistry(auth)) !== undefined) owned.add("authRegistry");
  if ((await containerdPid(layout)) !== undefined) owned.add("streaming");
  const refreshed = await refreshPorts(layout, allocation, owned);
  if (refreshed.moved.length > 0)
    log.info(`ports taken by other processes, moved: ${refreshed.moved.join(", ")}`);
  allocation = refreshed.allocation;
  if (allocation.snapshotter === null) {
    allocation = { ...allocation, snapshotter: await probeSnapshotter(layout.containerd.dir) };
    log.info(`snapshotter: ${allocation.snapshotter}`);
  }
  await saveAllocation(layout, allocation);
  return allocation;
}

async function bringUp(layout: Layout, options: UpOptions): Promise<TestEnv> {
  const log = options.log ?? silentLogger;
  await ensurePackages(log);
  const allocation = await allocate(layout, log);
  const snapshotter = allocation.snapshotter ?? "native";
  const { plain, auth } = registryInstances(layout, allocation);
  await Promise.all([ensureRegistry(plain, log), ensureRegistry(auth, log)]);

  const digests = await ensureImageLayout(layout, log);
  const targets = pushTargets(plain, auth);
  await pushImages(layout, digests, targets, log);

  const cgroupWarning = await prepareCgroupsForCrun(log);
  if (cgroupWarning) log.warn(`${cgroupWarning}`);

  await writeCniConfig(layout, cniConflistName(allocation), renderCniConflist(layout, allocation));
  await writeRegistryHosts(
    layout,
    new Map([plain, auth].map((r) => [registryAddress(r), renderHostsToml(registryAddress(r))])),
  );
  const [pauseTarget, busyboxTarget, latestTarget, authTarget] = targets as [
    PushTarget,
    PushTarget,
    PushTarget,
    PushTarget,
  ];
  const configText = renderContainerdConfig({
    layout,
    allocation,
    snapshotter,
    sandboxImage: imageRef(pauseTarget),
  });
  const pid = await ensureContainerd(layout, {
    configText,
    timeoutMs: options.containerdTimeoutMs ?? 60_000,
    log,
  });
  await prepullImages(
    layout,
    snapshotter,
    [pauseTarget, busyboxTarget].map((t) => ({ ref: imageRef(t), digest: digests.get(t.layoutTag) })),
    log,
  );

  const env: TestEnv = {
    stateDir: layout.stateDir,
    criEndpoint: `unix://${layout.criSocket}`,
    criSocket: layout.criSocket,
    socketDir: layout.socketDir,
    containerdPid: pid,
    containerdLog: layout.containerd.logFile,
    registries: { plain: registryAddress(plain), auth: registryAddress(auth) },
    auth: { ...AUTH_CREDENTIALS },
    images: {
      pause: imageRef(pauseTarget),
      busybox: imageRef(busyboxTarget),
      busyboxLatest: imageRef(latestTarget),
      authBusybox: imageRef(authTarget),
      bench: targets.slice(4).map(imageRef),
    },
    cni: { ...allocation.cni },
    streamingPort: allocation.ports.streaming,
    snapshotter,
    runtimeHandlers: [...RUNTIME_HANDLERS],
  };
  await writeJsonAtomic(layout.envFile, env);
  return env;
}

/**
 * Brings the environment up, reusing whatever of it already runs; safe to call concurrently from
 * several processes (they serialise on a lock file) and fast when everything is up already.
 */
export async function up(options: UpOptions = {}): Promise<TestEnv> {
  if (process.getuid?.() !== 0) {
    throw new TestEnvError("NOT_ROOT", "testenv up needs root (it runs containerd, mounts and apt-get)");
  }
  const layout = await createLayout(options.stateDir);
  return withLock(layout.lockFile, () => bringUp(layout, options), { log: options.log ?? silentLogger });
}
