// The desired pods: the merge of every source's latest set (the kubelet's PodConfig,
// pkg/kubelet/config/config.go), reported to the agent as changes keyed by pod UID.

import { ErrorCode, type Logger, NodeletError, noopLogger, type V1Pod } from "@nodelet/runtime-api";
import type { PodSource, PodSourceError, PodSourceName, PodSourceUpdate } from "./sources/types.js";
import { ConfigAnnotation, canonicalJson, podKey } from "./static-pod.js";

/** What changed in the desired pods with one source update. */
export interface PodChange {
  /** Pods with a UID not seen before (a changed manifest is a new UID). */
  added: V1Pod[];
  /** Pods whose UID stayed but whose content changed (possible when a manifest sets metadata.uid). */
  updated: V1Pod[];
  /** Pods no source describes any more (a changed manifest's old UID is here). */
  removed: V1Pod[];
}

export interface PodConfigError extends PodSourceError {
  source: PodSourceName;
}

export interface PodConfig {
  /** Starts every source. */
  start(): void;
  /** Stops every source; no change is reported afterwards. */
  stop(): Promise<void>;
  /** Calls `listener` for every update that changes the desired pods; returns the unsubscribe. */
  onChange(listener: (change: PodChange) => void): () => void;
  /** The desired pods, ordered by namespace and name. Treat them as read-only. */
  pods(): V1Pod[];
  /** The pod with this UID, if desired. */
  pod(uid: string): V1Pod | undefined;
  /** True once every source has delivered its first update (true with no sources). */
  allSourcesReady(): boolean;
  /** The latest problems of every source (bad manifests, unreachable URL, duplicate pods). */
  errors(): PodConfigError[];
}

export interface PodConfigOptions {
  logger?: Logger;
}

interface SourceState {
  source: PodSource;
  ready: boolean;
  pods: V1Pod[];
  errors: PodSourceError[];
}

/**
 * Merges the sources' sets (each update replaces that source's set). Within and across sources
 * the first pod with a given UID or namespace/name wins, in source order then the source's own
 * order (file name, list order); a later duplicate is dropped and reported in errors(), as the
 * kubelet drops a pod with a duplicate name. A pod whose UID is already desired keeps its
 * `kubernetes.io/config.seen`, so that annotation is the time it was first seen.
 */
export function createPodConfig(sources: readonly PodSource[], options: PodConfigOptions = {}): PodConfig {
  const logger = options.logger ?? noopLogger;
  const states: SourceState[] = sources.map((source) => ({ source, ready: false, pods: [], errors: [] }));
  const listeners = new Set<(change: PodChange) => void>();
  let desired = new Map<string, V1Pod>();
  let duplicates: PodConfigError[] = [];
  let started = false;
  let stopped = false;

  function update(state: SourceState, next: PodSourceUpdate): void {
    if (stopped) return;
    state.ready = true;
    state.pods = next.pods;
    state.errors = next.errors;
    const change = merge();
    if (change.added.length + change.updated.length + change.removed.length === 0) return;
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (err) {
        logger.error({ err }, "pod config listener failed");
      }
    }
  }

  function merge(): PodChange {
    const next = new Map<string, V1Pod>();
    const names = new Set<string>();
    const dropped: PodConfigError[] = [];
    for (const state of states) {
      for (const pod of state.pods) {
        const uid = pod.metadata.uid ?? "";
        const fullName = podKey(pod);
        const clash = next.has(uid) ? `UID ${uid}` : names.has(fullName) ? `name ${fullName}` : undefined;
        if (clash !== undefined) {
          dropped.push({
            source: state.source.name,
            origin: `${state.source.name}:${fullName}`,
            error: new NodeletError(
              ErrorCode.InvalidPod,
              `pod ${fullName} (UID ${uid}) from the ${state.source.name} source is ignored: ` +
                `a pod with the same ${clash} is already desired`,
              { details: { uid, name: fullName } },
            ),
          });
          continue;
        }
        names.add(fullName);
        const previous = desired.get(uid);
        next.set(uid, previous === undefined ? pod : reconcile(previous, pod));
      }
    }
    const known = new Set(duplicates.map((d) => d.error.message));
    for (const d of dropped) {
      if (!known.has(d.error.message))
        logger.error({ source: d.source, err: d.error.message }, "duplicate pod ignored");
    }
    duplicates = dropped;

    const change: PodChange = { added: [], updated: [], removed: [] };
    for (const [uid, pod] of next) {
      const previous = desired.get(uid);
      if (previous === undefined) change.added.push(pod);
      else if (previous !== pod) change.updated.push(pod);
    }
    for (const [uid, pod] of desired) {
      if (!next.has(uid)) change.removed.push(pod);
    }
    desired = next;
    return change;
  }

  return {
    start() {
      if (started) throw new Error("the pod config was already started");
      started = true;
      for (const state of states) state.source.start((next) => update(state, next));
    },
    async stop() {
      stopped = true;
      await Promise.all(states.map((state) => state.source.stop()));
    },
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    pods() {
      return [...desired.values()].sort(byFullName);
    },
    pod(uid) {
      return desired.get(uid);
    },
    allSourcesReady() {
      return states.every((state) => state.ready);
    },
    errors() {
      return [
        ...states.flatMap((state) => state.errors.map((e) => ({ source: state.source.name, ...e }))),
        ...duplicates,
      ];
    },
  };
}

/**
 * The pod to keep for a UID already desired: the previous object when nothing but the
 * config.seen annotation differs, else the new one carrying the first seen time.
 */
function reconcile(previous: V1Pod, next: V1Pod): V1Pod {
  // A source hands back the object it read before when the file did not change (every rescan).
  if (previous === next) return previous;
  const seen = previous.metadata.annotations?.[ConfigAnnotation.seen];
  if (seen === undefined) return canonicalJson(previous) === canonicalJson(next) ? previous : next;
  const carried: V1Pod = {
    ...next,
    metadata: {
      ...next.metadata,
      annotations: { ...next.metadata.annotations, [ConfigAnnotation.seen]: seen },
    },
  };
  return canonicalJson(previous) === canonicalJson(carried) ? previous : carried;
}

function byFullName(a: V1Pod, b: V1Pod): number {
  const ka = podKey(a);
  const kb = podKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
