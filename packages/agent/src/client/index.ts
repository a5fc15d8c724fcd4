// `nodelet <verb> ...`: the client verbs, one line each in `verbs`, and their dispatcher.
// `nodelet` with no verb (or only flags) starts the agent (cli.ts).

import { CommanderError } from "@commander-js/extra-typings";
import { errorMessage } from "@nodelet/runtime-api";
import { ExitCode, exitCodeFor } from "./api-client.js";
import { describeVerb } from "./describe.js";
import { attachVerb, execVerb, portForwardVerb } from "./exec.js";
import { getVerb } from "./get.js";
import { logsVerb } from "./logs.js";
import type { ClientIo, ClientVerb } from "./verb.js";

/** Every client verb. Register a new one with one line here. */
export const verbs: readonly ClientVerb[] = [
  logsVerb,
  getVerb,
  describeVerb,
  execVerb,
  attachVerb,
  portForwardVerb,
];

export function findVerb(name: string | undefined): ClientVerb | undefined {
  if (name === undefined || name.startsWith("-")) return undefined;
  return verbs.find((v) => v.name === name);
}

/** The text of `nodelet help`: the verbs and their summaries. */
export function verbsHelp(): string {
  const width = Math.max(...verbs.map((v) => v.name.length), 4);
  const lines = verbs.map((v) => `  ${v.name.padEnd(width)}  ${v.summary}`);
  return (
    "Usage: nodelet [flags]            start the agent (nodelet --help lists its flags)\n" +
    "       nodelet <verb> [args]      talk to a running agent\n\nVerbs:\n" +
    `${lines.join("\n")}\n\nnodelet <verb> --help shows a verb's arguments and flags.\n`
  );
}

/**
 * Runs `argv` (without node and the script) as a client verb when its first word names one (or is
 * `help`); resolves with the exit code, or undefined when argv is for the agent itself.
 */
export async function runClientVerb(argv: readonly string[], io: ClientIo): Promise<number | undefined> {
  const [first, ...rest] = argv;
  if (first === "help" && rest.length === 0) {
    io.stdout.write(verbsHelp());
    return ExitCode.Ok;
  }
  const verb = findVerb(first === "help" ? rest[0] : first);
  if (verb === undefined) {
    if (first === "help") {
      io.stderr.write(`nodelet: unknown verb ${JSON.stringify(rest[0])}\n\n${verbsHelp()}`);
      return ExitCode.Usage;
    }
    return undefined;
  }
  let exitCode: number = ExitCode.Ok;
  const command = verb.command({
    ...io,
    setExitCode: (code) => {
      exitCode = code;
    },
  });
  if (first === "help") {
    io.stdout.write(command.helpInformation());
    return ExitCode.Ok;
  }
  try {
    await command.parseAsync(rest, { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already wrote the problem (or the help) to io.stderr/io.stdout.
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return ExitCode.Ok;
      return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (io.signal.aborted) return ExitCode.Failure;
    io.stderr.write(`nodelet ${verb.name}: ${errorMessage(err)}\n`);
    return exitCodeFor(err);
  }
}

export type { ClientIo, ClientVerb, VerbIo } from "./verb.js";
