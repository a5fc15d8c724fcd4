// The agent's events as data: a bounded ring of v1 Events, aggregated like the kubelet's event
// recorder (client-go tools/record EventCorrelator): an event identical to one already kept (same
// object, field path, type, reason and message) bumps that event's count and lastTimestamp instead
// of adding a new one. The kubelet sends them to the API server; the agent keeps the newest
// `capacity` (default 1000) and serves them at /events and on /watch.

import { randomBytes } from "node:crypto";
import {
  type Clock,
  type EventRecorder,
  type EventType,
  type ObjectReference,
  systemClock,
} from "@nodelet/runtime-api";

/** A core/v1 Event as the API server would return it. */
export interface V1Event {
  kind: "Event";
  apiVersion: "v1";
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
  };
  involvedObject: {
    kind: string;
    apiVersion: "v1";
    namespace: string;
    name: string;
    uid: string;
    fieldPath?: string;
  };
  reason: string;
  message: string;
  type: EventType;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: "kubelet"; host: string };
  reportingComponent: "kubelet";
  reportingInstance: string;
}

export interface V1EventList {
  kind: "EventList";
  apiVersion: "v1";
  metadata: { resourceVersion: string };
  items: V1Event[];
}

export interface EventFilter {
  /** involvedObject.name: the pod's name. */
  name?: string | undefined;
  namespace?: string | undefined;
  /** involvedObject.uid. */
  uid?: string | undefined;
}

export interface EventStoreOptions {
  nodeName: string;
  /** How many distinct events are kept; the oldest (by last occurrence) goes first. Default 1000. */
  capacity?: number | undefined;
  clock?: Clock | undefined;
  /** Also told every event (the logging recorder), before listeners. */
  next?: EventRecorder | undefined;
  /** Random bytes for event names (the API server's generateName suffix); injectable for tests. */
  randomSuffix?: (() => string) | undefined;
}

export interface EventStore extends EventRecorder {
  /** Events oldest first (by first occurrence), optionally only those about one object. */
  list(filter?: EventFilter): V1Event[];
  toList(filter?: EventFilter): V1EventList;
  /** Called with each new or updated event; returns the unsubscribe function. */
  subscribe(listener: (event: V1Event) => void): () => void;
  /** Increases with every change, as a resourceVersion. */
  readonly resourceVersion: number;
}

export const DEFAULT_EVENT_CAPACITY = 1000;

function aggregationKey(object: ObjectReference, type: EventType, reason: string, message: string): string {
  return JSON.stringify([
    object.kind,
    object.namespace,
    object.name,
    object.uid,
    object.fieldPath ?? "",
    type,
    reason,
    message,
  ]);
}

/** Whether an event is about the object `filter` names (every given field must match). */
export function eventMatches(event: V1Event, filter: EventFilter = {}): boolean {
  const o = event.involvedObject;
  return (
    (filter.name === undefined || o.name === filter.name) &&
    (filter.namespace === undefined || o.namespace === filter.namespace) &&
    (filter.uid === undefined || o.uid === filter.uid)
  );
}

export function createEventStore(options: EventStoreOptions): EventStore {
  const clock = options.clock ?? systemClock;
  const capacity = Math.max(1, options.capacity ?? DEFAULT_EVENT_CAPACITY);
  const randomSuffix = options.randomSuffix ?? (() => randomBytes(8).toString("hex"));
  /** Insertion order is the order of last occurrence: a repeat moves its event to the end. */
  const byKey = new Map<string, V1Event>();
  const listeners = new Set<(event: V1Event) => void>();
  let resourceVersion = 0;

  function notify(event: V1Event): void {
    for (const listener of listeners) listener(event);
  }

  const store: EventStore = {
    event(object, type, reason, message) {
      options.next?.event(object, type, reason, message);
      const now = new Date(clock.now()).toISOString();
      const key = aggregationKey(object, type, reason, message);
      resourceVersion += 1;
      const existing = byKey.get(key);
      if (existing) {
        existing.count += 1;
        existing.lastTimestamp = now;
        existing.metadata.resourceVersion = String(resourceVersion);
        byKey.delete(key);
        byKey.set(key, existing);
        notify(existing);
        return;
      }
      const event: V1Event = {
        kind: "Event",
        apiVersion: "v1",
        metadata: {
          // The kubelet's names are <object name>.<hex>, as the recorder makes them.
          name: `${object.name}.${randomSuffix()}`,
          namespace: object.namespace,
          uid: randomSuffix(),
          resourceVersion: String(resourceVersion),
          creationTimestamp: now,
        },
        involvedObject: {
          kind: object.kind,
          apiVersion: "v1",
          namespace: object.namespace,
          name: object.name,
          uid: object.uid,
          ...(object.fieldPath ? { fieldPath: object.fieldPath } : {}),
        },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: "kubelet", host: options.nodeName },
        reportingComponent: "kubelet",
        reportingInstance: options.nodeName,
      };
      byKey.set(key, event);
      while (byKey.size > capacity) {
        const oldest = byKey.keys().next().value;
        if (oldest === undefined) break;
        byKey.delete(oldest);
      }
      notify(event);
    },
    list(filter) {
      return [...byKey.values()]
        .filter((e) => eventMatches(e, filter))
        .sort((a, b) => a.firstTimestamp.localeCompare(b.firstTimestamp));
    },
    toList(filter) {
      return {
        kind: "EventList",
        apiVersion: "v1",
        metadata: { resourceVersion: String(resourceVersion) },
        items: store.list(filter),
      };
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get resourceVersion() {
      return resourceVersion;
    },
  };
  return store;
}

/**
 * The filter of an /events or /watch request: `?pod=NAME` (and `namespace=`), or kubectl's
 * `fieldSelector=involvedObject.name=NAME,involvedObject.namespace=NS,involvedObject.uid=UID`.
 * Unknown selector fields are an error, as the API server rejects them.
 */
export function eventFilterFromQuery(params: URLSearchParams): EventFilter {
  const filter: EventFilter = {};
  const pod = params.get("pod");
  if (pod) filter.name = pod;
  const namespace = params.get("namespace");
  if (namespace) filter.namespace = namespace;
  const selector = params.get("fieldSelector");
  if (selector) {
    for (const term of selector.split(",")) {
      if (term.trim() === "") continue;
      const match = /^\s*([\w.]+)\s*==?\s*(.*?)\s*$/.exec(term);
      const field = match?.[1];
      const value = match?.[2] ?? "";
      if (field === "involvedObject.name") filter.name = value;
      else if (field === "involvedObject.namespace" || field === "metadata.namespace")
        filter.namespace = value;
      else if (field === "involvedObject.uid") filter.uid = value;
      else throw new EventFilterError(term);
    }
  }
  return filter;
}

/** A field selector the agent cannot apply. */
export class EventFilterError extends Error {
  readonly code = "InvalidFieldSelector";
  constructor(readonly term: string) {
    super(
      `field selector ${JSON.stringify(term)} is not supported: use involvedObject.name, ` +
        "involvedObject.namespace or involvedObject.uid",
    );
    this.name = "EventFilterError";
  }
}
