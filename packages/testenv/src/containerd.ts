import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CRI_API_VERSION } from "@nodelet/runtime-api";
import type { Snapshotter } from "./allocation.js";
import { criConditions, criHasImage, criVersion } from "./cri.js";
import { errorMessage, TestEnvError } from "./errors.js";
import { run, runChecked, tail } from "./exec.js";
import type { Logger } from "./log.js";
import type { Layout } from "./paths.js";
import {
  descendantsOf,
  isRunning,
  killNow,
  listProcesses,
  readPid,
  removeFile,
  sleep,
  spawnDaemon,
  stopProcess,
  writePid,
} from "./proc.js";

export const K8S_NAMESPACE = "k8s.io";
const SHIM_SOCKET_DIR = "/run/containerd/s";

export async function containerdLogTail(layout: Layout, lines = 30): Promise<string> {
  try {
    return tail(await readFile(layout.containerd.logFile, "utf8"), lines);
  } catch {
    return "(no log)";
  }
}

/** Pid of this environment's containerd when it is alive (pid file + cmdline mentions our config). */
export async function containerdPid(layout: Layout): Promise<number | undefined> {
  const pid = await readPid(layout.containerd.pidFile);
  return (await isRunning(pid, layout.containerd.configFile)) ? pid : undefined;
}

/** Ready = the CRI answers Version and reports RuntimeReady and NetworkReady. Returns why not. */
export async function criReadiness(layout: Layout, timeoutMs = 3_000): Promise<string | undefined> {
  if (!existsSync(layout.criSocket)) return `socket ${layout.criSocket} does not exist`;
  try {
    const version = await criVersion(layout.criSocket, timeoutMs);
    if (version.runtimeApiVersion !== CRI_API_VERSION)
      return `unexpected CRI API version ${version.runtimeApiVersion}`;
    const conditions = await criConditions(layout.criSocket, timeoutMs);
    for (const type of ["RuntimeReady", "NetworkReady"]) {
      const c = conditions.find((x) => x.type === type);
      if (!c?.status) return `${type} is false${c ? `: ${c.reason} ${c.message}` : ""}`;
    }
    return undefined;
  } catch (error) {
    return errorMessage(error);
  }
}

export interface StartOptions {
  configText: string;
  timeoutMs: number;
  log: Logger;
}

/**
 * Reuses this environment's containerd when it runs with the same config and its CRI is ready;
 * otherwise (re)starts it and waits for the CRI.
 */
export async function ensureContainerd(layout: Layout, options: StartOptions): Promise<number> {
  const { configText, log } = options;
  const current = existsSync(layout.containerd.configFile)
    ? await readFile(layout.containerd.configFile, "utf8")
    : "";
  const running = await containerdPid(layout);
  if (running !== undefined) {
    if (current === configText && (await criReadiness(layout)) === undefined) return running;
    log.info(
      current === configText
        ? "containerd is not healthy; restarting it"
        : "containerd config changed; restarting it",
    );
    await stopProcess(running, { name: "containerd", mustContain: layout.containerd.configFile, log });
  }
  await writeFile(layout.containerd.configFile, configText);
  // Leftover sockets from a killed daemon would make the connect check pass/fail confusingly.
  await removeFile(layout.criSocket);
  await removeFile(layout.ttrpcSocket);
  log.info(`starting containerd (${layout.criSocket})`);
  const pid = await spawnDaemon("containerd", ["--config", layout.containerd.configFile], {
    logFile: layout.containerd.logFile,
  });
  await writePid(layout.containerd.pidFile, pid);
  await waitForCri(layout, pid, options.timeoutMs);
  return pid;
}

async function waitForCri(layout: Layout, pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reason: string | undefined = "not checked yet";
  while (Date.now() < deadline) {
    if (!(await isRunning(pid))) {
      throw new TestEnvError(
        "CONTAINERD_FAILED",
        `containerd (pid ${pid}) exited during startup; tail of ${layout.containerd.logFile}:\n${await containerdLogTail(layout)}`,
      );
    }
    reason = await criReadiness(layout, 2_000);
    if (reason === undefined) {
      // The namespace-scoped image API must answer too (what ctr and image pulls rely on).
      const images = await run("ctr", [
        "--address",
        layout.criSocket,
        "-n",
        K8S_NAMESPACE,
        "images",
        "ls",
        "-q",
      ]);
      if (images.code === 0) return;
      reason = `ctr images ls failed: ${images.stderr.trim()}`;
    }
    await sleep(200);
  }
  throw new TestEnvError(
    "TIMEOUT",
    `containerd's CRI was not ready within ${Math.round(timeoutMs / 1000)}s (${reason}); tail of ${layout.containerd.logFile}:\n${await containerdLogTail(layout)}`,
  );
}

export interface PrepullImage {
  ref: string;
  digest: string | undefined;
}

/** Pulls images into k8s.io so the first RunPodSandbox/CreateContainer do not pay for it. */
export async function prepullImages(
  layout: Layout,
  snapshotter: Snapshotter,
  images: readonly PrepullImage[],
  log: Logger,
): Promise<void> {
  const base = ["--address", layout.criSocket, "-n", K8S_NAMESPACE];
  const listed = await runChecked("ctr", [...base, "images", "ls"]);
  const have = new Map<string, string>();
  for (const line of listed.stdout.split("\n").slice(1)) {
    const [ref, , digest] = line.trim().split(/\s+/);
    if (ref && digest) have.set(ref, digest);
  }
  for (const image of images) {
    if (image.digest !== undefined && have.get(image.ref) === image.digest) continue;
    log.info(`pre-pulling ${image.ref}`);
    await runChecked(
      "ctr",
      [...base, "images", "pull", "--plain-http", "--snapshotter", snapshotter, image.ref],
      {
        timeoutMs: 120_000,
      },
    );
  }
  for (const image of images) {
    if (!(await criHasImage(layout.criSocket, image.ref))) {
      throw new TestEnvError("CONTAINERD_FAILED", `CRI ImageStatus does not see pre-pulled ${image.ref}`);
    }
  }
}

interface Shim {
  pid: number;
  namespace: string | undefined;
  id: string | undefined;
}

function flag(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** containerd-shim processes started by this environment's daemon (their -address is our socket). */
async function ourShims(
  layout: Layout,
): Promise<{ shims: Shim[]; procs: Awaited<ReturnType<typeof listProcesses>> }> {
  const procs = await listProcesses();
  const shims = procs
    .filter((p) => (p.argv[0] ?? "").split("/").pop()?.startsWith("containerd-shim"))
    .filter((p) => flag(p.argv, "-address") === layout.criSocket)
    .map((p) => ({ pid: p.pid, namespace: flag(p.argv, "-namespace"), id: flag(p.argv, "-id") }));
  return { shims, procs };
}

// containerd 1.6 names a shim's socket sha256(<grpc address>/<namespace>/<id>) under /run/containerd/s.
function shimSocketPath(layout: Layout, shim: Shim): string | undefined {
  if (!shim.namespace || !shim.id) return undefined;
  const digest = createHash("sha256")
    .update(join(layout.criSocket, shim.namespace, shim.id))
    .digest("hex");
  return join(SHIM_SOCKET_DIR, digest);
}

/**
 * Kills the container processes under each of our shims (SIGKILL: they are test workloads), then the
 * shims themselves, and removes their sockets. Only processes whose shim names our socket are touched.
 */
export async function killShims(layout: Layout, log: Logger): Promise<string[]> {
  const { shims, procs } = await ourShims(layout);
  if (shims.length === 0) return [];
  log.info(`stopping ${shims.length} containerd shim(s) and their containers`);
  for (const shim of shims) for (const child of descendantsOf(shim.pid, procs)) killNow(child);
  await Promise.all(
    shims.map((shim) =>
      stopProcess(shim.pid, { name: "containerd-shim", mustContain: layout.criSocket, graceMs: 3_000 }),
    ),
  );
  for (const shim of shims) {
    const socket = shimSocketPath(layout, shim);
    if (socket) await rm(socket, { force: true });
  }
  // In the CRI plugin a shim's id is its pod sandbox id.
  return shims.map((s) => s.id).filter((id): id is string => id !== undefined);
}

export async function stopContainerd(layout: Layout, log: Logger): Promise<void> {
  const pid = await readPid(layout.containerd.pidFile);
  if (pid !== undefined) {
    await stopProcess(pid, {
      name: "containerd",
      mustContain: layout.containerd.configFile,
      log,
      graceMs: 15_000,
    });
  }
  await removeFile(layout.containerd.pidFile);
  await removeFile(layout.criSocket);
  await removeFile(layout.ttrpcSocket);
}

/** Writes the CNI conflist and hosts.toml files (safe while containerd runs: both are re-read). */
export async function writeCniConfig(layout: Layout, fileName: string, content: string): Promise<void> {
  for (const entry of await readdir(layout.cni.confDir)) {
    if (entry !== fileName) await rm(join(layout.cni.confDir, entry), { force: true });
  }
  const file = join(layout.cni.confDir, fileName);
  const current = existsSync(file) ? await readFile(file, "utf8") : "";
  if (current !== content) await writeFile(file, content);
}

/** One `<host:port>/hosts.toml` per registry; directories for registries we no longer use are dropped. */
export async function writeRegistryHosts(layout: Layout, hosts: ReadonlyMap<string, string>): Promise<void> {
  for (const entry of await readdir(layout.containerd.certsDir)) {
    if (!hosts.has(entry))
      await rm(join(layout.containerd.certsDir, entry), { recursive: true, force: true });
  }
  for (const [address, content] of hosts) {
    const dir = join(layout.containerd.certsDir, address);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "hosts.toml"), content);
  }
}
