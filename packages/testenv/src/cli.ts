#!/usr/bin/env node
import { down } from "./down.js";
import { errorMessage, isTestEnvError } from "./errors.js";
import { stderrLogger } from "./log.js";
import { status } from "./status.js";
import { up } from "./up.js";

const USAGE = `usage: nodelet-testenv <up|down|status> [--state-dir DIR] [--json]

  up      install missing packages, build/push test images, start registries and containerd
  down    stop this environment's containerd, shims, registries; unmount; delete its bridge
  status  show what is running (exit 0 when everything is up, 1 otherwise)

State dir: --state-dir, else $NODELET_TESTENV_DIR, else <repoRoot>/.state/testenv`;

interface Args {
  command: string | undefined;
  stateDir: string | undefined;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { command: undefined, stateDir: undefined, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") args.json = true;
    else if (a === "--state-dir") args.stateDir = argv[++i];
    else if (a?.startsWith("--state-dir=")) args.stateDir = a.slice("--state-dir=".length);
    else if (a === "-h" || a === "--help") args.command = "help";
    else if (args.command === undefined) args.command = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  return args;
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  switch (args.command) {
    case "up": {
      const started = Date.now();
      const env = await up({ stateDir: args.stateDir, log: stderrLogger });
      if (args.json) {
        process.stdout.write(`${JSON.stringify(env, null, 2)}\n`);
      } else {
        process.stdout.write(
          [
            `testenv up in ${((Date.now() - started) / 1000).toFixed(1)}s (${env.stateDir})`,
            `  containerd pid ${env.containerdPid}, log ${env.containerdLog}`,
            `  registries: plain ${env.registries.plain}, auth ${env.registries.auth} (${env.auth.username})`,
            `  cni: ${env.cni.network} ${env.cni.subnet}; streaming 127.0.0.1:${env.streamingPort}; snapshotter ${env.snapshotter}`,
            `  env: ${env.stateDir}/env.json`,
            env.criEndpoint,
            "",
          ].join("\n"),
        );
      }
      return 0;
    }
    case "down":
      await down({ stateDir: args.stateDir, log: stderrLogger });
      process.stdout.write("testenv down\n");
      return 0;
    case "status": {
      const report = await status({ stateDir: args.stateDir });
      if (args.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        const lines = report.components.map(
          (c) =>
            `  ${c.running ? "up  " : "DOWN"}  ${c.name.padEnd(15)} ${c.pid !== undefined ? `pid ${c.pid}  ` : ""}${c.detail}`,
        );
        process.stdout.write(
          `${report.allUp ? "testenv is up" : "testenv is NOT up"} (${report.stateDir})\n${lines.join("\n")}\n${report.criEndpoint}\n`,
        );
      }
      return report.allUp ? 0 : 1;
    }
    case "help":
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const code = isTestEnvError(error) ? ` [${error.code}]` : "";
    process.stderr.write(`nodelet-testenv: error${code}: ${errorMessage(error)}\n`);
    process.exitCode = 1;
  },
);
