// `nodelet logs POD [-c CONTAINER] [-f] [--tail N] [--since 5m | --since-time T] [--timestamps] [-p]
// [--limit-bytes N]`: a container's output through the agent's /containerLogs, with kubectl's habits
// (a pod with one container needs no -c; with several, the error lists them).

import { InvalidArgumentError } from "@commander-js/extra-typings";
import { parseGoDurationNanos, type V1Pod } from "@nodelet/runtime-api";
import { type AgentClient, apiPath, ClientUsageError, clientFromFlags } from "./api-client.js";
import { type ClientVerb, clientCommand, type VerbIo } from "./verb.js";

function nonNegativeInteger(flag: string) {
  return (text: string): number => {
    if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError(`${flag} must be a whole number >= 0`);
    return Number(text.trim());
  };
}

/** --since: a Go duration ("5m", "1h30m"), at least one second, rounded up to whole seconds as kubectl. */
export function parseSince(text: string): number {
  const nanos = parseGoDurationNanos(text.trim());
  if (typeof nanos !== "bigint") throw new InvalidArgumentError(`--since ${text}: ${nanos.error}`);
  if (nanos < 1_000_000_000n) throw new InvalidArgumentError(`--since ${text}: must be at least 1s`);
  return Number((nanos + 999_999_999n) / 1_000_000_000n);
}

/** --since-time: RFC3339 ("2026-12-02T17:42:19Z"), as the API expects it. */
export function parseSinceTime(text: string): string {
  const t = text.trim();
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(t) ||
    Number.isNaN(Date.parse(t))
  ) {
    throw new InvalidArgumentError(`--since-time ${text}: not an RFC3339 time (e.g. 2026-12-02T17:42:19Z)`);
  }
  return t;
}

/** The container to read: -c, or the pod's only container; several without -c is a usage error. */
export async function pickContainer(
  client: AgentClient,
  namespace: string,
  podName: string,
  container: string | undefined,
  signal: AbortSignal,
): Promise<string> {
  if (container !== undefined) return container;
  const list = await client.getJson<{ items?: V1Pod[] }>("/pods", { signal });
  const pod = (list.items ?? []).find(
    (p) => p.metadata?.name === podName && (p.metadata?.namespace ?? "default") === namespace,
  );
  if (pod === undefined) {
    throw new ClientUsageError(`pod ${namespace}/${podName} not found on this node`, {
      pod: podName,
      namespace,
    });
  }
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  if (names.length === 1 && names[0] !== undefined) return names[0];
  const init = (pod.spec?.initContainers ?? []).map((c) => c.name);
  throw new ClientUsageError(
    `pod ${namespace}/${podName} has ${names.length} containers: choose one with -c: ${names.join(", ")}` +
      (init.length > 0 ? ` (init containers: ${init.join(", ")})` : ""),
    { pod: podName, namespace, containers: names },
  );
}

export const logsVerb: ClientVerb = {
  name: "logs",
  summary: "print a container's logs (-f follows them)",
  command: (io: VerbIo) =>
    clientCommand("logs", io)
      .description("Print the logs of a container in a pod the agent runs, like kubectl logs.")
      .argument("<pod>", "the pod's name")
      .option("-n, --namespace <ns>", "the pod's namespace", "default")
      .option("-c, --container <name>", "the container (needed when the pod has several)")
      .option("-f, --follow", "keep printing new output until the container stops")
      .option("-p, --previous", "the previous, terminated instance of the container")
      .option("--tail <n>", "only the last n lines", nonNegativeInteger("--tail"))
      .option("--since <duration>", "only lines newer than this (5s, 2m, 3h)", parseSince)
      .option("--since-time <time>", "only lines at or after this RFC3339 time", parseSinceTime)
      .option("--timestamps", "start each line with the time the runtime recorded for it")
      .option("--limit-bytes <n>", "print at most n bytes", nonNegativeInteger("--limit-bytes"))
      .action(async (podName, opts) => {
        if (opts.since !== undefined && opts.sinceTime !== undefined) {
          throw new ClientUsageError("--since and --since-time cannot be used together", {
            flag: "--since-time",
          });
        }
        const client = await clientFromFlags(opts, io.fetch);
        const container = await pickContainer(client, opts.namespace, podName, opts.container, io.signal);
        const response = await client.get(apiPath("containerLogs", opts.namespace, podName, container), {
          query: {
            follow: opts.follow ? true : undefined,
            previous: opts.previous ? true : undefined,
            tailLines: opts.tail,
            sinceSeconds: opts.since,
            sinceTime: opts.sinceTime,
            timestamps: opts.timestamps ? true : undefined,
            limitBytes: opts.limitBytes,
          },
          signal: io.signal,
        });
        if (response.body === null) return;
        for await (const chunk of response.body) {
          if (!io.stdout.write(chunk)) {
            await new Promise<void>((resolve) => io.stdout.once("drain", resolve));
          }
        }
      }),
};
