// The static pod path source (the kubelet's file source, pkg/kubelet/config/file.go): every
// non-hidden file of a directory (or the single file the path names) is one Pod manifest.
// Watched for changes, with a full rescan every fileCheckFrequency as a safety net.

import { type FSWatcher, type Stats, watch } from "node:fs";
import { lstat, open, readdir, realpath, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import {
  type Clock,
  ErrorCode,
  type Logger,
  NodeletError,
  noopLogger,
  systemClock,
  type Timer,
  type V1Pod,
} from "@nodelet/runtime-api";
import pLimit from "p-limit";
import { podKey, toStaticPod } from "../static-pod.js";
import { errnoCode, type ReadFs } from "./document.js";
import { readManifestFile } from "./manifest-file.js";
import type { PodSource, PodSourceError, PodSourceUpdate } from "./types.js";

/** Files of the path looked at together in a scan. */
const FILES_AT_ONCE = 8;

/** The file system calls the directory source makes; injectable for tests. */
export interface DirFs extends ReadFs {
  stat(path: string): Promise<Stats>;
  readdir(path: string): Promise<string[]>;
}

export const nodeDirFs: DirFs = {
  lstat: (path) => lstat(path),
  realpath: (path) => realpath(path),
  open: (path, flags) => open(path, flags),
  stat: (path) => stat(path),
  readdir: (path) => readdir(path),
};

export interface ManifestDirSourceOptions {
  /** The static pod path: a directory of manifests, or one manifest file. */
  dir: string;
  nodeName: string;
  /** Full rescan period (the kubelet's fileCheckFrequency, 20 s by default). */
  fileCheckFrequencyMs: number;
  /** Stamps `kubernetes.io/config.seen`. */
  clock?: Clock;
  logger?: Logger;
  /**
   * Quiet time after a change is seen before the rescan (100 ms); a burst waits at most 10 times
   * this. 0: the rescan starts at once, and changes seen while it runs give one more rescan.
   */
  debounceMs?: number;
  /**
   * A file that cannot be used and was modified less than this ago (default 0: never) is taken as
   * being written: its last good pod stays, no problem is reported yet, and the path is read again
   * once the time has passed. This lets debounceMs be 0 for writers that do not rename into place.
   */
  writeSettleMs?: number;
  /** Watch for changes (default true); without it only the periodic rescan sees them. */
  watch?: boolean;
  /** Per-file limits, as readManifestFile. */
  maxBytes?: number;
  maxDepth?: number;
  fs?: DirFs;
}

interface FileEntry {
  /** Identity and version of what the path pointed at when read. */
  signature: string;
  pod?: V1Pod;
  error?: NodeletError;
}

/**
 * Creates the manifest directory source. Each update is the full set of pods in the path:
 * hidden files (leading '.') and subdirectories are skipped, every other file must hold one
 * Pod. A bad file adds an entry to `errors` and leaves the other pods alone (its own pod, if it
 * had one, is gone from the set, as with the kubelet). A missing path is logged and gives an
 * empty set; once created, the next rescan picks it up. Unchanged files are not read again.
 */
export function createManifestDirSource(options: ManifestDirSourceOptions): PodSource {
  const fs = options.fs ?? nodeDirFs;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const debounceMs = options.debounceMs ?? 100;
  const writeSettleMs = options.writeSettleMs ?? 0;
  const path = options.dir;

  let onUpdate: ((update: PodSourceUpdate) => void) | undefined;
  let stopped = false;
  let started = false;
  let delivered = false;
  let lastPods: V1Pod[] = [];
  let cache = new Map<string, FileEntry>();
  let loggedErrors = new Map<string, string>();
  let missingLogged = false;

  let periodicTimer: Timer | undefined;
  let debounceTimer: Timer | undefined;
  let settleTimer: Timer | undefined;
  let burstStart: number | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const limitFiles = pLimit(FILES_AT_ONCE);

  let watcher: FSWatcher | undefined;
  let watchedIdentity: string | undefined;
  let watcherClosing: Promise<void> = Promise.resolve();

  function emit(update: PodSourceUpdate): void {
    if (stopped || onUpdate === undefined) return;
    delivered = true;
    lastPods = update.pods;
    try {
      onUpdate(update);
    } catch (err) {
      logger.error({ err, source: "file" }, "pod source listener failed");
    }
  }

  function logErrors(errors: PodSourceError[]): void {
    const current = new Map(errors.map((e) => [e.origin, e.error.message]));
    for (const [origin, message] of current) {
      if (loggedErrors.get(origin) !== message) {
        logger.error({ source: "file", path: origin, err: message }, "cannot use static pod manifest");
      }
    }
    for (const origin of loggedErrors.keys()) {
      if (!current.has(origin))
        logger.info({ source: "file", path: origin }, "static pod manifest problem resolved");
    }
    loggedErrors = current;
  }

  async function readEntry(file: string, signature: string): Promise<FileEntry> {
    const cached = cache.get(file);
    if (signature !== "" && cached?.signature === signature) return cached;
    try {
      const manifest = await readManifestFile(file, {
        fs,
        ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
        ...(options.maxDepth === undefined ? {} : { maxDepth: options.maxDepth }),
      });
      const pod = toStaticPod(manifest, {
        source: "file",
        sourceName: file,
        nodeName: options.nodeName,
        seenAt: new Date(clock.now()),
      });
      return { signature, pod };
    } catch (err) {
      return { signature, error: NodeletError.from(err, ErrorCode.InvalidPod) };
    }
  }

  /** One full read of the path: the update, or why the path itself could not be read. */
  async function scanOnce(): Promise<PodSourceUpdate | NodeletError> {
    const failure = (problem: string, err?: unknown): NodeletError =>
      new NodeletError(ErrorCode.InvalidPod, `static pod path ${path} ${problem}`, {
        ...(err === undefined ? {} : { cause: err }),
        details: { path },
      });
    let info: Stats;
    try {
      info = await fs.stat(path);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") {
        if (!missingLogged) {
          logger.warn(
            { source: "file", path },
            "static pod path does not exist; it is checked again every rescan",
          );
          missingLogged = true;
        }
        await closeWatcher();
        cache = new Map();
        return { source: "file", pods: [], errors: [] };
      }
      return failure(`cannot be read: ${errnoCode(err) ?? String(err)}`, err);
    }
    if (missingLogged) {
      logger.info({ source: "file", path }, "static pod path exists now");
      missingLogged = false;
    }
    await ensureWatcher(info);

    let files: string[];
    if (info.isDirectory()) {
      try {
        files = (await fs.readdir(path))
          .filter((name) => !name.startsWith("."))
          .sort()
          .map((name) => join(path, name));
      } catch (err) {
        return failure(`cannot be listed: ${errnoCode(err) ?? String(err)}`, err);
      }
    } else if (info.isFile()) {
      files = [path];
    } else {
      return failure("is neither a directory nor a regular file");
    }

    // Every file is looked at (stat, and a read when it changed) a few at once: a burst of new
    // manifests is read together rather than one file system round trip after another.
    const looked = await Promise.all(files.map((file) => limitFiles(() => lookAt(file))));
    const pods: V1Pod[] = [];
    const errors: PodSourceError[] = [];
    const next = new Map<string, FileEntry>();
    const names = new Map<string, string>();
    for (const item of looked) {
      if (item === undefined) continue;
      const { file, modifiedAt } = item;
      let { entry } = item;
      // Either side of now: the file system's clock and an injected one need not agree.
      if (
        entry.error !== undefined &&
        modifiedAt !== undefined &&
        Math.abs(clock.now() - modifiedAt) < writeSettleMs
      ) {
        const previous = cache.get(file);
        entry = previous?.pod !== undefined ? previous : { signature: "" };
        settleRescan();
      }
      next.set(file, entry);
      if (entry.error !== undefined) errors.push({ origin: file, error: entry.error });
      if (entry.pod === undefined) continue;
      // The kubelet drops a second pod with the same name from one source update.
      const fullName = podKey(entry.pod);
      const first = names.get(fullName);
      if (first !== undefined) {
        const error = new NodeletError(
          ErrorCode.InvalidPod,
          `${file}: pod ${fullName} is already defined by ${first}; this manifest is ignored`,
          { details: { origin: file, name: fullName } },
        );
        errors.push({ origin: file, error });
        continue;
      }
      names.set(fullName, file);
      pods.push(entry.pod);
    }
    cache = next;
    return { source: "file", pods, errors };
  }

  /** One file of the path: its entry, or undefined when it is skipped (a directory, or gone). */
  async function lookAt(
    file: string,
  ): Promise<{ file: string; entry: FileEntry; modifiedAt: number | undefined } | undefined> {
    let signature = "";
    let modifiedAt: number | undefined;
    try {
      const fileInfo = await fs.stat(file);
      modifiedAt = fileInfo.mtimeMs;
      if (fileInfo.isDirectory() && file !== path) {
        logger.debug({ source: "file", path: file }, "not recursing into a directory of the static pod path");
        return undefined;
      }
      signature = `${fileInfo.dev}:${fileInfo.ino}:${fileInfo.size}:${fileInfo.mtimeMs}:${fileInfo.ctimeMs}`;
    } catch (err) {
      // Gone since the listing: not part of the set. Otherwise (a symlink loop, a dangling
      // link, no permission) reading it reports the problem.
      if (errnoCode(err) === "ENOENT" && !(await exists(file))) return undefined;
    }
    return { file, entry: await readEntry(file, signature), modifiedAt };
  }

  async function exists(file: string): Promise<boolean> {
    try {
      await fs.lstat(file);
      return true;
    } catch {
      return false;
    }
  }

  function runScan(): Promise<void> {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        const result = await scanOnce();
        if (stopped) return;
        if (result instanceof NodeletError) {
          // The path itself could not be read: keep the last set, as the kubelet does. Before
          // a first complete read there is no set, so the source is not ready yet.
          logErrors([{ origin: path, error: result }]);
          if (delivered) emit({ source: "file", pods: lastPods, errors: [{ origin: path, error: result }] });
        } else {
          logErrors(result.errors);
          emit(result);
        }
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedulePeriodic(): void {
    if (stopped) return;
    periodicTimer = clock.setTimeout(() => {
      void runScan().then(schedulePeriodic, schedulePeriodic);
    }, options.fileCheckFrequencyMs);
  }

  function settleRescan(): void {
    if (settleTimer !== undefined || stopped) return;
    settleTimer = clock.setTimeout(() => {
      settleTimer = undefined;
      void runScan();
    }, writeSettleMs);
  }

  function onFsEvent(): void {
    if (stopped) return;
    const now = clock.now();
    burstStart ??= now;
    debounceTimer?.cancel();
    const wait = Math.max(0, Math.min(debounceMs, burstStart + debounceMs * 10 - now));
    debounceTimer = clock.setTimeout(() => {
      debounceTimer = undefined;
      burstStart = undefined;
      void runScan();
    }, wait);
  }

  /** Watches the path's directory (or file) unless it is watched already: `info` is its stat. */
  async function ensureWatcher(info: Stats): Promise<void> {
    if (options.watch === false || stopped) return;
    const identity = `${info.dev}:${info.ino}`;
    if (watcher !== undefined && watchedIdentity === identity) return;
    // Watch what the path resolves to: a symlinked manifest directory is common.
    const target = await fs.realpath(path).catch(() => path);
    if (stopped) return;
    void closeWatcher();
    watchedIdentity = identity;
    // One inotify watch on the directory (or the file) itself: an event only triggers the scan,
    // which reads the directory anyway. (chokidar re-read the directory with a stat of every
    // entry at each event and put a watch on every file: 111 watches for 110 manifests.)
    let created: FSWatcher;
    try {
      created = watch(target, (_event, name) => {
        // An editor's hidden temporary file: the rename into place is the event that counts.
        if (name && basename(name.toString()).startsWith(".")) return;
        onFsEvent();
      });
    } catch (err) {
      watchFailed(err);
      return;
    }
    created.on("error", (err) => {
      if (watcher !== created) return;
      watchFailed(err);
      void closeWatcher();
    });
    watcher = created;
  }

  /** Out of inotify watches, or the path went away under the watch: rescans go on and watch again. */
  function watchFailed(err: unknown): void {
    logger.debug(
      { source: "file", path, err: String(err) },
      "watching the static pod path failed; rescans go on",
    );
  }

  function closeWatcher(): Promise<void> {
    const closing = watcher;
    watcher = undefined;
    watchedIdentity = undefined;
    if (closing !== undefined) {
      watcherClosing = watcherClosing.then(() => closing.close()).catch(() => undefined);
    }
    return watcherClosing;
  }

  return {
    name: "file",
    start(listener) {
      if (started) throw new Error("the manifest directory source was already started");
      started = true;
      onUpdate = listener;
      void runScan().then(schedulePeriodic, schedulePeriodic);
    },
    async stop() {
      stopped = true;
      periodicTimer?.cancel();
      debounceTimer?.cancel();
      settleTimer?.cancel();
      await closeWatcher();
      await running?.catch(() => undefined);
    },
  };
}
