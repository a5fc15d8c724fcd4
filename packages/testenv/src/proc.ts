import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { TestEnvError } from "./errors.js";
import { toolEnv } from "./exec.js";
import type { Logger } from "./log.js";

export interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  argv: string[];
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(file, "utf8")).trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function writePid(file: string, pid: number): Promise<void> {
  await writeFile(file, `${pid}\n`);
}

export async function removeFile(file: string): Promise<void> {
  await rm(file, { force: true });
}

export async function processInfo(pid: number): Promise<ProcInfo | undefined> {
  try {
    const [stat, cmdline] = await Promise.all([
      readFile(`/proc/${pid}/stat`, "utf8"),
      readFile(`/proc/${pid}/cmdline`, "utf8"),
    ]);
    // comm (field 2) may contain spaces and parentheses: parse after the last ")".
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return {
      pid,
      state: rest[0] ?? "?",
      ppid: Number.parseInt(rest[1] ?? "0", 10),
      argv: cmdline.split("\0").filter((a) => a.length > 0),
    };
  } catch {
    return undefined;
  }
}

/**
 * Alive and not a zombie; `mustContain` guards against pid reuse by checking that some argument
 * of the process contains the given string (e.g. our config path).
 */
export async function isRunning(pid: number | undefined, mustContain?: string): Promise<boolean> {
  if (pid === undefined) return false;
  const info = await processInfo(pid);
  if (!info || info.state === "Z" || info.state === "X") return false;
  return mustContain === undefined || info.argv.some((a) => a.includes(mustContain));
}

export async function listProcesses(): Promise<ProcInfo[]> {
  const entries = await readdir("/proc");
  const infos = await Promise.all(entries.filter((e) => /^\d+$/.test(e)).map((e) => processInfo(Number(e))));
  return infos.filter((i): i is ProcInfo => i !== undefined);
}

export function descendantsOf(pid: number, procs: readonly ProcInfo[]): number[] {
  const children = new Map<number, number[]>();
  for (const p of procs) {
    const list = children.get(p.ppid) ?? [];
    list.push(p.pid);
    children.set(p.ppid, list);
  }
  const out: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    out.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return out;
}

export interface DaemonOptions {
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Starts a long-lived daemon in its own process group with output appended to a log file, and
 * detaches from it so the caller (a CLI, or vitest's global setup) can exit while it keeps running.
 */
export function spawnDaemon(cmd: string, args: readonly string[], options: DaemonOptions): Promise<number> {
  const fd = openSync(options.logFile, "a");
  try {
    const child = spawn(cmd, args, {
      cwd: options.cwd ?? "/",
      env: options.env ?? toolEnv(),
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    return new Promise((resolve, reject) => {
      child.once("error", (error) =>
        reject(new TestEnvError("COMMAND_FAILED", `cannot start ${cmd}: ${error.message}`, { cause: error })),
      );
      child.once("spawn", () => {
        child.unref();
        if (child.pid === undefined) reject(new TestEnvError("COMMAND_FAILED", `no pid for ${cmd}`));
        else resolve(child.pid);
      });
    });
  } finally {
    closeSync(fd);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isRunning(pid))) return true;
    await sleep(50);
  }
  return !(await isRunning(pid));
}

export interface StopOptions {
  name: string;
  mustContain?: string;
  graceMs?: number;
  log?: Logger;
}

/** SIGTERM, then SIGKILL once the grace period is over. Only touches the given pid. */
export async function stopProcess(pid: number, options: StopOptions): Promise<boolean> {
  if (!(await isRunning(pid, options.mustContain))) return false;
  options.log?.info(`stopping ${options.name} (pid ${pid})`);
  signal(pid, "SIGTERM");
  if (await waitGone(pid, options.graceMs ?? 10_000)) return true;
  options.log?.info(`${options.name} (pid ${pid}) ignored SIGTERM; sending SIGKILL`);
  signal(pid, "SIGKILL");
  if (!(await waitGone(pid, 5_000))) {
    throw new TestEnvError("TIMEOUT", `${options.name} (pid ${pid}) survived SIGKILL`);
  }
  return true;
}

export function killNow(pid: number): void {
  signal(pid, "SIGKILL");
}
