// Image pull progress as data: image-manager's onPullProgress (through kuberuntime) becomes an
// event on the container (reason Pulling, aggregated per message like every event) and the pod's
// status message while the pull runs. The kubelet shows only "Pulling image" until the pull ends;
// nodelet says how far it got: bytes or layers when the puller knows them, elapsed time otherwise.

import {
  type EventRecorder,
  formatBytes,
  type ImagePullProgress,
  type ObjectReference,
  type V1Pod,
} from "@nodelet/runtime-api";

export interface PullProgressTracker {
  /** Give to kuberuntime's onPullProgress. */
  onPullProgress(progress: ImagePullProgress, object: ObjectReference): void;
  /**
   * Wraps the recorder the image manager reports to: a Pulled, Failed or BackOff event about a
   * container ends its pull (the status message goes away).
   */
  recorder(next: EventRecorder): EventRecorder;
  /** The status message for a pod while one of its images is being pulled, else undefined. */
  message(podUid: string): string | undefined;
}

/** `Pulling image "busybox": 1.2 MB of 2.1 MB, 1/2 layers, 12s elapsed`. */
export function formatPullProgress(p: ImagePullProgress): string {
  const parts: string[] = [];
  if (p.bytesDone !== undefined) {
    parts.push(
      p.bytesTotal !== undefined
        ? `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`
        : formatBytes(p.bytesDone),
    );
  }
  if (p.layersDone !== undefined) {
    parts.push(
      p.layersTotal !== undefined ? `${p.layersDone}/${p.layersTotal} layers` : `${p.layersDone} layers`,
    );
  }
  parts.push(`${Math.round(p.elapsedMs / 1000)}s elapsed`);
  return `Pulling image "${p.image}": ${parts.join(", ")}`;
}

const PULL_ENDS = new Set(["Pulled", "Failed", "BackOff", "ErrImageNeverPull", "InspectFailed"]);

export function createPullProgressTracker(events: EventRecorder): PullProgressTracker {
  /** Pulls running now, by pod UID then container field path. */
  const running = new Map<string, Map<string, string>>();

  function end(object: ObjectReference): void {
    const pod = running.get(object.uid);
    if (!pod) return;
    pod.delete(object.fieldPath ?? "");
    if (pod.size === 0) running.delete(object.uid);
  }

  return {
    onPullProgress(progress, object) {
      const text = formatPullProgress(progress);
      let pod = running.get(object.uid);
      if (!pod) {
        pod = new Map();
        running.set(object.uid, pod);
      }
      pod.set(object.fieldPath ?? "", text);
      events.event(object, "Normal", "Pulling", text);
    },
    recorder(next) {
      return {
        event(object, type, reason, message) {
          if (PULL_ENDS.has(reason)) end(object);
          next.event(object, type, reason, message);
        },
      };
    },
    message(podUid) {
      const pod = running.get(podUid);
      return pod ? [...pod.values()].join("; ") : undefined;
    },
  };
}

/** The pod with its status message showing a running pull (the status is not changed otherwise). */
export function withPullMessage(pod: V1Pod, message: string | undefined): V1Pod {
  if (message === undefined) return pod;
  return { ...pod, status: { ...pod.status, message } };
}
