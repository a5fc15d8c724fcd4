import type { Container, Pod } from "@nodelet/runtime-api";
import { createManualClock } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { orphanCandidates } from "../src/orphans.js";
import { createPleg } from "../src/pleg.js";
import { runtimeContainer, runtimePod } from "./runtime-fixtures.js";

const pod = (id: string, container: Container["state"], sandbox: Container["state"]): Pod =>
  runtimePod(id, [runtimeContainer(`${id}-app`, container)], [runtimeContainer(`${id}-sandbox`, sandbox)]);

describe("orphanCandidates", () => {
  it("takes running pods nobody knows, and leaves known and fully stopped ones", () => {
    const pods = [
      pod("known", "running", "running"),
      pod("stray", "running", "running"),
      pod("stray-sandbox", "exited", "running"),
      pod("stopped", "exited", "exited"),
    ];
    const out = orphanCandidates({ pods, listedAt: 10, known: (u) => u === "known", actedAt: new Map() });
    expect(out.map((p) => p.id)).toEqual(["stray", "stray-sandbox"]);
  });

  it("skips a pod killed after the relist started, until a relist that started after the kill", () => {
    const actedAt = new Map([["gone", 1500]]);
    const stale = [pod("gone", "running", "running")]; // listed at 1000, during the kill
    const known = () => false;
    expect(orphanCandidates({ pods: stale, listedAt: 1000, known, actedAt })).toEqual([]);
    expect(actedAt.has("gone")).toBe(true);
    // A relist that started after the kill ended and still sees it running: a real orphan now.
    expect(orphanCandidates({ pods: stale, listedAt: 2000, known, actedAt }).map((p) => p.id)).toEqual([
      "gone",
    ]);
    expect(actedAt.size).toBe(0);
  });

  it("works from the PLEG's podsListedAt: the start of the relist behind pods()", async () => {
    const clock = createManualClock(5000);
    const pleg = createPleg({
      runtime: {
        getPods: async () => {
          clock.advance(30); // the relist takes 30 ms
          return [pod("gone", "running", "running")];
        },
      },
      clock,
      onEvents: () => {},
    });
    expect(pleg.podsListedAt()).toBeUndefined();
    await pleg.relist();
    expect(pleg.podsListedAt()).toBe(5000);
    const actedAt = new Map([["gone", 5010]]); // the kill ended while that relist ran
    expect(
      orphanCandidates({ pods: pleg.pods(), listedAt: pleg.podsListedAt(), known: () => false, actedAt }),
    ).toEqual([]);
  });
});
