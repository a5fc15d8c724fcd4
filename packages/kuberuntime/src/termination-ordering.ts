// The order in which a pod's containers stop: sidecars last, in reverse spec order.
// Follows the termination ordering of pkg/kubelet/kuberuntime/kuberuntime_termination_order.go.
import { type Clock, isRestartableInitContainer, type Timer, type V1Pod } from "@nodelet/runtime-api";

/**
 * Sidecars stop last: each restartable init container waits until every regular container and
 * every later sidecar has terminated (or its grace period runs out), as the kubelet orders it.
 */
export class TerminationOrdering {
  readonly #clock: Clock;
  readonly #done = new Map<string, Promise<void>>();
  readonly #resolve = new Map<string, () => void>();
  readonly #waitsFor = new Map<string, string[]>();

  constructor(pod: V1Pod, runningNames: ReadonlySet<string>, clock: Clock) {
    this.#clock = clock;
    const regular = pod.spec.containers.map((c) => c.name);
    const sidecars = (pod.spec.initContainers ?? []).filter(isRestartableInitContainer).map((c) => c.name);
    for (const name of [...regular, ...sidecars]) {
      if (!runningNames.has(name)) {
        this.#done.set(name, Promise.resolve()); // not running: nothing to wait for
        continue;
      }
      this.#done.set(
        name,
        new Promise<void>((resolve) => {
          this.#resolve.set(name, resolve);
        }),
      );
    }
    sidecars.forEach((name, i) => {
      this.#waitsFor.set(name, [...regular, ...sidecars.slice(i + 1)]);
    });
  }

  /** Waits for this container's turn, at most `graceSeconds`; resolves with the whole seconds waited. */
  async waitForTurn(name: string, graceSeconds: number): Promise<number> {
    const deps = (this.#waitsFor.get(name) ?? []).map((d) => this.#done.get(d) ?? Promise.resolve());
    if (deps.length === 0) return 0;
    return waitAtMost(this.#clock, Promise.all(deps), graceSeconds);
  }

  terminated(name: string): void {
    this.#resolve.get(name)?.();
  }
}

/**
 * Waits for `work` or `graceSeconds`, whichever comes first (the work is not cancelled), and
 * resolves with the whole seconds that passed.
 */
export async function waitAtMost(
  clock: Clock,
  work: Promise<unknown>,
  graceSeconds: number,
): Promise<number> {
  const started = clock.now();
  let timer: Timer | undefined;
  await Promise.race([
    work,
    new Promise<void>((resolve) => {
      timer = clock.setTimeout(resolve, graceSeconds * 1000);
    }),
  ]);
  timer?.cancel();
  return Math.floor((clock.now() - started) / 1000);
}
