// The generic PLEG: relist the runtime every second, turn state changes into events that wake the
// pod workers, and report itself unhealthy when relisting stalls.
import type { Clock, Container, Pod, Runtime, Timer } from "@nodelet/runtime-api";
import { formatContainerID } from "@nodelet/runtime-api";

export type PodLifecycleEventType = "ContainerStarted" | "ContainerDied" | "ContainerRemoved";

export interface PodLifecycleEvent {
  /** Pod UID. */
  id: string;
  type: PodLifecycleEventType;
  /** Formatted container id (`containerd://...`). */
  data: string;
}

export interface PlegOptions {
  runtime: Pick<Runtime, "getPods">;
  clock: Clock;
  onEvents: (events: PodLifecycleEvent[], pods: Pod[]) => void;
  relistPeriodMs?: number;
  /** Unhealthy when the last successful relist is older than this (kubelet: 3 minutes). */
  healthThresholdMs?: number;
  onRelist?: (durationMs: number, intervalMs: number) => void;
  onError?: (err: unknown) => void;
}

export interface Pleg {
  start(): void;
  stop(): Promise<void>;
  /** One relist now (the loop calls it; tests and the agent's start use it directly). */
  relist(): Promise<void>;
  healthy(): { ok: boolean; message: string };
  /** The runtime's pods as of the last relist. */
  pods(): Pod[];
  /** When the relist behind pods() started (clock ms); undefined before the first one. */
  podsListedAt(): number | undefined;
  /**
   * A relist as soon as the one running (if any) ends, instead of waiting for the period: the
   * evented PLEG calls it when the runtime reports a container event. Bursts fold into one relist.
   */
  relistSoon(): void;
  /** Changes the period from the next wait on (the evented PLEG slows the relist while events flow). */
  setRelistPeriod(ms: number): void;
  /** The health threshold from now on (the kubelet's evented PLEG allows 10 minutes). */
  setHealthThreshold(ms: number): void;
}

type State = Container["state"] | "non-existent";

function eventsFor(podId: string, id: string, before: State, after: State): PodLifecycleEvent[] {
  if (before === after) return [];
  switch (after) {
    case "running":
      return [{ id: podId, type: "ContainerStarted", data: id }];
    case "exited":
      return [{ id: podId, type: "ContainerDied", data: id }];
    case "non-existent":
      // A container that vanished while running died first, as far as anyone could see.
      return before === "exited"
        ? [{ id: podId, type: "ContainerRemoved", data: id }]
        : [
            { id: podId, type: "ContainerDied", data: id },
            { id: podId, type: "ContainerRemoved", data: id },
          ];
    default:
      return []; // created / unknown: the next sync looks at it anyway
  }
}

function statesOf(pods: readonly Pod[]): Map<string, { podId: string; state: State }> {
  const out = new Map<string, { podId: string; state: State }>();
  for (const pod of pods) {
    for (const c of [...pod.containers, ...pod.sandboxes]) {
      out.set(formatContainerID(c.id), { podId: pod.id, state: c.state });
    }
  }
  return out;
}

export function createPleg(options: PlegOptions): Pleg {
  let period = options.relistPeriodMs ?? 1000;
  let threshold = options.healthThresholdMs ?? 3 * 60_000;
  let previous = new Map<string, { podId: string; state: State }>();
  let lastPods: Pod[] = [];
  let lastRelistAt: number | undefined;
  let timer: Timer | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  /** relistSoon() came while a relist ran: the loop relists again at once. */
  let soon = false;

  async function relist(): Promise<void> {
    const started = options.clock.now();
    const pods = await options.runtime.getPods(true);
    const current = statesOf(pods);
    const events: PodLifecycleEvent[] = [];
    for (const [id, now] of current) {
      events.push(...eventsFor(now.podId, id, previous.get(id)?.state ?? "non-existent", now.state));
    }
    for (const [id, before] of previous) {
      if (!current.has(id)) events.push(...eventsFor(before.podId, id, before.state, "non-existent"));
    }
    previous = current;
    lastPods = pods;
    const finished = options.clock.now();
    options.onRelist?.(finished - started, lastRelistAt === undefined ? 0 : started - lastRelistAt);
    lastRelistAt = started;
    if (events.length > 0) options.onEvents(events, pods);
  }

  const loop = () => {
    if (stopped) return;
    timer = undefined;
    soon = false;
    running = relist()
      .catch((err: unknown) => options.onError?.(err))
      .finally(() => {
        running = undefined;
        if (stopped) return;
        if (soon) loop();
        else timer = options.clock.setTimeout(loop, period);
      });
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      loop();
    },
    async stop() {
      stopped = true;
      timer?.cancel();
      await running;
    },
    relist,
    healthy() {
      if (lastRelistAt === undefined) return { ok: false, message: "pleg has yet to be successful" };
      const since = options.clock.now() - lastRelistAt;
      return since > threshold
        ? {
            ok: false,
            message: `pleg was last seen active ${Math.round(since / 1000)}s ago; threshold is ${threshold / 1000}s`,
          }
        : { ok: true, message: "" };
    },
    pods: () => lastPods,
    podsListedAt: () => lastRelistAt,
    relistSoon() {
      if (stopped) return;
      if (running !== undefined) {
        soon = true;
        return;
      }
      timer?.cancel();
      loop();
    },
    setRelistPeriod(ms) {
      if (ms === period) return;
      period = ms;
      // A long wait already scheduled would keep the old period once: start the new one now.
      if (!stopped && running === undefined && timer !== undefined) {
        timer.cancel();
        timer = options.clock.setTimeout(loop, period);
      }
    },
    setHealthThreshold(ms) {
      threshold = ms;
    },
  };
}
