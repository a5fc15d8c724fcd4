// `nodelet get pods [NAME] [-n NS] [-o wide|json|yaml|name] [-w]` and `nodelet get events [-n NS]
// [--for pod/NAME] [-o json|yaml] [-w]`: kubectl's tables from the agent's /pods and /events; -w
// goes on with the changes /watch streams (server-sent events) until interrupted.

import { Option } from "@commander-js/extra-typings";
import type { V1Pod } from "@nodelet/runtime-api";
import { stringify } from "yaml";
import type { V1Event, V1EventList } from "../events.js";
import { AgentApiError, type AgentClient, ClientUsageError, clientFromFlags } from "./api-client.js";
import {
  EVENT_COLUMNS,
  eventCells,
  formatTable,
  POD_COLUMNS,
  POD_WIDE_COLUMNS,
  podCells,
  podRow,
} from "./pod-format.js";
import { readSseFrames } from "./sse.js";
import { type ClientVerb, clientCommand, type VerbIo } from "./verb.js";

export const OUTPUT_FORMATS = ["wide", "json", "yaml", "name"] as const;
type OutputFormat = (typeof OUTPUT_FORMATS)[number];

async function write(io: VerbIo, text: string): Promise<void> {
  if (!io.stdout.write(text)) await new Promise<void>((resolve) => io.stdout.once("drain", resolve));
}

/** One object as -o json|yaml prints it inside a watch (one document after another). */
function serialise(object: unknown, format: "json" | "yaml"): string {
  return format === "json" ? `${JSON.stringify(object, null, 2)}\n` : `---\n${stringify(object)}`;
}

/** The frames of /watch of one type, parsed; ends when the signal aborts (normal end of -w). */
async function* watchFrames<T>(
  client: AgentClient,
  query: Record<string, string | undefined>,
  type: string,
  signal: AbortSignal,
): AsyncGenerator<{ event: string; object: T }> {
  let response: Response;
  try {
    response = await client.get("/watch", { query, signal });
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  }
  if (response.body === null) return;
  try {
    for await (const frame of readSseFrames(response.body)) {
      if (frame.event === type || frame.event === `${type}-deleted`) {
        yield { event: frame.event, object: JSON.parse(frame.data) as T };
      }
    }
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  }
  if (!signal.aborted) throw new AgentApiError(0, "/watch", "the agent ended the watch (it stopped?)");
}

function matchesPod(pod: V1Pod, name: string | undefined, namespace: string | undefined): boolean {
  return (
    (name === undefined || pod.metadata.name === name) &&
    (namespace === undefined || (pod.metadata.namespace ?? "default") === namespace)
  );
}

async function getPods(
  io: VerbIo,
  client: AgentClient,
  opts: { namespace?: string | undefined; output?: OutputFormat | undefined; watch?: boolean | undefined },
  name: string | undefined,
): Promise<void> {
  const list = await client.getJson<{ items?: V1Pod[] }>("/pods", { signal: io.signal });
  const pods = (list.items ?? [])
    .filter((p) => matchesPod(p, name, opts.namespace))
    .sort((a, b) =>
      `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
        `${b.metadata.namespace}/${b.metadata.name}`,
      ),
    );
  if (name !== undefined && pods.length === 0 && !opts.watch) {
    throw new AgentApiError(404, "/pods", `pod "${name}" not found on this node`);
  }
  const output = opts.output;
  const withNamespace = opts.namespace === undefined;
  const wide = output === "wide";
  const header = withNamespace
    ? ["NAMESPACE", ...(wide ? POD_WIDE_COLUMNS : POD_COLUMNS)]
    : [...(wide ? POD_WIDE_COLUMNS : POD_COLUMNS)];
  const print = async (items: V1Pod[], first: boolean) => {
    if (output === "json" || output === "yaml") {
      if (first && !opts.watch) {
        await write(
          io,
          serialise(
            name === undefined ? { kind: "List", apiVersion: "v1", metadata: {}, items } : items[0],
            output,
          ),
        );
      } else {
        for (const p of items) await write(io, serialise(p, output));
      }
    } else if (output === "name") {
      for (const p of items) await write(io, `pod/${p.metadata.name}\n`);
    } else {
      const now = Date.now();
      const rows = items.map((p) => podCells(podRow(p, now), wide, withNamespace));
      if (rows.length > 0 || first) await write(io, formatTable(header, rows, first));
    }
  };
  if (pods.length === 0 && !opts.watch && (output === undefined || output === "wide")) {
    io.stderr.write(`No resources found${opts.namespace ? ` in ${opts.namespace} namespace` : ""}.\n`);
  } else {
    await print(pods, true);
  }
  if (!opts.watch) return;
  const query = { types: "pods", pod: name, namespace: opts.namespace };
  for await (const { event, object } of watchFrames<V1Pod>(client, query, "pod", io.signal)) {
    if (event === "pod-deleted") {
      if (output === undefined || output === "wide") await write(io, `${object.metadata.name} deleted\n`);
      continue;
    }
    await print([object], false);
  }
}

async function getEvents(
  io: VerbIo,
  client: AgentClient,
  opts: {
    namespace?: string | undefined;
    output?: OutputFormat | undefined;
    watch?: boolean | undefined;
    for?: string | undefined;
  },
): Promise<void> {
  let podName: string | undefined;
  if (opts.for !== undefined) {
    const match = /^(?:pods?\/)?([^/]+)$/.exec(opts.for);
    if (!match) throw new ClientUsageError(`--for ${opts.for}: must be pod/NAME`, { flag: "--for" });
    podName = match[1];
  }
  if (opts.output === "wide" || opts.output === "name") {
    throw new ClientUsageError(`-o ${opts.output} is not supported for events (json, yaml)`, { flag: "-o" });
  }
  const output = opts.output;
  const query = { pod: podName, namespace: opts.namespace };
  const list = await client.getJson<V1EventList>("/events", { query, signal: io.signal });
  const withNamespace = opts.namespace === undefined;
  const header = withNamespace ? ["NAMESPACE", ...EVENT_COLUMNS] : [...EVENT_COLUMNS];
  // kubectl sorts by last occurrence.
  const items = [...list.items].sort((a, b) => a.lastTimestamp.localeCompare(b.lastTimestamp));
  if (output === "json" || output === "yaml") {
    if (!opts.watch) await write(io, serialise({ ...list, items }, output));
    else for (const e of items) await write(io, serialise(e, output));
  } else if (items.length === 0 && !opts.watch) {
    io.stderr.write(`No events found${opts.namespace ? ` in ${opts.namespace} namespace` : ""}.\n`);
  } else {
    const now = Date.now();
    await write(
      io,
      formatTable(
        header,
        items.map((e) => eventCells(e, now, withNamespace)),
      ),
    );
  }
  if (!opts.watch) return;
  const seen = new Map(items.map((e) => [e.metadata.uid, e.count]));
  for await (const { object } of watchFrames<V1Event>(
    client,
    { ...query, types: "events" },
    "event",
    io.signal,
  )) {
    // The watch starts with the events that exist: those already printed are skipped.
    if (seen.get(object.metadata.uid) === object.count) continue;
    seen.set(object.metadata.uid, object.count);
    if (output === "json" || output === "yaml") await write(io, serialise(object, output));
    else await write(io, formatTable(header, [eventCells(object, Date.now(), withNamespace)], false));
  }
}

export const getVerb: ClientVerb = {
  name: "get",
  summary: "list pods or events (-w goes on with their changes)",
  command: (io: VerbIo) =>
    clientCommand("get", io)
      .description("List the pods the agent runs, or its events, like kubectl get.")
      .argument("<resource>", "pods (po) or events (ev)")
      .argument("[name]", "one pod's name")
      .option("-n, --namespace <ns>", "only this namespace (default: all, with a NAMESPACE column)")
      .addOption(new Option("-o, --output <format>", "wide, json, yaml or name").choices(OUTPUT_FORMATS))
      .option("-w, --watch", "after the list, print each change until interrupted")
      .option("--for <object>", "events: only those about pod/NAME")
      .action(async (resource, name, opts) => {
        const client = await clientFromFlags(opts, io.fetch);
        switch (resource) {
          case "pods":
          case "pod":
          case "po":
            return getPods(io, client, opts, name);
          case "events":
          case "event":
          case "ev":
            if (name !== undefined)
              throw new ClientUsageError("get events takes no name: use --for pod/NAME");
            return getEvents(io, client, opts);
          default:
            throw new ClientUsageError(`unknown resource type "${resource}": pods or events`, { resource });
        }
      }),
};
