// What the page knows: the pods and events from one /watch stream, replaced as a whole by each
// (re)connection's snapshot once it is complete (`synced`), so a reconnect never shows a half list.

import type { V1Pod } from "@nodelet/runtime-api";
import type { SseFrame } from "../src/client/sse.js";
import type { V1Event } from "../src/events.js";

export interface ConsoleState {
  pods: Map<string, V1Pod>;
  events: Map<string, V1Event>;
  synced: boolean;
}

function podKey(pod: V1Pod): string {
  return pod.metadata.uid ?? `${pod.metadata.namespace ?? "default"}/${pod.metadata.name ?? ""}`;
}

export function createState(onChange: () => void): {
  state: ConsoleState;
  connected(): void;
  frame(frame: SseFrame): void;
} {
  const state: ConsoleState = { pods: new Map(), events: new Map(), synced: false };
  let next: { pods: Map<string, V1Pod>; events: Map<string, V1Event> } | undefined;
  return {
    state,
    connected() {
      next = { pods: new Map(), events: new Map() };
    },
    frame(frame) {
      const target = next ?? state;
      if (frame.event === "synced") {
        if (next) {
          state.pods = next.pods;
          state.events = next.events;
          next = undefined;
        }
        state.synced = true;
        onChange();
        return;
      }
      let data: unknown;
      try {
        data = JSON.parse(frame.data);
      } catch {
        return;
      }
      if (frame.event === "pod") {
        const pod = data as V1Pod;
        target.pods.set(podKey(pod), pod);
      } else if (frame.event === "pod-deleted") {
        target.pods.delete(podKey(data as V1Pod));
      } else if (frame.event === "event") {
        const event = data as V1Event;
        target.events.set(event.metadata.uid, event);
      }
      if (!next) onChange();
    },
  };
}
