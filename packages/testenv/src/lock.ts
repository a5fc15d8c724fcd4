import { open, readFile, rm } from "node:fs/promises";
import { errorMessage, TestEnvError } from "./errors.js";
import type { Logger } from "./log.js";
import { isRunning, sleep } from "./proc.js";

export interface LockOptions {
  timeoutMs?: number;
  log?: Logger;
}

async function tryAcquire(file: string): Promise<boolean> {
  try {
    const handle = await open(file, "wx");
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new TestEnvError("INVALID_STATE", `cannot create lock ${file}: ${errorMessage(error)}`);
  }
}

async function holder(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(file, "utf8"), 10);
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

// Calls within one process queue here first: the lock file cannot tell them apart (same pid).
const queues = new Map<string, Promise<unknown>>();

/**
 * Serialises up/down across processes (several vitest runs may call `up` at once). A lock whose
 * owner died is taken over.
 */
export function withLock<T>(file: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const previous = queues.get(file) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => withFileLock(file, fn, options));
  queues.set(file, next);
  void next
    .finally(() => {
      if (queues.get(file) === next) queues.delete(file);
    })
    .catch(() => undefined);
  return next;
}

async function withFileLock<T>(file: string, fn: () => Promise<T>, options: LockOptions): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  let announced = false;
  while (!(await tryAcquire(file))) {
    const pid = await holder(file);
    if (pid === undefined || pid === process.pid || !(await isRunning(pid))) {
      // Stale (or half-written) lock: give a writer a moment, then re-check before removing it.
      await sleep(100);
      const again = await holder(file);
      if (again === pid && (again === undefined || !(await isRunning(again))))
        await rm(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new TestEnvError("LOCK_TIMEOUT", `timed out waiting for ${file} held by pid ${pid}`);
    }
    if (!announced) {
      options.log?.info(`waiting for another testenv process (pid ${pid}) to finish`);
      announced = true;
    }
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}
