import type { Container, Pod } from "@nodelet/runtime-api";
import { createManualClock } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { createPleg, type PodLifecycleEvent } from "../src/pleg.js";
import { runtimeContainer, runtimePod } from "./runtime-fixtures.js";

const c = runtimeContainer;
const pod = (id: string, containers: Container[]): Pod => runtimePod(id, containers);

describe("generic PLEG", () => {
  it("turns state changes into Started / Died / Removed events", async () => {
    let pods: Pod[] = [pod("p1", [c("a", "running")])];
    const seen: PodLifecycleEvent[] = [];
    const clock = createManualClock(0);
    const pleg = createPleg({
      runtime: { getPods: async () => pods },
      clock,
      onEvents: (e) => seen.push(...e),
    });
    await pleg.relist();
    expect(seen).toEqual([{ id: "p1", type: "ContainerStarted", data: "containerd://a" }]);
    seen.length = 0;
    await pleg.relist();
    expect(seen).toEqual([]); // nothing changed
    pods = [pod("p1", [c("a", "exited"), c("b", "running")])];
    await pleg.relist();
    expect(seen.map((e) => `${e.type}:${e.data}`)).toEqual([
      "ContainerDied:containerd://a",
      "ContainerStarted:containerd://b",
    ]);
    seen.length = 0;
    pods = [pod("p1", [c("a", "exited")])];
    await pleg.relist();
    // b vanished while running: Died is synthesised before Removed.
    expect(seen.map((e) => `${e.type}:${e.data}`)).toEqual([
      "ContainerDied:containerd://b",
      "ContainerRemoved:containerd://b",
    ]);
    seen.length = 0;
    pods = [];
    await pleg.relist();
    expect(seen.map((e) => `${e.type}:${e.data}`)).toEqual(["ContainerRemoved:containerd://a"]);
  });

  it("folds relistSoon calls during a relist into one more relist, and takes a new period at once", async () => {
    const clock = createManualClock(0);
    let relists = 0;
    let release: () => void = () => undefined;
    const pleg = createPleg({
      runtime: {
        getPods: async () => {
          relists++;
          await new Promise<void>((r) => {
            release = r;
          });
          return [];
        },
      },
      clock,
      onEvents: () => undefined,
    });
    pleg.start();
    await clock.settle();
    expect(relists).toBe(1);
    pleg.relistSoon();
    pleg.relistSoon();
    release();
    await clock.settle();
    expect(relists).toBe(2); // one more, without waiting for the period
    release();
    await clock.settle();
    expect(relists).toBe(2); // then the period
    pleg.setRelistPeriod(5000);
    await clock.advanceAsync(4999);
    expect(relists).toBe(2);
    await clock.advanceAsync(1);
    expect(relists).toBe(3);
    release();
    await pleg.stop();
  });

  it("is healthy only while relisting within the threshold", async () => {
    const clock = createManualClock(1_000_000);
    const pleg = createPleg({ runtime: { getPods: async () => [] }, clock, onEvents: () => undefined });
    expect(pleg.healthy().ok).toBe(false);
    await pleg.relist();
    expect(pleg.healthy()).toEqual({ ok: true, message: "" });
    clock.advance(3 * 60_000 + 1);
    expect(pleg.healthy()).toMatchObject({
      ok: false,
      message: expect.stringContaining("threshold is 180s"),
    });
  });
});
