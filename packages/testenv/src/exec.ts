import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { TestEnvError } from "./errors.js";

// Non-login root shells (and CI runners) sometimes lack the sbin dirs where runc, ip and iptables live.
const SYSTEM_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

export function toolPath(): string {
  const current = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  const merged = [...current];
  for (const dir of SYSTEM_PATH) if (!merged.includes(dir)) merged.push(dir);
  return merged.join(delimiter);
}

export function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: toolPath(), LC_ALL: "C", ...extra };
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? toolEnv(),
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", (error) => {
      if (timer) clearTimeout(timer);
      reject(new TestEnvError("COMMAND_FAILED", `cannot run ${cmd}: ${error.message}`, { cause: error }));
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    if (options.input !== undefined && child.stdin) child.stdin.end(options.input);
  });
}

export function tail(text: string, lines = 20): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Runs a command and throws a COMMAND_FAILED error carrying its stderr when it does not exit 0. */
export async function runChecked(
  cmd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await run(cmd, args, options);
  if (result.code !== 0) {
    const how = result.signal ? `signal ${result.signal}` : `exit code ${result.code}`;
    const detail = tail(`${result.stderr}\n${result.stdout}`.trim());
    throw new TestEnvError(
      "COMMAND_FAILED",
      `${cmd} ${args.join(" ")} failed (${how})${detail ? `:\n${detail}` : ""}`,
    );
  }
  return result;
}

/** `command -v` without a shell: looks the name up on the tool PATH. */
export async function commandExists(name: string): Promise<boolean> {
  for (const dir of toolPath().split(delimiter)) {
    try {
      await access(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}
