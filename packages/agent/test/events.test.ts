import { createManualClock, type ObjectReference } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { createEventStore, EventFilterError, eventFilterFromQuery } from "../src/events.js";
import { createPullProgressTracker, formatPullProgress, withPullMessage } from "../src/pull-progress.js";

const podA: ObjectReference = { kind: "Pod", namespace: "default", name: "a", uid: "uid-a" };
const podAc: ObjectReference = { ...podA, fieldPath: "spec.containers{c}" };
const podB: ObjectReference = { kind: "Pod", namespace: "other", name: "b", uid: "uid-b" };

describe("event store", () => {
  it("aggregates an identical event: count and lastTimestamp move, firstTimestamp stays", () => {
    const clock = createManualClock(Date.parse("2026-12-01T10:00:00Z"));
    let n = 0;
    const store = createEventStore({ nodeName: "n1", clock, randomSuffix: () => `x${n++}` });
    store.event(podAc, "Warning", "BackOff", "Back-off restarting failed container c");
    clock.advance(30_000);
    store.event(podAc, "Warning", "BackOff", "Back-off restarting failed container c");
    store.event(podAc, "Normal", "Pulled", "already present");
    const items = store.list();
    expect(items).toHaveLength(2);
    const backOff = items.find((e) => e.reason === "BackOff");
    expect(backOff).toMatchObject({
      kind: "Event",
      apiVersion: "v1",
      count: 2,
      type: "Warning",
      firstTimestamp: "2026-12-01T10:00:00.000Z",
      lastTimestamp: "2026-12-01T10:00:30.000Z",
      involvedObject: {
        kind: "Pod",
        name: "a",
        namespace: "default",
        uid: "uid-a",
        fieldPath: "spec.containers{c}",
      },
      source: { component: "kubelet", host: "n1" },
      metadata: { name: "a.x0", namespace: "default" },
    });
  });

  it("a different message, object or type is a new event", () => {
    const store = createEventStore({ nodeName: "n1" });
    store.event(podA, "Normal", "Started", "Started container c");
    store.event(podA, "Normal", "Started", "Started container d");
    store.event(podAc, "Normal", "Started", "Started container c");
    store.event(podA, "Warning", "Started", "Started container c");
    expect(store.list()).toHaveLength(4);
  });

  it("keeps only the newest `capacity` events; a repeat counts as new", () => {
    const store = createEventStore({ nodeName: "n1", capacity: 3 });
    for (const m of ["1", "2", "3"]) store.event(podA, "Normal", "R", m);
    store.event(podA, "Normal", "R", "1"); // refreshes "1"
    store.event(podA, "Normal", "R", "4"); // evicts "2", the least recent
    expect(
      store
        .list()
        .map((e) => e.message)
        .sort(),
    ).toEqual(["1", "3", "4"]);
  });

  it("filters by pod name, namespace and uid; forwards to `next` and to subscribers", () => {
    const forwarded: string[] = [];
    const store = createEventStore({
      nodeName: "n1",
      next: { event: (_o, _t, reason) => forwarded.push(reason) },
    });
    const seen: string[] = [];
    const unsubscribe = store.subscribe((e) => seen.push(`${e.reason}:${e.count}`));
    store.event(podA, "Normal", "Created", "x");
    store.event(podB, "Normal", "Created", "x");
    store.event(podB, "Normal", "Created", "x");
    unsubscribe();
    store.event(podB, "Normal", "Killing", "x");
    expect(forwarded).toEqual(["Created", "Created", "Created", "Killing"]);
    expect(seen).toEqual(["Created:1", "Created:1", "Created:2"]);
    expect(store.list({ name: "b" }).map((e) => e.reason)).toEqual(["Created", "Killing"]);
    expect(store.list({ namespace: "default" })).toHaveLength(1);
    expect(store.list({ uid: "uid-b", name: "a" })).toHaveLength(0);
    const list = store.toList({ name: "a" });
    expect(list).toMatchObject({ kind: "EventList", apiVersion: "v1", items: [{ reason: "Created" }] });
    expect(Number(list.metadata.resourceVersion)).toBe(store.resourceVersion);
  });

  it("reads ?pod=, ?namespace= and kubectl's fieldSelector; refuses other selector fields", () => {
    expect(eventFilterFromQuery(new URLSearchParams("pod=a&namespace=ns"))).toEqual({
      name: "a",
      namespace: "ns",
    });
    expect(
      eventFilterFromQuery(
        new URLSearchParams(
          "fieldSelector=involvedObject.name=a,involvedObject.namespace=ns,involvedObject.uid=u",
        ),
      ),
    ).toEqual({ name: "a", namespace: "ns", uid: "u" });
    expect(eventFilterFromQuery(new URLSearchParams("fieldSelector=involvedObject.name==a"))).toEqual({
      name: "a",
    });
    let error: unknown;
    try {
      eventFilterFromQuery(new URLSearchParams("fieldSelector=reason=BackOff"));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EventFilterError);
    expect(error).toMatchObject({ code: "InvalidFieldSelector", term: "reason=BackOff" });
  });
});

describe("pull progress", () => {
  it("formats bytes and layers when known, elapsed time always", () => {
    expect(formatPullProgress({ image: "busybox", elapsedMs: 12_400 })).toBe(
      'Pulling image "busybox": 12s elapsed',
    );
    expect(
      formatPullProgress({
        image: "x",
        elapsedMs: 3000,
        bytesDone: 1_500_000,
        bytesTotal: 2_100_000,
        layersDone: 1,
        layersTotal: 2,
      }),
    ).toBe('Pulling image "x": 1.4 MiB of 2 MiB, 1/2 layers, 3s elapsed');
  });

  it("records a Pulling event and the pod's message until the pull ends", () => {
    const store = createEventStore({ nodeName: "n1" });
    const tracker = createPullProgressTracker(store);
    const recorder = tracker.recorder(store);
    tracker.onPullProgress({ image: "busybox", elapsedMs: 10_000 }, podAc);
    expect(tracker.message("uid-a")).toBe('Pulling image "busybox": 10s elapsed');
    expect(store.list({ name: "a" }).map((e) => e.reason)).toEqual(["Pulling"]);
    const pod = {
      metadata: { name: "a", uid: "uid-a" },
      spec: { containers: [] },
      status: { phase: "Pending" as const },
    };
    expect(withPullMessage(pod, tracker.message("uid-a")).status?.message).toContain("10s elapsed");
    expect(withPullMessage(pod, undefined)).toBe(pod);
    recorder.event(podAc, "Normal", "Pulled", "Successfully pulled image");
    expect(tracker.message("uid-a")).toBeUndefined();
    tracker.onPullProgress({ image: "busybox", elapsedMs: 1 }, podAc);
    recorder.event(podAc, "Warning", "Failed", "Failed to pull image");
    expect(tracker.message("uid-a")).toBeUndefined();
  });
});
