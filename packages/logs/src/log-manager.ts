// The container log manager (the kubelet's pkg/kubelet/logs ContainerLogManager): rotation of the
// running containers' logs every containerLogMonitorInterval, compression of older rotated files,
// removal of a container's logs and of the legacy symlinks log shippers read.
//
// One rotation: stale `.tmp` files and raw files that already have a `.gz` are removed, then the
// oldest rotated files so that at most maxFiles-2 remain; the live log is renamed
// `<log>.<YYYYMMDD-hhmmss>` (UTC) and the runtime asked to reopen it (renamed back if that fails).
// Only then are the older rotated files gzip-compressed (`x` -> `x.tmp` -> `x.gz`), in the
// background per container; the newest rotated file stays raw, as readers may still be on it.

import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat, symlink, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { ContainerFilter } from "@nodelet/cri-api";
import {
  type Clock,
  type ContainerLogManager,
  ErrorCode,
  errnoCode,
  errorMessage,
  isNodeletError,
  type Logger,
  NodeletError,
  noopLogger,
  type RuntimeService,
  type StartedContainerLog,
  systemClock,
} from "@nodelet/runtime-api";
import type { Registry } from "prom-client";
import { type LogManagerMetrics, logManagerMetrics } from "./metrics.js";
import { legacyLogSymlinkName } from "./paths.js";

/** The CRI calls the manager makes. */
export type LogRuntimeService = Pick<
  RuntimeService,
  "listContainers" | "containerStatus" | "reopenContainerLog"
>;

/** The kubelet's defaults. */
export const LOG_MANAGER_DEFAULTS = {
  maxSizeBytes: 10 * 1024 * 1024,
  maxFiles: 5,
  maxWorkers: 1,
  monitorIntervalMs: 10_000,
} as const;

export interface LogManagerOptions {
  runtimeService: LogRuntimeService;
  /** containerLogMaxSize in bytes: a running container's log at least this big is rotated. */
  maxSizeBytes?: number | undefined;
  /** containerLogMaxFiles: files per container counting the live one; at least 2. */
  maxFiles?: number | undefined;
  /** containerLogMaxWorkers: containers rotated at once; at least 1. */
  maxWorkers?: number | undefined;
  /** containerLogMonitorInterval in ms; at least 1. */
  monitorIntervalMs?: number | undefined;
  /** Where the legacy `<pod>_<ns>_<container>-<id>.log` symlinks go; none when unset. */
  legacyLogDirectory?: string | undefined;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
  registry?: Registry | undefined;
}

export type LogOperation = "list" | "status" | "rotate" | "reopen" | "compress" | "clean" | "symlink";

export interface LogManager extends Required<ContainerLogManager> {
  /**
   * One pass over the running containers; with `waitForCompression` (default true) it settles once
   * the compressions it started are done too. The periodic loop does not wait for them.
   */
  rotateLogs(options?: { waitForCompression?: boolean }): Promise<void>;
  readonly metrics: LogManagerMetrics | undefined;
}

const RUNNING = 1; // runtime.v1 ContainerState.CONTAINER_RUNNING
const ROTATED = /^\.(\d{8}-\d{6})(\.gz)?$/;

/** `<YYYYMMDD-hhmmss>` in UTC, the kubelet's rotation suffix. */
export function rotationSuffix(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-12-02T17:42:19.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

function invalid(field: string, message: string): NodeletError {
  return new NodeletError(ErrorCode.InvalidConfig, `${field} ${message}`, { details: { field } });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return false;
    throw err;
  }
}

/**
 * Points `link` at `target`. The directory is made, or an old link replaced, only when the first
 * try fails for that reason: one system call on a container start's path in the usual case.
 */
async function linkReplacing(target: string, link: string): Promise<void> {
  try {
    await symlink(target, link);
    return;
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT") await mkdir(dirname(link), { recursive: true, mode: 0o755 });
    else if (code === "EEXIST") await removeIfPresent(link);
    else throw err;
  }
  await symlink(target, link);
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
}

/** The rotated files of `logPath`, oldest first, with whether each is compressed. */
async function rotatedFiles(logPath: string): Promise<{ path: string; suffix: string; gz: boolean }[]> {
  const dir = dirname(logPath);
  const base = basename(logPath);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return [];
    throw err;
  }
  const files: { path: string; suffix: string; gz: boolean }[] = [];
  for (const name of names) {
    if (!name.startsWith(base)) continue;
    const m = ROTATED.exec(name.slice(base.length));
    if (m?.[1] !== undefined) files.push({ path: join(dir, name), suffix: m[1], gz: m[2] !== undefined });
  }
  return files.sort((a, b) => (a.suffix < b.suffix ? -1 : a.suffix > b.suffix ? 1 : 0));
}

export function createLogManager(options: LogManagerOptions): LogManager {
  const maxSize = options.maxSizeBytes ?? LOG_MANAGER_DEFAULTS.maxSizeBytes;
  const maxFiles = options.maxFiles ?? LOG_MANAGER_DEFAULTS.maxFiles;
  const maxWorkers = options.maxWorkers ?? LOG_MANAGER_DEFAULTS.maxWorkers;
  const interval = options.monitorIntervalMs ?? LOG_MANAGER_DEFAULTS.monitorIntervalMs;
  if (!Number.isInteger(maxFiles) || maxFiles < 2)
    throw invalid("containerLogMaxFiles", `must be at least 2, got ${maxFiles}`);
  if (!Number.isInteger(maxWorkers) || maxWorkers < 1)
    throw invalid("containerLogMaxWorkers", `must be at least 1, got ${maxWorkers}`);
  if (!Number.isFinite(interval) || interval < 1)
    throw invalid("containerLogMonitorInterval", `must be positive, got ${interval}`);
  if (!Number.isFinite(maxSize))
    throw invalid("containerLogMaxSize", `must be a number of bytes, got ${maxSize}`);
  const { runtimeService } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const metrics = options.registry ? logManagerMetrics(options.registry) : undefined;
  /** Log path by container ID: one ContainerStatus per container, not one per pass. */
  const logPaths = new Map<string, string>();
  /** Compression in progress (or queued) by container ID. */
  const compressions = new Map<string, Promise<void>>();
  /** Legacy symlinks made by containerStarted, by container ID. */
  const symlinks = new Map<string, string>();
  let timer: { cancel(): void } | undefined;
  let pass: Promise<void> | undefined;

  function failed(op: LogOperation, containerId: string | undefined, err: unknown): void {
    metrics?.errors.inc({ operation: op });
    logger.warn(
      { err: errorMessage(err), code: errnoCode(err), op, containerId },
      "container log manager: operation failed",
    );
  }

  async function logPathOf(containerId: string): Promise<string | undefined> {
    const cached = logPaths.get(containerId);
    if (cached !== undefined) return cached;
    const status = (await runtimeService.containerStatus(containerId, false)).status;
    const path = status?.logPath ?? "";
    if (path === "") return undefined;
    logPaths.set(containerId, path);
    return path;
  }

  async function compressFile(path: string): Promise<void> {
    const tmp = `${path}.tmp`;
    await pipeline(createReadStream(path), createGzip(), createWriteStream(tmp, { mode: 0o644 }));
    await rename(tmp, `${path}.gz`);
    await unlink(path);
  }

  /** gzip every raw rotated file but the newest (readers may still be on it). */
  async function compressOlder(containerId: string, logPath: string): Promise<void> {
    const raw = (await rotatedFiles(logPath)).filter((f) => !f.gz);
    for (const file of raw.slice(0, -1)) {
      try {
        await compressFile(file.path);
        metrics?.compressions.inc();
      } catch (err) {
        if (errnoCode(err) === "ENOENT") continue; // removed meanwhile (clean, or the oldest dropped)
        failed("compress", containerId, err);
        await removeIfPresent(`${file.path}.tmp`).catch(() => undefined);
      }
    }
  }

  function scheduleCompression(containerId: string, logPath: string): Promise<void> {
    const previous = compressions.get(containerId) ?? Promise.resolve();
    const next = previous.then(() => compressOlder(containerId, logPath));
    compressions.set(containerId, next);
    void next.finally(() => {
      if (compressions.get(containerId) === next) compressions.delete(containerId);
    });
    return next;
  }

  /** Removes stale `.tmp` files, raw files that have a `.gz`, and the oldest beyond maxFiles-2. */
  async function cleanupRotated(containerId: string, logPath: string): Promise<void> {
    const dir = dirname(logPath);
    const base = basename(logPath);
    if (!compressions.has(containerId)) {
      for (const name of await readdir(dir)) {
        if (name.startsWith(base) && name.endsWith(".tmp")) await removeIfPresent(join(dir, name));
      }
    }
    const files = await rotatedFiles(logPath);
    const gz = new Set(files.filter((f) => f.gz).map((f) => f.suffix));
    const kept: typeof files = [];
    for (const file of files) {
      if (!file.gz && gz.has(file.suffix)) await removeIfPresent(file.path);
      else kept.push(file);
    }
    for (const file of kept.slice(0, Math.max(0, kept.length - (maxFiles - 2)))) {
      await removeIfPresent(file.path);
    }
  }

  async function rotateContainer(containerId: string, started: Promise<void>[]): Promise<void> {
    let logPath: string | undefined;
    try {
      logPath = await logPathOf(containerId);
    } catch (err) {
      if (!isNodeletError(err, ErrorCode.NotFound)) failed("status", containerId, err);
      return;
    }
    if (logPath === undefined) return;
    let size: number;
    try {
      size = (await stat(logPath)).size;
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") {
        failed("rotate", containerId, err);
        return;
      }
      // The live log is missing (removed by hand, or a reopen failed): ask the runtime for it.
      await runtimeService
        .reopenContainerLog(containerId)
        .catch((e: unknown) => failed("reopen", containerId, e));
      return;
    }
    if (size < maxSize) return;
    const rotated = `${logPath}.${rotationSuffix(clock.now())}`;
    try {
      await cleanupRotated(containerId, logPath);
      // Rotated already within this second: the next pass does it (the name would be taken).
      if (await exists(rotated)) return;
      await rename(logPath, rotated);
    } catch (err) {
      failed("rotate", containerId, err);
      return;
    }
    try {
      await runtimeService.reopenContainerLog(containerId);
    } catch (err) {
      failed("reopen", containerId, err);
      // The runtime still writes to the renamed file: give it its name back.
      await rename(rotated, logPath).catch((e: unknown) => failed("rotate", containerId, e));
      return;
    }
    metrics?.rotations.inc();
    started.push(scheduleCompression(containerId, logPath));
  }

  async function runPass(started: Promise<void>[]): Promise<void> {
    let ids: string[];
    try {
      const filter: ContainerFilter = {
        id: "",
        state: { state: RUNNING },
        podSandboxId: "",
        labelSelector: {},
      };
      ids = (await runtimeService.listContainers(filter)).map((c) => c.id);
    } catch (err) {
      failed("list", undefined, err);
      return;
    }
    const running = new Set(ids);
    for (const id of logPaths.keys()) if (!running.has(id)) logPaths.delete(id);
    if (maxSize < 0) return; // a negative containerLogMaxSize turns rotation off, as the kubelet's stub
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        await rotateContainer(id, started);
      }
    };
    await Promise.all(Array.from({ length: Math.min(maxWorkers, ids.length) }, worker));
  }

  function rotateLogs(opts: { waitForCompression?: boolean } = {}): Promise<void> {
    const started: Promise<void>[] = [];
    // One pass at a time: a periodic pass that finds one running is skipped.
    const current = (pass ?? Promise.resolve()).then(() => runPass(started));
    pass = current;
    void current.finally(() => {
      if (pass === current) pass = undefined;
    });
    if (opts.waitForCompression === false) return current;
    return current.then(async () => {
      await Promise.all(started);
    });
  }

  async function removeLegacySymlink(containerId: string): Promise<void> {
    const dir = options.legacyLogDirectory;
    if (dir === undefined) return;
    const known = symlinks.get(containerId);
    if (known !== undefined) {
      await removeIfPresent(known);
      symlinks.delete(containerId);
      return;
    }
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return;
      throw err;
    }
    // Made before a restart of the agent: found by the container ID in its name.
    const suffix = `-${containerId}.log`;
    for (const name of names) if (name.endsWith(suffix)) await removeIfPresent(join(dir, name));
  }

  async function clean(containerId: string): Promise<void> {
    try {
      await compressions.get(containerId)?.catch(() => undefined);
      let logPath: string | undefined;
      try {
        logPath = await logPathOf(containerId);
      } catch (err) {
        if (!isNodeletError(err, ErrorCode.NotFound)) throw err;
      }
      if (logPath !== undefined) {
        const dir = dirname(logPath);
        const base = basename(logPath);
        let names: string[] = [];
        try {
          names = await readdir(dir);
        } catch (err) {
          if (errnoCode(err) !== "ENOENT") throw err;
        }
        for (const name of names) {
          if (name === base || (name.startsWith(`${base}.`) && name !== base)) {
            await rm(join(dir, name), { force: true });
          }
        }
      }
      await removeLegacySymlink(containerId);
      logPaths.delete(containerId);
    } catch (err) {
      failed("clean", containerId, err);
      throw NodeletError.from(err, ErrorCode.Internal);
    }
  }

  async function containerStarted(c: StartedContainerLog): Promise<void> {
    logPaths.set(c.containerId, c.logPath);
    const dir = options.legacyLogDirectory;
    if (dir === undefined) return;
    const link = join(dir, legacyLogSymlinkName(c.podName, c.podNamespace, c.containerName, c.containerId));
    try {
      // The kubelet links only a log that exists, and makes the directory when it starts.
      if (!(await exists(c.logPath))) return;
      await linkReplacing(c.logPath, link);
      symlinks.set(c.containerId, link);
    } catch (err) {
      failed("symlink", c.containerId, err);
    }
  }

  return {
    metrics,
    rotateLogs,
    clean,
    containerStarted,
    start() {
      if (timer !== undefined) return;
      timer = clock.setInterval(() => {
        if (pass !== undefined) return;
        void rotateLogs({ waitForCompression: false });
      }, interval);
    },
    async stop() {
      timer?.cancel();
      timer = undefined;
      await pass?.catch(() => undefined);
      await Promise.all([...compressions.values()].map((p) => p.catch(() => undefined)));
    },
  };
}
