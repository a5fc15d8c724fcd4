// Which runtime pods are nodelet's to kill. The kubelet kills every pod no source describes, as
// it owns the whole runtime; nodelet may share containerd with a real kubelet, so it only kills
// pods that carry its ownership label (kuberuntime's LABEL_MANAGED_BY) and leaves every other
// pod alone, with one warning per pod.
//
// The label is checked on containers first: the kubelet copies a pod's labels onto its sandbox,
// so a foreign pod could carry the label on its sandbox, but never on a container (container
// labels are only the identity keys). A sandbox's label counts only while the pod has no
// container at all (a pod whose first container is not created yet).
import { LABEL_MANAGED_BY, LABEL_POD_UID, MANAGED_BY_NODELET } from "@nodelet/kuberuntime";
import type { Logger, Pod, RuntimeService } from "@nodelet/runtime-api";

/** `nodelet`: created by nodelet; `legacy`: created by a nodelet before the label; `foreign`: anyone else's. */
export type PodOwner = "nodelet" | "legacy" | "foreign";

interface Labelled {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

const CONFIG_SOURCE = "kubernetes.io/config.source";
const CONFIG_HASH = "kubernetes.io/config.hash";

const owned = (o: Labelled) => o.labels[LABEL_MANAGED_BY] === MANAGED_BY_NODELET;

/**
 * Who created a runtime pod, from its sandboxes' and containers' labels. `legacy` is a pod
 * without the label anywhere that looks like a nodelet static pod: the kubelet's identity
 * labels, and the static-pod annotations nodelet always sets (config.source file or http,
 * config.hash equal to the UID). A real kubelet's static pods look the same, which is why
 * legacy pods are only adopted when the operator says so (adoptUnlabelledPods).
 */
export function podOwner(
  uid: string,
  sandboxes: readonly Labelled[],
  containers: readonly Labelled[],
): PodOwner {
  if (containers.some(owned)) return "nodelet";
  if (containers.length === 0 && sandboxes.some(owned)) return "nodelet";
  if (sandboxes.some(owned) || containers.some((c) => c.labels[LABEL_MANAGED_BY] !== undefined))
    return "foreign";
  const looksStatic = sandboxes.some(
    (s) =>
      s.labels[LABEL_POD_UID] === uid &&
      (s.annotations?.[CONFIG_SOURCE] === "file" || s.annotations?.[CONFIG_SOURCE] === "http") &&
      s.annotations?.[CONFIG_HASH] === uid,
  );
  return looksStatic ? "legacy" : "foreign";
}

export interface OrphanFilterOptions {
  runtimeService: Pick<RuntimeService, "listPodSandbox" | "listContainers">;
  logger: Logger;
  /** Kill unlabelled pods that look like an earlier nodelet's (see podOwner); default false. */
  adoptUnlabelledPods?: boolean;
}

export interface OrphanFilter {
  /** Of the pods no source describes, those nodelet may kill; warns once per other pod. */
  killable(candidates: readonly Pod[]): Promise<Pod[]>;
}

export function createOrphanFilter(options: OrphanFilterOptions): OrphanFilter {
  const { logger } = options;
  const warned = new Set<string>();
  return {
    async killable(candidates) {
      if (candidates.length === 0) return [];
      const [sandboxes, containers] = await Promise.all([
        options.runtimeService.listPodSandbox(),
        options.runtimeService.listContainers(),
      ]);
      const out: Pod[] = [];
      for (const pod of candidates) {
        const podSandboxes = sandboxes.filter((s) => s.metadata?.uid === pod.id);
        const sandboxIds = new Set(podSandboxes.map((s) => s.id));
        const podContainers = containers.filter(
          (c) => sandboxIds.has(c.podSandboxId) || c.labels[LABEL_POD_UID] === pod.id,
        );
        const owner = podOwner(pod.id, podSandboxes, podContainers);
        if (owner === "nodelet" || (owner === "legacy" && options.adoptUnlabelledPods === true)) {
          out.push(pod);
          continue;
        }
        if (warned.has(pod.id)) continue;
        warned.add(pod.id);
        logger.warn(
          { namespace: pod.namespace, name: pod.name, uid: pod.id, owner },
          owner === "legacy"
            ? "leaving alone a pod without nodelet's ownership label that looks like an earlier nodelet's " +
                "static pod; set adoptUnlabelledPods to let nodelet remove it"
            : `leaving alone a pod nodelet did not create (no ${LABEL_MANAGED_BY} label)`,
        );
      }
      return out;
    },
  };
}
