// `nodelet describe pod NAME [-n NS]`: kubectl describe's layout from the agent's /pods and
// /events: the pod, its containers (state, last state, ready, restarts, probes, mounts), its
// conditions and volumes, and its events at the bottom.

import type { V1Container, V1ContainerState, V1ContainerStatus, V1Pod } from "@nodelet/runtime-api";
import type { V1Event, V1EventList } from "../events.js";
import { AgentApiError, ClientUsageError, clientFromFlags } from "./api-client.js";
import { formatTable, humanDuration, podCreated, probeText } from "./pod-format.js";
import { type ClientVerb, clientCommand, type VerbIo } from "./verb.js";

function stateLines(label: string, state: V1ContainerState | undefined, indent: string): string[] {
  if (!state) return [];
  const pad = (s: string) => `${indent}${s}`;
  if (state.running) return [pad(`${label}:\tRunning`), pad(`  Started:\t${state.running.startedAt ?? ""}`)];
  if (state.terminated) {
    const t = state.terminated;
    return [
      pad(`${label}:\tTerminated`),
      pad(`  Reason:\t${t.reason ?? ""}`),
      ...(t.message ? [pad(`  Message:\t${t.message}`)] : []),
      pad(`  Exit Code:\t${t.exitCode}`),
      ...(t.signal ? [pad(`  Signal:\t${t.signal}`)] : []),
      pad(`  Started:\t${t.startedAt ?? ""}`),
      pad(`  Finished:\t${t.finishedAt ?? ""}`),
    ];
  }
  if (state.waiting) {
    return [
      pad(`${label}:\tWaiting`),
      pad(`  Reason:\t${state.waiting.reason ?? ""}`),
      ...(state.waiting.message ? [pad(`  Message:\t${state.waiting.message}`)] : []),
    ];
  }
  return [];
}

function containerLines(c: V1Container, status: V1ContainerStatus | undefined): string[] {
  const lines = [`  ${c.name}:`];
  lines.push(`    Container ID:\t${status?.containerID ?? ""}`);
  lines.push(`    Image:\t${c.image ?? ""}`);
  lines.push(`    Image ID:\t${status?.imageID ?? ""}`);
  if (c.command?.length) lines.push(`    Command:\t${c.command.join(" ")}`);
  if (c.args?.length) lines.push(`    Args:\t${c.args.join(" ")}`);
  lines.push(...stateLines("State", status?.state ?? { waiting: {} }, "    "));
  lines.push(...stateLines("Last State", status?.lastState, "    "));
  lines.push(`    Ready:\t${status?.ready ?? false}`);
  lines.push(`    Restart Count:\t${status?.restartCount ?? 0}`);
  if (c.livenessProbe) lines.push(`    Liveness:\t${probeText(c.livenessProbe)}`);
  if (c.readinessProbe) lines.push(`    Readiness:\t${probeText(c.readinessProbe)}`);
  if (c.startupProbe) lines.push(`    Startup:\t${probeText(c.startupProbe)}`);
  const mounts = c.volumeMounts ?? [];
  lines.push(`    Mounts:${mounts.length === 0 ? "\t<none>" : ""}`);
  for (const m of mounts) {
    lines.push(
      `      ${m.mountPath} from ${m.name} (${m.readOnly ? "ro" : "rw"}${m.subPath ? `,path="${m.subPath}"` : ""})`,
    );
  }
  return lines;
}

/** Aligns "Key:\tvalue" lines per indentation block, as kubectl's tabwriter does. */
function align(lines: string[]): string {
  const width = Math.max(...lines.filter((l) => l.includes("\t")).map((l) => l.indexOf("\t")), 0);
  return lines
    .map((l) => {
      const tab = l.indexOf("\t");
      return tab === -1 ? l : `${l.slice(0, tab).padEnd(width + 2)}${l.slice(tab + 1)}`;
    })
    .map((l) => `${l.trimEnd()}\n`)
    .join("");
}

/** The whole text of `nodelet describe pod`. */
export function describePod(pod: V1Pod, events: readonly V1Event[], now: number): string {
  const status = pod.status ?? {};
  const lines: string[] = [
    `Name:\t${pod.metadata.name ?? ""}`,
    `Namespace:\t${pod.metadata.namespace ?? "default"}`,
    `Node:\t${pod.spec.nodeName ?? "<none>"}${status.hostIP ? `/${status.hostIP}` : ""}`,
    `Start Time:\t${status.startTime ?? podCreated(pod) ?? "<unknown>"}`,
    `Labels:\t${
      Object.entries(pod.metadata.labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(", ") || "<none>"
    }`,
    `Status:\t${status.phase ?? "Pending"}`,
    ...(status.reason ? [`Reason:\t${status.reason}`] : []),
    ...(status.message ? [`Message:\t${status.message}`] : []),
    `IP:\t${status.podIP ?? ""}`,
  ];
  const byName = new Map<string, V1ContainerStatus>();
  for (const s of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])])
    byName.set(s.name, s);
  if (pod.spec.initContainers?.length) {
    lines.push("Init Containers:");
    for (const c of pod.spec.initContainers) lines.push(...containerLines(c, byName.get(c.name)));
  }
  lines.push("Containers:");
  for (const c of pod.spec.containers) lines.push(...containerLines(c, byName.get(c.name)));
  if (status.conditions?.length) {
    lines.push("Conditions:", "  Type\tStatus");
    for (const c of status.conditions) lines.push(`  ${c.type}\t${c.status}`);
  }
  const volumes = pod.spec.volumes ?? [];
  lines.push(`Volumes:${volumes.length === 0 ? "\t<none>" : ""}`);
  for (const v of volumes) {
    const kind = Object.keys(v).find((k) => k !== "name") ?? "unknown";
    lines.push(`  ${v.name}:`, `    Type:\t${kind}`);
  }
  let text = align(lines);
  if (events.length === 0) return `${text}Events:  <none>\n`;
  const rows = [...events]
    .sort((a, b) => a.lastTimestamp.localeCompare(b.lastTimestamp))
    .map((e) => {
      const age = humanDuration(now - Date.parse(e.lastTimestamp));
      const seen =
        e.count > 1 ? `${age} (x${e.count} over ${humanDuration(now - Date.parse(e.firstTimestamp))})` : age;
      return [e.type, e.reason, seen, `kubelet`, e.message];
    });
  text += "Events:\n";
  text += formatTable(["Type", "Reason", "Age", "From", "Message"], rows)
    .split("\n")
    .map((l) => (l === "" ? l : `  ${l}`))
    .join("\n");
  return text;
}

export const describeVerb: ClientVerb = {
  name: "describe",
  summary: "show a pod in detail, with its events",
  command: (io: VerbIo) =>
    clientCommand("describe", io)
      .description("Show a pod the agent runs in detail, like kubectl describe pod.")
      .argument("<resource>", "pod (po)")
      .argument("<name>", "the pod's name")
      .option("-n, --namespace <ns>", "the pod's namespace", "default")
      .action(async (resource, name, opts) => {
        if (!["pod", "pods", "po"].includes(resource)) {
          throw new ClientUsageError(`unknown resource type "${resource}": pod`, { resource });
        }
        const client = await clientFromFlags(opts, io.fetch);
        const list = await client.getJson<{ items?: V1Pod[] }>("/pods", { signal: io.signal });
        const pod = (list.items ?? []).find(
          (p) => p.metadata.name === name && (p.metadata.namespace ?? "default") === opts.namespace,
        );
        if (!pod)
          throw new AgentApiError(
            404,
            "/pods",
            `pod "${name}" not found in namespace ${opts.namespace} on this node`,
          );
        const events = await client.getJson<V1EventList>("/events", {
          query: { fieldSelector: `involvedObject.name=${name},involvedObject.namespace=${opts.namespace}` },
          signal: io.signal,
        });
        const text = describePod(pod, events.items, Date.now());
        if (!io.stdout.write(text)) await new Promise<void>((resolve) => io.stdout.once("drain", resolve));
      }),
};
