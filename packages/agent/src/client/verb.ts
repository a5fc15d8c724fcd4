// What a client verb (`nodelet logs`, `nodelet exec`, ...) is, and the commander command every verb
// starts from: its name, --server and --token-file, errors and help written to the verb's streams,
// and no process.exit (the dispatcher turns the outcome into an exit code).

import { Command } from "@commander-js/extra-typings";
import { DEFAULT_SERVER } from "./api-client.js";

/** Where a verb reads and writes; the process's streams in the CLI, buffers in tests. */
export interface ClientIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** Aborted on SIGINT/SIGTERM: a verb stops its requests and settles. */
  signal: AbortSignal;
  /** Injectable for tests; default globalThis.fetch. */
  fetch?: typeof fetch;
}

/** What a verb's command gets: the streams, plus the exit code it wants (exec's remote exit code). */
export interface VerbIo extends ClientIo {
  /** The process's exit code when the action resolves (default 0); a thrown error overrides it. */
  setExitCode(code: number): void;
}

export interface ClientVerb {
  /** The word after `nodelet`. */
  name: string;
  /** One line for `nodelet help`. */
  summary: string;
  /**
   * The verb's command, built from clientCommand(). Its action does the work and may throw:
   * ClientUsageError exits 2, anything else 1; io.setExitCode() picks another code on success.
   */
  // biome-ignore lint/suspicious/noExplicitAny: each verb's command has its own argument and option types.
  command(io: VerbIo): Command<any, any, any>;
}

/**
 * A commander command for a verb: `nodelet <name>`, --server and --token-file, output to `io`,
 * exitOverride (no process.exit). Add arguments, options and an action to it.
 */
export function clientCommand(name: string, io: ClientIo) {
  return new Command(name)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .option("--server <url>", `the agent's API (default "${DEFAULT_SERVER}")`)
    .option("--token-file <file>", "a file holding the bearer token the agent expects");
}
