// Shared pieces of the agent's integration tests: temp directories and manifests, the agent run
// in-process (createAgent) or as a child process (dist/cli.js), its HTTP API, its logs, and the
// runtime's own view through a direct CRI client.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type Container, ContainerFilter, ContainerState, PodSandboxState } from "@nodelet/cri-api";
import { createRemoteRuntimeService } from "@nodelet/cri-remote";
import type { RuntimeService, V1ContainerStatus, V1Pod } from "@nodelet/runtime-api";
import { readTestEnv, type TestEnv } from "@nodelet/testenv";
import { stringify } from "yaml";
import { type Agent, createAgent } from "../../src/agent.js";
import { parseFlags, resolveConfig } from "../../src/flags.js";
import { createLogger } from "../../src/logging.js";

export const NODE_NAME = "testnode";
export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), "../../dist/cli.js");

/** A container command that runs until SIGTERM and then exits 0 within a second. */
export const RUN_UNTIL_TERM = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

/** A command line that ends like RUN_UNTIL_TERM, after `script`. */
export function thenRunUntilTerm(script: string): string[] {
  return ["sh", "-c", `trap 'exit 0' TERM; ${script}; while true; do sleep 1; done`];
}

// ---- waiting ----------------------------------------------------------------------------------

/**
 * Polls `probe` until it returns a value other than undefined / false. On timeout the error names
 * what was awaited and shows what `describe` says about the last state seen.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<string> | string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const seen = options.describe ? await Promise.resolve(options.describe()).catch(String) : "";
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out waiting for ${what}${cause}${seen ? `\nlast seen: ${seen}` : ""}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}

// ---- directories and manifests -----------------------------------------------------------------

export interface Dirs {
  base: string;
  root: string;
  manifests: string;
  logs: string;
  /** The KubeletConfiguration: fileCheckFrequency 1s, syncFrequency 2s. */
  configFile: string;
}

const madeDirs: string[] = [];

export async function makeDirs(prefix: string): Promise<Dirs> {
  const base = await mkdtemp(join(tmpdir(), `nodelet-it-${prefix}-`));
  madeDirs.push(base);
  const dirs: Dirs = {
    base,
    root: join(base, "root"),
    manifests: join(base, "manifests"),
    logs: join(base, "logs"),
    configFile: join(base, "config.yaml"),
  };
  for (const dir of [dirs.root, dirs.manifests, dirs.logs]) await mkdir(dir, { recursive: true });
  await writeFile(
    dirs.configFile,
    [
      "apiVersion: kubelet.config.k8s.io/v1beta1",
      "kind: KubeletConfiguration",
      "fileCheckFrequency: 1s",
      "syncFrequency: 2s",
      // The legacy log symlinks stay in the test's directory, not in /var/log/containers.
      `containerLogsDir: ${join(base, "containers")}`,
      "",
    ].join("\n"),
  );
  return dirs;
}

/** Removes the directories makeDirs made (once the agent and the pods are gone). */
export async function removeDirs(): Promise<void> {
  for (const dir of madeDirs.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** Image placeholders a manifest may use: `{{busybox}}`, `{{authBusybox}}`, `{{registry}}`. */
export function substitute(text: string, env: TestEnv): string {
  return text
    .replaceAll("{{busybox}}", env.images.busybox)
    .replaceAll("{{authBusybox}}", env.images.authBusybox)
    .replaceAll("{{registry}}", env.registries.plain);
}

/**
 * Writes a manifest (an object written as YAML, or text) into the manifest directory, atomically:
 * the agent never sees half a file. Placeholders are replaced with the test environment's images.
 */
export async function writeManifest(
  env: TestEnv,
  dir: string,
  fileName: string,
  manifest: object | string,
): Promise<string> {
  const text = substitute(typeof manifest === "string" ? manifest : stringify(manifest), env);
  const path = join(dir, fileName);
  const temp = join(dir, `.${fileName}.tmp`);
  await writeFile(temp, text);
  await rename(temp, path);
  return path;
}

export interface PodOptions {
  restartPolicy?: "Always" | "OnFailure" | "Never";
  initContainers?: object[];
  volumes?: object[];
  terminationGracePeriodSeconds?: number;
}

/** A v1 Pod manifest; containers name `{{busybox}}` unless they set an image. */
export function podManifest(name: string, containers: object[], options: PodOptions = {}): object {
  const withImage = (c: object) => ({ image: "{{busybox}}", ...c });
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: options.terminationGracePeriodSeconds ?? 2,
      ...(options.restartPolicy ? { restartPolicy: options.restartPolicy } : {}),
      ...(options.initContainers ? { initContainers: options.initContainers.map(withImage) } : {}),
      containers: containers.map(withImage),
      ...(options.volumes ? { volumes: options.volumes } : {}),
    },
  };
}

// ---- logs ---------------------------------------------------------------------------------------

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** Log lines (pino JSON) collected from a stream or a child's stdout. */
export class LogLines {
  readonly lines: LogLine[] = [];
  readonly raw: string[] = [];
  #partial = "";

  push(chunk: string): void {
    const text = this.#partial + chunk;
    const parts = text.split("\n");
    this.#partial = parts.pop() ?? "";
    for (const part of parts) {
      if (part.trim() === "") continue;
      this.raw.push(part);
      try {
        this.lines.push(JSON.parse(part) as LogLine);
      } catch {
        // Not JSON (a message on stderr): kept in raw only.
      }
    }
  }

  stream(): Writable {
    return new Writable({
      write: (chunk: Buffer | string, _encoding, callback) => {
        this.push(chunk.toString());
        callback();
      },
    });
  }

  find(predicate: (line: LogLine) => boolean): LogLine | undefined {
    return this.lines.find(predicate);
  }

  filter(predicate: (line: LogLine) => boolean): LogLine[] {
    return this.lines.filter(predicate);
  }

  waitFor(what: string, predicate: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    return waitFor(`log line: ${what}`, () => this.find(predicate), {
      timeoutMs,
      describe: () => this.raw.slice(-15).join("\n"),
    });
  }

  /** The events (pod, container, reason) the agent logged. */
  events(pod: string, reason: string): LogLine[] {
    return this.filter((l) => l.pod === `default/${pod}-${NODE_NAME}` && l.reason === reason);
  }
}

// ---- the agent's API ----------------------------------------------------------------------------

export interface PodList {
  kind: string;
  items: V1Pod[];
}

export class AgentApi {
  constructor(readonly baseUrl: string) {}

  async get(path: string): Promise<{ status: number; body: string; contentType: string }> {
    const res = await fetch(`${this.baseUrl}${path}`, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: await res.text(), contentType: res.headers.get("content-type") ?? "" };
  }

  async pods(): Promise<V1Pod[]> {
    const res = await this.get("/pods");
    if (res.status !== 200) throw new Error(`/pods answered ${res.status}: ${res.body}`);
    return (JSON.parse(res.body) as PodList).items;
  }

  /** The pod of manifest `name` (its name in /pods is `<name>-testnode`). */
  async pod(name: string): Promise<V1Pod | undefined> {
    return (await this.pods()).find((p) => p.metadata.name === `${name}-${NODE_NAME}`);
  }

  async runningPods(): Promise<V1Pod[]> {
    const res = await this.get("/runningpods");
    if (res.status !== 200) throw new Error(`/runningpods answered ${res.status}: ${res.body}`);
    return (JSON.parse(res.body) as PodList).items;
  }

  /** Waits until the pod of manifest `name` satisfies `check`; returns it. */
  waitForPod(name: string, what: string, check: (pod: V1Pod) => boolean, timeoutMs = 30_000): Promise<V1Pod> {
    return waitFor(
      `pod ${name}: ${what}`,
      async () => {
        const pod = await this.pod(name);
        return pod && check(pod) ? pod : undefined;
      },
      { timeoutMs, describe: async () => JSON.stringify((await this.pod(name))?.status ?? "not in /pods") },
    );
  }

  waitForGone(name: string, timeoutMs = 30_000): Promise<true> {
    return waitFor(`pod ${name} to leave /pods`, async () => (await this.pod(name)) === undefined, {
      timeoutMs,
    });
  }
}

export function containerStatus(pod: V1Pod | undefined, name: string): V1ContainerStatus | undefined {
  return pod?.status?.containerStatuses?.find((c) => c.name === name);
}

export function initContainerStatus(pod: V1Pod | undefined, name: string): V1ContainerStatus | undefined {
  return pod?.status?.initContainerStatuses?.find((c) => c.name === name);
}

export function condition(pod: V1Pod | undefined, type: string): string | undefined {
  return pod?.status?.conditions?.find((c) => c.type === type)?.status;
}

/** Every regular container is running. */
export function allRunning(pod: V1Pod): boolean {
  const statuses = pod.status?.containerStatuses ?? [];
  return (
    pod.status?.phase === "Running" &&
    statuses.length === pod.spec.containers.length &&
    statuses.every((c) => c.state?.running !== undefined)
  );
}

/** The runtime id in `containerd://<id>`. */
export function runtimeId(containerID: string | undefined): string {
  const match = /^containerd:\/\/([0-9a-f]{64})$/.exec(containerID ?? "");
  if (!match) throw new Error(`not a containerd container ID: ${JSON.stringify(containerID)}`);
  return match[1] as string;
}

// ---- the agent ----------------------------------------------------------------------------------

/** A free TCP port on 127.0.0.1 (the flag takes 1-65535, not 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** The command line both ways of running the agent use. */
export function agentArgs(env: TestEnv, dirs: Dirs, port: number, extra: readonly string[] = []): string[] {
  return [
    "--config",
    dirs.configFile,
    "--container-runtime-endpoint",
    env.criEndpoint,
    "--root-dir",
    dirs.root,
    "--pod-manifest-path",
    dirs.manifests,
    "--pod-logs-dir",
    dirs.logs,
    "--address",
    "127.0.0.1",
    "--port",
    String(port),
    "--hostname-override",
    NODE_NAME,
    ...extra,
  ];
}

export interface RunningAgent {
  api: AgentApi;
  logs: LogLines;
  stop(): Promise<void>;
}

/** The agent in this process, logging JSON (debug level with -v 1) into `logs`. */
export async function startAgent(
  env: TestEnv,
  dirs: Dirs,
  extra: readonly string[] = ["-v", "1"],
): Promise<RunningAgent & { agent: Agent }> {
  const port = await freePort();
  const { config } = await resolveConfig({ flags: parseFlags(agentArgs(env, dirs, port, extra)) });
  const logs = new LogLines();
  const logger = createLogger({ verbosity: config.verbosity, pretty: false, destination: logs.stream() });
  const agent = createAgent({ config, logger });
  const bound = await agent.start();
  const api = new AgentApi(`http://127.0.0.1:${bound.port}`);
  await waitFor("/healthz ok", async () => (await api.get("/healthz")).status === 200, {
    timeoutMs: 10_000,
  });
  return { agent, api, logs, stop: () => agent.stop() };
}

export interface ChildAgent extends RunningAgent {
  child: ChildProcess;
  port: number;
  /** stderr text so far. */
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `node dist/cli.js args` and collects its output; resolves once it has exited. */
export async function runCli(
  args: readonly string[],
  timeoutMs = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The agent as a child process (`node dist/cli.js`), logging JSON on stdout into `logs`. */
export async function startChildAgent(
  env: TestEnv,
  dirs: Dirs,
  options: { extra?: readonly string[]; port?: number } = {},
): Promise<ChildAgent> {
  const port = options.port ?? (await freePort());
  const extra = options.extra ?? ["-v", "1"];
  const child = spawn(process.execPath, [CLI, ...agentArgs(env, dirs, port, extra)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs = new LogLines();
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    // The agent logs to stderr (JSON when it is not a terminal), as the kubelet does.
    logs.push(chunk.toString());
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const api = new AgentApi(`http://127.0.0.1:${port}`);
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  await waitFor(
    "the agent's /healthz",
    async () => {
      if (gone) throw new Error(`the agent exited early: ${stderr}${logs.raw.slice(-5).join("\n")}`);
      return (await api.get("/healthz")).status === 200;
    },
    { timeoutMs: 15_000, describe: () => `${stderr}\n${logs.raw.slice(-10).join("\n")}` },
  );
  return {
    child,
    port,
    api,
    logs,
    stderr: () => stderr,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

// ---- the runtime's side --------------------------------------------------------------------------

export interface RuntimeHarness {
  env: TestEnv;
  runtime: RuntimeService;
  /** Every container of the pod with this UID, newest first. */
  containers(uid: string): Promise<Container[]>;
  /** Removes every sandbox in this containerd (the agent tests own it). */
  removeAllPods(): Promise<void>;
  close(): void;
}

export async function openRuntime(): Promise<RuntimeHarness> {
  const env = await readTestEnv();
  const runtime = await createRemoteRuntimeService(env.criEndpoint);
  return {
    env,
    runtime,
    async containers(uid) {
      const list = await runtime.listContainers(
        ContainerFilter.fromPartial({ labelSelector: { "io.kubernetes.pod.uid": uid } }),
      );
      return list.sort((a, b) => Number(b.createdAt - a.createdAt));
    },
    async removeAllPods() {
      for (const sandbox of await runtime.listPodSandbox()) {
        await runtime.stopPodSandbox(sandbox.id).catch(() => undefined);
        await runtime.removePodSandbox(sandbox.id);
      }
    },
    close: () => runtime.close(),
  };
}

export { ContainerState, PodSandboxState };

/** Sandboxes of a pod UID that are still ready. */
export async function readySandboxes(runtime: RuntimeService, uid: string): Promise<string[]> {
  const sandboxes = await runtime.listPodSandbox();
  return sandboxes
    .filter((s) => s.metadata?.uid === uid && s.state === PodSandboxState.SANDBOX_READY)
    .map((s) => s.id);
}

/** Waits until no container of the pod `uid` runs and no sandbox of it is ready. */
export async function waitForKilled(h: RuntimeHarness, uid: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    `pod ${uid} to be killed in the runtime`,
    async () => {
      const running = (await h.containers(uid)).filter((c) => c.state === ContainerState.CONTAINER_RUNNING);
      return running.length === 0 && (await readySandboxes(h.runtime, uid)).length === 0;
    },
    {
      timeoutMs,
      describe: async () =>
        JSON.stringify((await h.containers(uid)).map((c) => [c.metadata?.name, ContainerState[c.state]])),
    },
  );
}

/** A test file's usual start: a clean runtime, fresh directories, an agent on them. */
export async function openAgentSuite(
  name: string,
): Promise<{ h: RuntimeHarness; dirs: Dirs; agent: RunningAgent }> {
  const h = await openRuntime();
  await h.removeAllPods();
  const dirs = await makeDirs(name);
  const agent = await startAgent(h.env, dirs);
  return { h, dirs, agent };
}

/** And its end: the agent stopped, every pod removed, the directories gone. */
export async function closeAgentSuite(
  agent: { stop(): Promise<void> } | undefined,
  h: RuntimeHarness | undefined,
): Promise<void> {
  await agent?.stop();
  await h?.removeAllPods();
  h?.close();
  await removeDirs();
}
