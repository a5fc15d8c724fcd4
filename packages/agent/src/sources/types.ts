import type { NodeletError, V1Pod } from "@nodelet/runtime-api";

export type PodSourceName = "file" | "http";

/** A manifest (file or URL item) that could not become a pod, and why. */
export interface PodSourceError {
  /** The file path or URL the problem is in. */
  origin: string;
  /** NodeletError(InvalidPod) for a bad manifest; other codes for I/O. */
  error: NodeletError;
}

/**
 * The complete set of pods a source describes now (SET semantics: a pod missing from an
 * update is gone), plus the manifests it could not use.
 */
export interface PodSourceUpdate {
  source: PodSourceName;
  pods: V1Pod[];
  errors: PodSourceError[];
}

/**
 * A source of static pods. The first update comes after the first complete read, which marks
 * the source ready; later updates come whenever the source reads again.
 */
export interface PodSource {
  readonly name: PodSourceName;
  /** Starts reading; `onUpdate` is called for every completed read until stop(). */
  start(onUpdate: (update: PodSourceUpdate) => void): void;
  /** Stops reading; settles once no read is in flight and no update will follow. */
  stop(): Promise<void>;
}
