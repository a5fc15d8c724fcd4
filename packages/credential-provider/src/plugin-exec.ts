import type { ChildProcess } from "node:child_process";
import { ErrorCode, NodeletError } from "@nodelet/runtime-api";

/** The kubelet's catch-all timeout of one plugin run. */
export const DEFAULT_PLUGIN_TIMEOUT_MS = 60 * 1000;
/** Largest stdout read from a plugin. */
export const DEFAULT_PLUGIN_MAX_OUTPUT_BYTES = 1024 * 1024;
const STDERR_KEPT_BYTES = 1024;

export interface PluginSpawnOptions {
  env: NodeJS.ProcessEnv;
  stdio: ["pipe", "pipe", "pipe"];
  /** The plugin leads its own process group, so a timeout kills its children too. */
  detached: boolean;
  shell: false;
}

/** How a plugin process is started; node:child_process.spawn fits. */
export type PluginSpawn = (
  command: string,
  args: readonly string[],
  options: PluginSpawnOptions,
) => ChildProcess;

export interface ExecPluginOptions {
  /** The provider name, for messages. */
  name: string;
  image: string;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  stdin: string;
  timeoutMs: number;
  maxOutputBytes: number;
  spawn: PluginSpawn;
}

function killTree(child: ChildProcess): void {
  if (child.pid !== undefined) {
    try {
      process.kill(-child.pid, "SIGKILL");
      return;
    } catch {
      // Not a group leader (a custom spawn): kill the process alone.
    }
  }
  child.kill("SIGKILL");
}

/**
 * Runs a plugin once: writes `stdin`, collects stdout up to `maxOutputBytes`, kills the process
 * group on timeout. Resolves with stdout when it exits 0; otherwise rejects with
 * `CredentialProviderError` (stderr's tail appended, as the kubelet does; stdout never quoted).
 */
export function execPlugin(options: ExecPluginOptions): Promise<Buffer> {
  const prefix = `credential provider plugin "${options.name}" for image "${options.image}"`;
  const fail = (what: string, details: Record<string, unknown>) =>
    new NodeletError(ErrorCode.CredentialProviderError, `${prefix} ${what}`, {
      details: { plugin: options.name, image: options.image, ...details },
    });

  return new Promise<Buffer>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = options.spawn(options.command, options.args, {
        env: options.env,
        stdio: ["pipe", "pipe", "pipe"],
        detached: true,
        shell: false,
      });
    } catch (error) {
      reject(fail(`could not be started: ${(error as Error).message}`, {}));
      return;
    }
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let settled = false;

    const settle = (error: NodeletError | undefined, value?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value as Buffer);
    };
    const abandon = (error: NodeletError) => {
      killTree(child);
      // A grandchild may hold the pipes open; stop waiting for them.
      child.stdout?.destroy();
      child.stderr?.destroy();
      settle(error);
    };
    const stderrTail = () => {
      const text = stderr.toString("utf8").trim();
      return text === "" ? "" : `: ${text}`;
    };

    const timer = setTimeout(
      () => abandon(fail(`timed out after ${options.timeoutMs} ms`, { timedOut: true })),
      options.timeoutMs,
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > options.maxOutputBytes) {
        abandon(fail(`wrote more than ${options.maxOutputBytes} bytes to stdout`, { stdoutBytes }));
      } else {
        stdout.push(chunk);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_KEPT_BYTES) stderr = stderr.subarray(stderr.length - STDERR_KEPT_BYTES);
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      settle(fail(`could not be run: ${error.code ?? error.message}`, { errno: error.code }));
    });
    child.on("close", (code: number | null, signal: NodeJS.Signals | null) => {
      if (code === 0) settle(undefined, Buffer.concat(stdout));
      else {
        const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
        settle(fail(`${how}${stderrTail()}`, { exitCode: code, signal }));
      }
    });
    // A plugin that does not read its request closes stdin early: EPIPE is not our failure.
    child.stdin?.on("error", () => {});
    child.stdin?.end(options.stdin);
  });
}
