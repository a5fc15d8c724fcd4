import { Command, CommanderError } from "@commander-js/extra-typings";
import { ErrorCode, NodeletError } from "@nodelet/runtime-api";

// The `cri-faults` command line, parsed without exiting so that it can be tested: --help comes
// back as text, a bad or missing flag throws InvalidConfig naming it.

export interface FaultProxyFlags {
  /** Set when --help was given: the text to print; nothing else is meaningful then. */
  help?: string;
  listen: string;
  upstream: string;
  /** The rules file; no rules (pure pass-through) when absent. */
  rules?: string;
}

function program() {
  return new Command("cri-faults")
    .description(
      "A CRI proxy that forwards every call to a real runtime and injects faults by rule " +
        "(rules reload when the file changes or on SIGHUP).",
    )
    .requiredOption("--listen <endpoint>", "where to listen, unix:///abs/path.sock")
    .requiredOption("--upstream <endpoint>", "the runtime's CRI socket, unix:///abs/path.sock")
    .option(
      "--rules <file>",
      "a YAML rules file (rules: [{method, probability, delayMs, code, message, dropAfter}])",
    )
    .helpOption("-h, --help", "show this help")
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
}

export function parseFaultProxyFlags(argv: readonly string[]): FaultProxyFlags {
  let help = "";
  const cmd = program().configureOutput({
    writeOut: (text) => {
      help += text;
    },
    writeErr: () => undefined,
    outputError: () => undefined,
  });
  try {
    cmd.parse([...argv], { from: "user" });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === "commander.helpDisplayed" || err.code === "commander.help") {
      return { help, listen: "", upstream: "" };
    }
    const message = err.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ");
    throw new NodeletError(ErrorCode.InvalidConfig, `${message}; run cri-faults --help for the flags`, {
      cause: err,
      details: { commanderCode: err.code },
    });
  }
  const o = cmd.opts();
  return { listen: o.listen, upstream: o.upstream, ...(o.rules === undefined ? {} : { rules: o.rules }) };
}
