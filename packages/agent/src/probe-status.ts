// What the probe manager needs to know of a pod's containers after a sync: each container's
// current instance (statuses are newest first), and the spec containers not created yet.
import type { ContainerProbeStatus } from "@nodelet/lifecycle";
import type { PodStatus, V1Container, V1Pod } from "@nodelet/runtime-api";

export function probeStatuses(pod: V1Pod, status: PodStatus): ContainerProbeStatus[] {
  const seen = new Set<string>();
  const out: ContainerProbeStatus[] = [];
  for (const c of status.containerStatuses) {
    if (seen.has(c.name)) continue; // newest first: the current instance
    seen.add(c.name);
    out.push({
      name: c.name,
      containerId: c.id,
      state: c.state === "running" ? "running" : c.state === "exited" ? "terminated" : "waiting",
      ...(c.startedAt ? { startedAtMs: c.startedAt.getTime() } : {}),
    });
  }
  for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
    if (!seen.has(c.name)) out.push({ name: c.name, state: "waiting" });
  }
  return out;
}

/** The spec of the container (or init container) called `name`. */
export function specOf(pod: V1Pod, name: string): V1Container | undefined {
  return [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((c) => c.name === name);
}
