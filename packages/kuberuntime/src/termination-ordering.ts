import type { V1Pod } from "@nodelet/runtime-api";

/**
 * Sidecars stop last: each restartable init container waits until every regular container and
 * every later sidecar has terminated (or its grace period runs out), as the kubelet orders it.
 */
export class TerminationOrdering {
  readonly #done = new Map<string, Promise<void>>();
  readonly #resolve = new Map<string, () => void>();
  readonly #waitsFor = new Map<string, string[]>();

  constructor(pod: V1Pod, runningNames: ReadonlySet<string>) {
    const regular = pod.spec.containers.map((c) => c.name);
    const sidecars = (pod.spec.initContainers ?? [])
      .filter((c) => c.restartPolicy === "Always")
      .map((c) => c.name);
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
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(deps),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceSeconds * 1000);
      }),
    ]);
    clearTimeout(timer);
    return Math.floor((Date.now() - started) / 1000);
  }

  terminated(name: string): void {
    this.#resolve.get(name)?.();
  }
}
