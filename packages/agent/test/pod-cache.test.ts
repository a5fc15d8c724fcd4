import { PodSandboxState, type PodSandboxStatus } from "@nodelet/cri-api";
import { type ContainerStatus, createManualClock, type Pod, type PodStatus } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { createPodCache, reflects } from "../src/pod-cache.js";
import { runtimeContainer, runtimePod } from "./runtime-fixtures.js";

function fakeRuntime(clock: { now(): number }) {
  let version = 0;
  const calls: string[] = [];
  let gate: Promise<void> | undefined;
  return {
    calls,
    bump: () => version++,
    hold(p: Promise<void>) {
      gate = p;
    },
    getPodStatus: async (uid: string, name: string, namespace: string): Promise<PodStatus> => {
      calls.push(uid);
      const seen = version; // the runtime's state when the read lists it
      const at = clock.now();
      if (gate) await gate;
      return {
        id: uid,
        name,
        namespace,
        ips: [`v${seen}`],
        containerStatuses: [],
        sandboxStatuses: [],
        timestamp: at,
      };
    },
  };
}

describe("pod cache", () => {
  it("reads a pod once and serves it until the PLEG sees a change", async () => {
    const clock = createManualClock(1000);
    const runtime = fakeRuntime(clock);
    const cache = createPodCache({ runtime, clock });
    expect((await cache.get("u1", "a", "default")).ips).toEqual(["v0"]);
    expect((await cache.get("u1", "a", "default")).ips).toEqual(["v0"]);
    expect(runtime.calls).toEqual(["u1"]);
    clock.advance(5);
    runtime.bump();
    cache.invalidate("u1", clock.now());
    clock.advance(1);
    expect((await cache.get("u1", "a", "default")).ips).toEqual(["v1"]);
    expect((await cache.get("u1", "a", "default")).ips).toEqual(["v1"]);
    expect(cache.reads()).toBe(2);
    // A read in the same millisecond as the relist that saw a change may have listed before it:
    // it answers its caller but the next get reads again.
    cache.invalidate("u1", clock.now());
    await cache.get("u1", "a", "default");
    await cache.get("u1", "a", "default");
    expect(cache.reads()).toBe(4);
  });

  it("keeps a read that started before the change from being served again", async () => {
    const clock = createManualClock(1000);
    const runtime = fakeRuntime(clock);
    const cache = createPodCache({ runtime, clock });
    let release: () => void = () => undefined;
    runtime.hold(
      new Promise<void>((r) => {
        release = r;
      }),
    );
    const inFlight = cache.get("u1", "a", "default");
    clock.advance(10);
    runtime.bump();
    cache.invalidate("u1", clock.now()); // the relist saw the change while the read was out
    release();
    expect((await inFlight).ips).toEqual(["v0"]); // the caller gets what it asked for...
    runtime.hold(Promise.resolve());
    clock.advance(1);
    expect((await cache.get("u1", "a", "default")).ips).toEqual(["v1"]); // ...but it is not cached
    expect(runtime.calls).toEqual(["u1", "u1"]);
  });

  it("refresh reads now, and delete forgets the pod", async () => {
    const clock = createManualClock(1000);
    const runtime = fakeRuntime(clock);
    const cache = createPodCache({ runtime, clock });
    await cache.get("u1", "a", "default");
    runtime.bump();
    clock.advance(1);
    expect((await cache.refresh("u1", "a", "default")).ips).toEqual(["v1"]);
    expect((await cache.get("u1", "a", "default")).ips).toEqual(["v1"]);
    expect(cache.size()).toBe(1);
    cache.delete("u1");
    expect(cache.size()).toBe(0);
    await cache.get("u1", "a", "default");
    expect(runtime.calls).toEqual(["u1", "u1", "u1"]);
  });

  it("takes a new pod's status as empty when a listing had none of it, and reads once it acted", async () => {
    const clock = createManualClock(1000);
    const runtime = fakeRuntime(clock);
    let absent: number | undefined = 900; // a relist that started at 900 had nothing of u1
    const cache = createPodCache({ runtime, clock, absentSince: () => absent });
    const first = await cache.get("u1", "a", "default");
    expect(first).toMatchObject({
      id: "u1",
      ips: [],
      containerStatuses: [],
      sandboxStatuses: [],
      timestamp: 900,
    });
    expect(runtime.calls).toEqual([]);
    // The sync created something: it refreshes, and the refreshed status is served from then on.
    absent = undefined;
    expect((await cache.refresh("u1", "a", "default")).ips).toEqual(["v0"]);
    expect((await cache.get("u1", "a", "default")).ips).toEqual(["v0"]);
    // No evidence: a read.
    expect((await cache.get("u2", "b", "default")).ips).toEqual(["v0"]);
    expect(runtime.calls).toEqual(["u1", "u2"]);
  });

  it("does not take a listing older than a change the PLEG saw as evidence of absence", async () => {
    const clock = createManualClock(1000);
    const runtime = fakeRuntime(clock);
    const cache = createPodCache({ runtime, clock, absentSince: () => 900 });
    cache.invalidate("u1", 950);
    expect((await cache.get("u1", "a", "default")).ips).toEqual(["v0"]);
    expect(runtime.calls).toEqual(["u1"]);
  });

  it("keeps a status that already shows what the relist saw, and drops one that does not", async () => {
    const clock = createManualClock(1000);
    const runtime = fakeRuntime(clock);
    const cache = createPodCache({ runtime, clock });
    const cached = await cache.get("u1", "a", "default");
    // The fake's statuses have no containers or sandboxes: a relist with none reflects it.
    clock.advance(10);
    cache.invalidate("u1", clock.now(), { ...observedPod(), containers: [], sandboxes: [] });
    clock.advance(1);
    expect(await cache.get("u1", "a", "default")).toBe(cached);
    expect(runtime.calls).toEqual(["u1"]);
    // A relist showing a container the status does not have: read again.
    cache.invalidate("u1", clock.now(), observedPod());
    clock.advance(1);
    await cache.get("u1", "a", "default");
    expect(runtime.calls).toEqual(["u1", "u1"]);
  });

  it("keeps a read that was out while a relist ended when it shows what that relist saw, or later", async () => {
    const clock = createManualClock(1000);
    const ready = PodSandboxState.SANDBOX_READY;
    let answer = statusOf([["c1", "running"]], [["s1", ready]]);
    let gate: Promise<void> = Promise.resolve();
    let reads = 0;
    const runtime = {
      getPodStatus: async () => {
        reads++;
        const status = answer; // what the runtime shows when the read lists it
        await gate;
        return status;
      },
    };
    const cache = createPodCache({ runtime, clock });
    const hold = () => {
      let release: () => void = () => undefined;
      gate = new Promise<void>((r) => {
        release = r;
      });
      return () => release();
    };
    const listed = (state: "created" | "running" | "exited"): Pod => ({
      ...runtimePod("u1", [runtimeContainer("c1", state)], [runtimeContainer("s1", "running")]),
      name: "a",
    });

    // The sync refreshes after starting c1; a relist that listed c1 before the start ends while
    // that read is out. The read shows c1 running, past what the relist saw: it stays.
    let release = hold();
    const afterStart = cache.refresh("u1", "a", "default");
    clock.advance(5);
    cache.invalidate("u1", clock.now(), listed("created"));
    release();
    await afterStart;
    clock.advance(1);
    expect(await cache.get("u1", "a", "default")).toBe(await afterStart);
    expect(reads).toBe(1);

    // A relist that saw c1 exit ends while a read that listed it running is out: read again.
    release = hold();
    const before = cache.refresh("u1", "a", "default");
    clock.advance(5);
    cache.invalidate("u1", clock.now(), listed("exited"));
    answer = statusOf([["c1", "exited"]], [["s1", ready]]);
    release();
    expect((await before).containerStatuses[0]?.state).toBe("running");
    gate = Promise.resolve();
    clock.advance(1);
    expect((await cache.get("u1", "a", "default")).containerStatuses[0]?.state).toBe("exited");
    expect(reads).toBe(3);

    // A relist that listed nothing of the pod proves nothing about a read out meanwhile.
    release = hold();
    const gone = cache.refresh("u1", "a", "default");
    clock.advance(5);
    cache.invalidate("u1", clock.now());
    release();
    await gone;
    clock.advance(1);
    await cache.get("u1", "a", "default");
    expect(reads).toBe(5);
  });
});

function observedPod(): Pod {
  const pod = runtimePod(
    "u1",
    [runtimeContainer("c2", "running"), runtimeContainer("c1", "exited")],
    [runtimeContainer("s1", "running")],
  );
  return { ...pod, name: "a" };
}

function statusOf(
  containers: [string, ContainerStatus["state"]][],
  sandboxes: [string, PodSandboxState][],
): PodStatus {
  return {
    id: "u1",
    name: "a",
    namespace: "default",
    ips: [],
    containerStatuses: containers.map(
      ([id, state]) => ({ id: { type: "containerd", id }, state }) as ContainerStatus,
    ),
    sandboxStatuses: sandboxes.map(([id, state]) => ({ id, state }) as PodSandboxStatus),
    timestamp: 0,
  };
}

describe("reflects", () => {
  const ready = PodSandboxState.SANDBOX_READY;
  it("is true only for the same containers and sandboxes, each container in the same state or a later one", () => {
    const pod = observedPod();
    expect(
      reflects(
        statusOf(
          [
            ["c1", "exited"],
            ["c2", "running"],
          ],
          [["s1", ready]],
        ),
        pod,
      ),
    ).toBe(true);
    // The sync read the container as created, the relist saw it running.
    expect(
      reflects(
        statusOf(
          [
            ["c1", "exited"],
            ["c2", "created"],
          ],
          [["s1", ready]],
        ),
        pod,
      ),
    ).toBe(false);
    // A container the status lacks, or one the relist no longer has.
    expect(reflects(statusOf([["c2", "running"]], [["s1", ready]]), pod)).toBe(false);
    expect(
      reflects(
        statusOf(
          [
            ["c1", "exited"],
            ["c2", "running"],
            ["c3", "exited"],
          ],
          [["s1", ready]],
        ),
        pod,
      ),
    ).toBe(false);
    // The other way round: the relist listed c2 while the sync was starting it (created), the
    // status was read after the start (running). The status is the newer view.
    const seenCreated: Pod = {
      ...pod,
      containers: [runtimeContainer("c2", "created"), runtimeContainer("c1", "exited")],
    };
    const statusRunning = statusOf(
      [
        ["c1", "exited"],
        ["c2", "running"],
      ],
      [["s1", ready]],
    );
    expect(reflects(statusRunning, seenCreated)).toBe(true);
    // Running seen, exited read: newer too. Unknown is in no order: only equal to itself.
    const exitedRead = statusOf(
      [
        ["c1", "exited"],
        ["c2", "exited"],
      ],
      [["s1", ready]],
    );
    expect(reflects(exitedRead, pod)).toBe(true);
    const seenUnknown: Pod = {
      ...pod,
      containers: [runtimeContainer("c2", "unknown"), runtimeContainer("c1", "exited")],
    };
    expect(reflects(statusRunning, seenUnknown)).toBe(false);
    const unknownRead = statusOf(
      [
        ["c1", "exited"],
        ["c2", "unknown"],
      ],
      [["s1", ready]],
    );
    expect(reflects(unknownRead, pod)).toBe(false);
    expect(reflects(unknownRead, seenUnknown)).toBe(true);
    // The sandbox stopped.
    expect(
      reflects(
        statusOf(
          [
            ["c1", "exited"],
            ["c2", "running"],
          ],
          [["s1", PodSandboxState.SANDBOX_NOTREADY]],
        ),
        pod,
      ),
    ).toBe(false);
  });
});
