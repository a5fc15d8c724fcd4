import type { ErrorCode } from "@nodelet/runtime-api";
import type { CriMethod, CriRequest } from "./methods.js";

/** What a scripted fault does to a call of one CRI method. */
export interface FaultSpec<M extends CriMethod = CriMethod> {
  /**
   * Reject with this code, as the runtime would answer the matching gRPC status (NotFound,
   * Unknown, RuntimeUnavailable for UNAVAILABLE, DeadlineExceeded...). Without it the fault only delays.
   */
  code?: ErrorCode | undefined;
  /** The runtime's message; defaults to one naming the fault. */
  message?: string | undefined;
  /** Wait this long (on the runtime's clock) before failing or answering; Infinity hangs until cancelled. */
  delayMs?: number | undefined;
  /** How many calls it hits before it removes itself; always when absent (1 = once). */
  times?: number | undefined;
  /** Only calls whose request passes this are hit. */
  when?: ((request: CriRequest<M>) => boolean) | undefined;
}

/** A fault in place; remove() takes it out (idempotent). */
export interface InjectedFault {
  readonly method: CriMethod;
  /** Calls it has hit so far. */
  readonly hits: number;
  /** Hits left; Infinity for an always-fault, 0 once it is spent or removed. */
  readonly remaining: number;
  remove(): void;
}

interface Entry {
  method: CriMethod;
  spec: FaultSpec<never>;
  hits: number;
  remaining: number;
}

/** Faults by method, applied in the order they were added: the first that matches a call takes it. */
export class FaultTable {
  readonly #entries: Entry[] = [];

  add<M extends CriMethod>(method: M, spec: FaultSpec<M>): InjectedFault {
    if (spec.times !== undefined && !(Number.isInteger(spec.times) && spec.times > 0)) {
      throw new RangeError(`fault on ${method}: times must be a positive integer, got ${spec.times}`);
    }
    const entry: Entry = {
      method,
      spec: spec as unknown as FaultSpec<never>,
      hits: 0,
      remaining: spec.times ?? Number.POSITIVE_INFINITY,
    };
    this.#entries.push(entry);
    const remove = () => {
      entry.remaining = 0;
      const i = this.#entries.indexOf(entry);
      if (i >= 0) this.#entries.splice(i, 1);
    };
    return {
      method,
      get hits() {
        return entry.hits;
      },
      get remaining() {
        return entry.remaining;
      },
      remove,
    };
  }

  /** The fault that hits this call, counted as a hit; undefined when none matches. */
  take(method: CriMethod, request: unknown): FaultSpec<never> | undefined {
    for (const entry of this.#entries) {
      if (entry.method !== method) continue;
      if (entry.spec.when && !(entry.spec.when as (r: unknown) => boolean)(request)) continue;
      entry.hits++;
      entry.remaining--;
      if (entry.remaining <= 0) this.#entries.splice(this.#entries.indexOf(entry), 1);
      return entry.spec;
    }
    return undefined;
  }

  clear(method?: CriMethod): void {
    for (const entry of [...this.#entries]) {
      if (method !== undefined && entry.method !== method) continue;
      entry.remaining = 0;
      this.#entries.splice(this.#entries.indexOf(entry), 1);
    }
  }
}
