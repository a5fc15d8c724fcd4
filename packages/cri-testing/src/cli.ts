#!/usr/bin/env node
// `cri-faults`: the fault proxy as a process. Rules come from a YAML file, reloaded when it changes
// and on SIGHUP; a bad file is reported and the rules in force stay.
import { watch } from "node:fs";
import { basename, dirname } from "node:path";
import { isNodeletError } from "@nodelet/runtime-api";
import { parseFaultProxyFlags } from "./cli-flags.js";
import { createFaultProxy, type FaultProxy } from "./fault-proxy.js";
import { loadFaultRules } from "./fault-rules.js";

function fail(message: string, code: number): never {
  process.stderr.write(`cri-faults: ${message}\n`);
  process.exit(code);
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function main(): Promise<void> {
  let flags: ReturnType<typeof parseFaultProxyFlags>;
  try {
    flags = parseFaultProxyFlags(process.argv.slice(2));
  } catch (err) {
    fail(errorText(err), 2);
  }
  if (flags.help !== undefined) {
    process.stdout.write(flags.help);
    return;
  }
  const rulesFile = flags.rules;
  let proxy: FaultProxy;
  try {
    const rules = rulesFile === undefined ? [] : await loadFaultRules(rulesFile);
    proxy = await createFaultProxy({ listen: flags.listen, upstream: flags.upstream, rules });
  } catch (err) {
    fail(errorText(err), isNodeletError(err) ? 2 : 1);
  }
  const reload = (why: string) => {
    if (rulesFile === undefined) return;
    loadFaultRules(rulesFile).then(
      (rules) => {
        proxy.setRules(rules);
        process.stderr.write(`cri-faults: ${rules.length} rules loaded from ${rulesFile} (${why})\n`);
      },
      (err: unknown) => process.stderr.write(`cri-faults: keeping the previous rules: ${errorText(err)}\n`),
    );
  };
  if (rulesFile !== undefined) {
    // Editors replace the file rather than write it: watch the directory for its name.
    watch(dirname(rulesFile), (_event, name) => {
      if (name === basename(rulesFile)) reload("file changed");
    });
  }
  process.on("SIGHUP", () => reload("SIGHUP"));
  const stop = () => proxy.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdout.write(`${proxy.endpoint}\n`);
}

main().catch((err: unknown) => fail(errorText(err), 1));
