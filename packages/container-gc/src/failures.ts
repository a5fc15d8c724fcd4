// Removal failures, logged once per object while they last: a removal that fails on every pass
// (a stuck mount, a runtime that refuses) is counted each time but logs one line, and another
// once it succeeds or the object is gone.
import { errorMessage, type Logger } from "@nodelet/runtime-api";
import type { GCMetrics, GCObject } from "./metrics.js";

export interface FailureLog {
  /** Counts the failure; logs it unless this object already failed on an earlier pass. */
  failed(object: GCObject, id: string, err: unknown, fields?: object): void;
  /** The object was removed: a later failure logs again. */
  succeeded(object: GCObject, id: string): void;
  /** Forgets failing objects that are not in `present` any more (removed by someone else). */
  retain(object: GCObject, present: ReadonlySet<string>): void;
  /** Objects failing now, as "object/id". */
  failing(): string[];
}

export function createFailureLog(logger: Logger, metrics: GCMetrics | undefined): FailureLog {
  const failing = new Set<string>();
  return {
    failed(object, id, err, fields = {}) {
      metrics?.errors.inc({ object });
      const key = `${object}/${id}`;
      if (failing.has(key)) return;
      failing.add(key);
      logger.warn(
        { object, id, ...fields, err: errorMessage(err) },
        `garbage collection failed to remove ${object.replaceAll("_", " ")} ${id}; the next pass retries`,
      );
    },
    succeeded(object, id) {
      if (failing.delete(`${object}/${id}`))
        logger.info(
          { object, id },
          `garbage collection removed ${object.replaceAll("_", " ")} ${id} after a failure`,
        );
    },
    retain(object, present) {
      const prefix = `${object}/`;
      for (const key of failing) {
        if (key.startsWith(prefix) && !present.has(key.slice(prefix.length))) failing.delete(key);
      }
    },
    failing: () => [...failing],
  };
}
