// How a pod and an event read in a table: kubectl's columns and its STATUS rules (the reason of the
// container that explains the pod: CrashLoopBackOff, ErrImagePull, Init:1/2, Completed...), its
// human durations (5m, 3h2m, 4d). Pure functions: `nodelet get`/`describe` and the dashboard use them.

import type { V1ContainerStatus, V1Pod, V1Probe } from "@nodelet/runtime-api";
import type { V1Event } from "../events.js";

/** kubectl's short durations (apimachinery's HumanDuration): 45s, 3m20s, 14m, 5h30m, 2d4h, 400d, 3y2d. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(Math.max(0, ms) / 1000);
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (years < 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

function since(time: string | undefined, now: number): string {
  if (!time) return "<unknown>";
  const t = Date.parse(time);
  return Number.isNaN(t) ? "<unknown>" : humanDuration(now - t);
}

/** When the pod appeared: creationTimestamp, else its status start time. */
export function podCreated(pod: V1Pod): string | undefined {
  return pod.metadata.creationTimestamp ?? pod.status?.startTime;
}

/** `READY`: ready/total of the regular containers. */
export function podReady(pod: V1Pod): string {
  const total = pod.spec.containers.length;
  const ready = (pod.status?.containerStatuses ?? []).filter((c) => c.ready).length;
  return `${ready}/${total}`;
}

function terminatedReason(c: V1ContainerStatus): string | undefined {
  const t = c.state?.terminated;
  if (!t) return undefined;
  if (t.reason) return t.reason;
  return t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
}

/** `STATUS` as kubectl prints it (its printPod rules, the main cases). */
export function podStatusText(pod: V1Pod): string {
  const status = pod.status ?? {};
  let reason = status.reason || status.phase || "Pending";
  const init = status.initContainerStatuses ?? [];
  const initTotal = pod.spec.initContainers?.length ?? 0;
  let initializing = false;
  for (const [i, c] of init.entries()) {
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) continue;
    // A restartable init container (sidecar) that runs counts as done.
    if (c.state?.running && pod.spec.initContainers?.[i]?.restartPolicy === "Always" && c.started) continue;
    initializing = true;
    if (t)
      reason = t.reason
        ? `Init:${t.reason}`
        : t.signal
          ? `Init:Signal:${t.signal}`
          : `Init:ExitCode:${t.exitCode}`;
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== "PodInitializing")
      reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${initTotal}`;
    break;
  }
  if (!initializing) {
    let hasRunning = false;
    const containers = status.containerStatuses ?? [];
    for (let i = containers.length - 1; i >= 0; i--) {
      const c = containers[i] as V1ContainerStatus;
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated) reason = terminatedReason(c) ?? reason;
      else if (c.state?.running && c.ready) hasRunning = true;
    }
    if (reason === "Completed" && hasRunning)
      reason = status.conditions?.some((c) => c.type === "Ready" && c.status === "True")
        ? "Running"
        : "NotReady";
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === "NodeLost" ? "Unknown" : "Terminating";
  return reason;
}

/** `RESTARTS`: the sum over containers, with the age of the last restart: `3 (42s ago)`. */
export function podRestarts(pod: V1Pod, now: number): string {
  const all = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const count = all.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  let last: number | undefined;
  for (const c of all) {
    const finished = c.lastState?.terminated?.finishedAt;
    const t = finished ? Date.parse(finished) : Number.NaN;
    if (!Number.isNaN(t) && (last === undefined || t > last)) last = t;
  }
  return count > 0 && last !== undefined ? `${count} (${humanDuration(now - last)} ago)` : String(count);
}

export interface PodRow {
  namespace: string;
  name: string;
  ready: string;
  status: string;
  restarts: string;
  age: string;
  ip: string;
  node: string;
}

export function podRow(pod: V1Pod, now: number): PodRow {
  return {
    namespace: pod.metadata.namespace ?? "default",
    name: pod.metadata.name ?? "",
    ready: podReady(pod),
    status: podStatusText(pod),
    restarts: podRestarts(pod, now),
    age: since(podCreated(pod), now),
    ip: pod.status?.podIP || "<none>",
    node: pod.spec.nodeName || "<none>",
  };
}

/** Columns padded like kubectl's tab writer: three spaces between columns. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  withHeader = true,
): string {
  const all = withHeader ? [header, ...rows] : rows;
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => (r[i] ?? "").length)));
  return all
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join(""))
    .map((line) => `${line.trimEnd()}\n`)
    .join("");
}

export const POD_COLUMNS = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] as const;
export const POD_WIDE_COLUMNS = [...POD_COLUMNS, "IP", "NODE"] as const;

export function podCells(row: PodRow, wide: boolean, withNamespace: boolean): string[] {
  const cells = [row.name, row.ready, row.status, row.restarts, row.age];
  if (wide) cells.push(row.ip, row.node);
  return withNamespace ? [row.namespace, ...cells] : cells;
}

export const EVENT_COLUMNS = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"] as const;

/** `OBJECT`: pod/NAME, as kubectl shows an event's involved object. */
export function eventObject(event: V1Event): string {
  return `${event.involvedObject.kind.toLowerCase()}/${event.involvedObject.name}`;
}

export function eventCells(event: V1Event, now: number, withNamespace: boolean): string[] {
  const last = since(event.lastTimestamp, now);
  const seen = event.count > 1 ? `${last} (x${event.count} over ${since(event.firstTimestamp, now)})` : last;
  const cells = [seen, event.type, event.reason, eventObject(event), event.message];
  return withNamespace ? [event.involvedObject.namespace, ...cells] : cells;
}

/** A probe as kubectl describe prints it: `http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3`. */
export function probeText(probe: V1Probe): string {
  let action = "unknown";
  if (probe.exec) action = `exec [${(probe.exec.command ?? []).join(" ")}]`;
  else if (probe.httpGet) {
    const h = probe.httpGet;
    action = `http-get ${(h.scheme ?? "HTTP").toLowerCase()}://${h.host ?? ""}:${h.port}${h.path ?? "/"}`;
  } else if (probe.tcpSocket) action = `tcp-socket ${probe.tcpSocket.host ?? ""}:${probe.tcpSocket.port}`;
  else if (probe.grpc) action = `grpc <pod>:${probe.grpc.port} ${probe.grpc.service ?? ""}`.trimEnd();
  return (
    `${action} delay=${probe.initialDelaySeconds ?? 0}s timeout=${probe.timeoutSeconds ?? 1}s ` +
    `period=${probe.periodSeconds ?? 10}s #success=${probe.successThreshold ?? 1} #failure=${probe.failureThreshold ?? 3}`
  );
}
