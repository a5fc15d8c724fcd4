// `nodelet exec [-i] [-t] POD [-c CONTAINER] -- CMD...`, `nodelet attach [-i] [-t] POD [-c CONTAINER]`
// and `nodelet port-forward POD [LOCAL:]REMOTE...`: kubectl's streaming verbs against the agent's
// /exec, /attach and /portForward (@nodelet/streaming). exec passes the command's exit code through;
// -t puts the local terminal in raw mode and sends its size, again on every SIGWINCH.

import { InvalidArgumentError } from "@commander-js/extra-typings";
import {
  attach,
  type ExecSession,
  exec,
  type ForwardedPort,
  forwardPort,
  portForward,
} from "@nodelet/streaming";
import {
  apiPath,
  ClientUsageError,
  createAgentClient,
  DEFAULT_SERVER,
  parseServer,
  readClientToken,
} from "./api-client.js";
import { pickContainer } from "./logs.js";
import { type ClientVerb, clientCommand, type VerbIo } from "./verb.js";

interface StreamFlags {
  server?: string | undefined;
  tokenFile?: string | undefined;
}

async function connection(flags: StreamFlags) {
  const server = parseServer(flags.server ?? DEFAULT_SERVER);
  const token = flags.tokenFile === undefined ? undefined : await readClientToken(flags.tokenFile);
  const headers: Record<string, string> = token === undefined ? {} : { Authorization: `Bearer ${token}` };
  return { server, token, headers };
}

function endpoint(server: URL, path: string, query: [string, string][]): URL {
  const url = new URL(server);
  url.pathname = `${server.pathname.replace(/\/+$/, "")}${path}`;
  for (const [k, v] of query) url.searchParams.append(k, v);
  return url;
}

type TtyIn = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
type TtyOut = NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };

/** Wires a session to the verb's streams; resolves with the exit code once the session ended. */
async function runSession(
  session: ExecSession,
  io: VerbIo,
  interactive: boolean,
  tty: boolean,
): Promise<number> {
  const stdin = io.stdin as TtyIn;
  const stdout = io.stdout as TtyOut;
  const raw = tty && interactive && stdin.isTTY === true && typeof stdin.setRawMode === "function";
  const sendSize = () => {
    if (stdout.columns && stdout.rows) session.resize({ width: stdout.columns, height: stdout.rows });
  };
  if (raw) stdin.setRawMode?.(true);
  if (tty) {
    sendSize();
    process.on("SIGWINCH", sendSize);
  }
  const onAbort = () => session.close();
  io.signal.addEventListener("abort", onAbort, { once: true });
  session.stdout?.pipe(io.stdout, { end: false });
  session.stderr?.pipe(io.stderr, { end: false });
  if (interactive && session.stdin) {
    session.stdin.on("error", (err) => io.stderr.write(`nodelet: stdin: ${err.message}\n`));
    stdin.pipe(session.stdin);
  }
  try {
    return await session.exitCode;
  } finally {
    io.signal.removeEventListener("abort", onAbort);
    if (tty) process.off("SIGWINCH", sendSize);
    if (raw) stdin.setRawMode?.(false);
    if (interactive && session.stdin) stdin.unpipe(session.stdin);
    // The local stdin must not keep the process alive once the remote side is done.
    (stdin as { pause?: () => void }).pause?.();
  }
}

interface SessionFlags extends StreamFlags {
  namespace: string;
  container?: string | undefined;
  stdin?: boolean | undefined;
  tty?: boolean | undefined;
}

/**
 * exec and attach alike: resolves the container, opens the session on the agent's `/exec` or
 * `/attach` (the kubelet's stream flags; no stderr with a terminal) and runs it to its exit code.
 */
async function runStreamVerb(
  io: VerbIo,
  verb: "exec" | "attach",
  podName: string,
  opts: SessionFlags,
  command: readonly string[] = [],
): Promise<void> {
  const { server, headers, token } = await connection(opts);
  const client = createAgentClient({
    server: server.href,
    token,
    ...(io.fetch ? { fetch: io.fetch } : {}),
  });
  const container = await pickContainer(client, opts.namespace, podName, opts.container, io.signal);
  const interactive = opts.stdin === true;
  const tty = opts.tty === true;
  const query: [string, string][] = command.map((c) => ["command", c]);
  query.push(["output", "1"]);
  if (!tty) query.push(["error", "1"]);
  if (interactive) query.push(["input", "1"]);
  if (tty) query.push(["tty", "1"]);
  const url = endpoint(server, apiPath(verb, opts.namespace, podName, container), query);
  const open = verb === "exec" ? exec : attach;
  const session = await open(url, {
    stdin: interactive,
    tty,
    transport: "websocket",
    headers,
    signal: io.signal,
  });
  io.setExitCode(await runSession(session, io, interactive, tty));
}

export const execVerb: ClientVerb = {
  name: "exec",
  summary: "run a command in a container (-i stdin, -t terminal); exits with its exit code",
  command: (io: VerbIo) =>
    clientCommand("exec", io)
      .description("Run a command in a container of a pod the agent runs, like kubectl exec.")
      .usage("[-i] [-t] POD [-c CONTAINER] -- COMMAND [args...]")
      .argument("<pod>", "the pod's name")
      .argument("<command...>", "the command and its arguments (after --)")
      .option("-n, --namespace <ns>", "the pod's namespace", "default")
      .option("-c, --container <name>", "the container (needed when the pod has several)")
      .option("-i, --stdin", "pass this process's stdin to the command (its end is EOF there)")
      .option("-t, --tty", "allocate a terminal (raw mode here, resized with this one)")
      .action((podName, command, opts) => runStreamVerb(io, "exec", podName, opts, command)),
};

export const attachVerb: ClientVerb = {
  name: "attach",
  summary: "attach to a running container's output (-i its stdin, -t its terminal)",
  command: (io: VerbIo) =>
    clientCommand("attach", io)
      .description("Attach to a running container of a pod the agent runs, like kubectl attach.")
      .argument("<pod>", "the pod's name")
      .option("-n, --namespace <ns>", "the pod's namespace", "default")
      .option("-c, --container <name>", "the container (needed when the pod has several)")
      .option("-i, --stdin", "pass this process's stdin to the container")
      .option("-t, --tty", "the container has a terminal (raw mode here, resized with this one)")
      .action((podName, opts) => runStreamVerb(io, "attach", podName, opts)),
};

/** `[LOCAL:]REMOTE`: LOCAL 0 or missing picks REMOTE (kubectl: missing means the same port). */
export function parsePortSpec(spec: string): { local: number; remote: number } {
  const match = /^(?:(\d*):)?(\d+)$/.exec(spec.trim());
  const port = (text: string) => {
    const n = Number(text);
    return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : -1;
  };
  const remote = match ? port(match[2] as string) : -1;
  const localText = match?.[1];
  const local = localText === undefined ? remote : localText === "" ? 0 : port(localText);
  if (!match || remote < 1 || local < 0) {
    throw new InvalidArgumentError(
      `${JSON.stringify(spec)} is not [LOCAL:]REMOTE with ports 1-65535 (LOCAL may be 0 or empty)`,
    );
  }
  return { local, remote };
}

export const portForwardVerb: ClientVerb = {
  name: "port-forward",
  summary: "forward local ports to a pod ([LOCAL:]REMOTE...), until interrupted",
  command: (io: VerbIo) =>
    clientCommand("port-forward", io)
      .description("Forward local TCP ports to ports of a pod the agent runs, like kubectl port-forward.")
      .argument("<pod>", "the pod's name")
      .argument("<ports...>", "[LOCAL:]REMOTE, e.g. 8080:80, :80 (a free local port) or 80")
      .option("-n, --namespace <ns>", "the pod's namespace", "default")
      .option("--address <ip>", "the local address to listen on", "127.0.0.1")
      .action(async (podName, specs, opts) => {
        let ports: { local: number; remote: number }[];
        try {
          ports = specs.map(parsePortSpec);
        } catch (err) {
          throw new ClientUsageError((err as Error).message, { argument: "ports" });
        }
        const { server, headers } = await connection(opts);
        const url = endpoint(server, apiPath("portForward", opts.namespace, podName), []);
        const session = await portForward(url, { headers, signal: io.signal });
        const listeners: ForwardedPort[] = [];
        try {
          for (const p of ports) {
            const listener = await forwardPort(session, {
              localPort: p.local,
              remotePort: p.remote,
              address: opts.address,
              onError: (err) => io.stderr.write(`nodelet port-forward: ${err.message}\n`),
            });
            listeners.push(listener);
            io.stdout.write(`Forwarding from ${opts.address}:${listener.localPort} -> ${p.remote}\n`);
          }
          await new Promise<void>((resolve) => {
            if (io.signal.aborted) resolve();
            io.signal.addEventListener("abort", () => resolve(), { once: true });
            void session.closed.then(() => {
              io.stderr.write("nodelet port-forward: the agent closed the session\n");
              io.setExitCode(1);
              resolve();
            });
          });
        } finally {
          await Promise.all(listeners.map((l) => l.close()));
          session.close();
        }
      }),
};
