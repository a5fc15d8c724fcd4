// `nodelet`: parse flags and config like the kubelet, start the agent, stop cleanly on SIGTERM/SIGINT
// (pods keep running, as with the kubelet).
import { isNodeletError } from "@nodelet/runtime-api";
import { createAgent } from "./agent.js";
import { runClientVerb } from "./client/index.js";
import { parseFlags, resolveConfig } from "./flags.js";
import { createLogger } from "./logging.js";
import { installShutdown } from "./shutdown.js";

function fail(message: string, exitCode: number): never {
  process.stderr.write(`nodelet: ${message}\n`);
  process.exit(exitCode);
}

/** `nodelet <verb> ...`: a client of a running agent; exits with the verb's code once stdout is flushed. */
async function runVerb(argv: readonly string[]): Promise<boolean> {
  const aborter = new AbortController();
  const onSignal = () => aborter.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // A reader that went away (`nodelet logs -f pod | head`) ends the verb quietly.
  process.stdout.on("error", onSignal);
  const code = await runClientVerb(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    signal: aborter.signal,
  });
  if (code === undefined) {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.stdout.off("error", onSignal);
    return false;
  }
  // Exit explicitly (keep-alive sockets of fetch would hold the process), after stdout drained.
  process.stdout.write("", () => process.exit(code));
  return true;
}

async function main(argv: readonly string[]): Promise<void> {
  if (await runVerb(argv)) return;
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err), 2);
  }
  if (flags.help !== undefined) {
    process.stdout.write(flags.help);
    return;
  }
  if (flags.version !== undefined) {
    process.stdout.write(`${flags.version}\n`);
    return;
  }
  let resolved: Awaited<ReturnType<typeof resolveConfig>>;
  try {
    resolved = await resolveConfig({ flags });
  } catch (err) {
    fail(isNodeletError(err) || err instanceof Error ? err.message : String(err), 1);
  }
  const { config, warnings } = resolved;
  const logger = createLogger({ verbosity: config.verbosity, format: config.loggingFormat });
  for (const warning of warnings) logger.warn(warning);

  const agent = createAgent({ config, logger });
  // A first signal stops cleanly, a second exits at once (shutdown.ts); pods keep running.
  installShutdown({ signals: process, stop: () => agent.stop(), exit: (code) => process.exit(code), logger });
  try {
    await agent.start();
  } catch (err) {
    logger.error(
      { code: isNodeletError(err) ? err.code : undefined },
      err instanceof Error ? err.message : String(err),
    );
    await agent.stop().catch(() => undefined);
    process.exit(1);
  }
}

await main(process.argv.slice(2));
