import { describe, expect, it } from "vitest";
import { DEFAULT_GC_POLICY, evictableContainers, selectContainers, selectSandboxes } from "../src/index.js";
import { container, sandbox } from "./support.js";

const ids = (list: { id: string }[]) => list.map((c) => c.id);

describe("evictableContainers", () => {
  it("groups dead containers older than minAge by pod UID and name, newest first", () => {
    const a0 = container("uid-a", "app", 1000);
    const a1 = container("uid-a", "app", 3000);
    const a2 = container("uid-a", "app", 2000, "created");
    const running = container("uid-a", "app", 4000, "running");
    const young = container("uid-a", "app", 9500);
    const sameNameOtherPod = container("uid-b", "app", 1500);
    const units = evictableContainers([a0, a1, a2, running, young, sameNameOtherPod], 1000, 10_000);
    expect([...units.keys()].length).toBe(2);
    expect(ids(units.get("uid-a\u0000app") ?? [])).toEqual(ids([a1, a2, a0]));
    expect(ids(units.get("uid-b\u0000app") ?? [])).toEqual(ids([sameNameOtherPod]));
  });
});

describe("selectContainers", () => {
  const none = () => false;

  it("keeps exactly the newest dead instance per container with the defaults", () => {
    const list = [1, 2, 3, 4, 5].map((t) => container("uid-a", "app", t * 1000));
    const init = [1, 2].map((t) => container("uid-a", "init", t * 1000));
    const units = evictableContainers([...list, ...init], 0, 10_000);
    const { remove, kept } = selectContainers(units, DEFAULT_GC_POLICY, true, none);
    expect(ids(remove).sort()).toEqual(ids([...list.slice(0, 4), init[0] as never]).sort());
    expect(ids(kept.get("uid-a\u0000app") ?? [])).toEqual(ids([list[4] as never]));
    expect(ids(kept.get("uid-a\u0000init") ?? [])).toEqual(ids([init[1] as never]));
  });

  it("removes every container of a deleted pod, only once every source has been read", () => {
    const gone = [1, 2].map((t) => container("uid-gone", "app", t * 1000));
    const units = () => evictableContainers(gone, 0, 10_000);
    const deleted = (uid: string) => uid === "uid-gone";
    expect(selectContainers(units(), DEFAULT_GC_POLICY, false, deleted).remove.length).toBe(1);
    const all = selectContainers(units(), DEFAULT_GC_POLICY, true, deleted);
    expect(ids(all.remove)).toEqual(ids([gone[0] as never, gone[1] as never]));
    expect(all.kept.size).toBe(0);
  });

  it("shares maxContainers fairly between pods, then removes the oldest, never a unit's newest", () => {
    // Pod a has 6 dead instances, pods b and c have 2 each; at most 6 on the node.
    const a = [1, 2, 3, 4, 5, 6].map((t) => container("uid-a", "app", t * 1000));
    const b = [1.5, 2.5].map((t) => container("uid-b", "app", t * 1000));
    const c = [7, 8].map((t) => container("uid-c", "app", t * 1000));
    const policy = { minAgeMs: 0, maxPerPodContainer: -1, maxContainers: 6 };
    const { kept } = selectContainers(
      evictableContainers([...a, ...b, ...c], 0, 10_000),
      policy,
      true,
      () => false,
    );
    expect(ids(kept.get("uid-a\u0000app") ?? [])).toEqual(ids([a[5], a[4]] as never));
    expect(ids(kept.get("uid-b\u0000app") ?? [])).toEqual(ids([b[1], b[0]] as never));
    expect(ids(kept.get("uid-c\u0000app") ?? [])).toEqual(ids([c[1], c[0]] as never));

    // With 2 for 3 units the share is 1 each, and the newest of each stays even beyond the limit.
    const tight = selectContainers(
      evictableContainers([...a, ...b, ...c], 0, 10_000),
      { ...policy, maxContainers: 2 },
      true,
      () => false,
    );
    expect([...tight.kept.values()].map((u) => u.length)).toEqual([1, 1, 1]);
    expect(ids(tight.kept.get("uid-a\u0000app") ?? [])).toEqual(ids([a[5]] as never));
  });

  it("trims the globally oldest after the fair share", () => {
    const a = [1, 2, 3].map((t) => container("uid-a", "app", t * 1000));
    const b = [4, 5, 6].map((t) => container("uid-b", "app", t * 1000));
    // share = floor(5/2) = 2 each -> 4 kept, within 5: nothing more goes.
    const policy = { minAgeMs: 0, maxPerPodContainer: -1, maxContainers: 5 };
    const r = selectContainers(evictableContainers([...a, ...b], 0, 10_000), policy, true, () => false);
    expect(ids(r.remove).sort()).toEqual(ids([a[0], b[0]] as never).sort());
    // maxContainers 3 over a unit of 3 and a unit of 1: the share is max(1, 3/2) = 1 per unit.
    const c = [1, 2, 3].map((t) => container("uid-c", "app", t * 1000));
    const d = [container("uid-d", "app", 500)];
    const r2 = selectContainers(
      evictableContainers([...c, ...d], 0, 10_000),
      { minAgeMs: 0, maxPerPodContainer: 3, maxContainers: 3 },
      true,
      () => false,
    );
    expect(ids(r2.remove)).toEqual(ids([c[0], c[1]] as never));
  });
});

describe("selectSandboxes", () => {
  it("keeps the newest sandbox of a pod that exists and never an active one", () => {
    const old = sandbox("uid-a", "sb-old", 1000);
    const oldReady = sandbox("uid-a", "sb-old-ready", 1500, true);
    const withContainer = sandbox("uid-a", "sb-busy", 2000);
    const newest = sandbox("uid-a", "sb-new", 3000);
    const c = container("uid-a", "app", 2500, "exited", "sb-busy");
    const remove = selectSandboxes([old, oldReady, withContainer, newest], [c], true, () => false);
    expect(ids(remove)).toEqual(["sb-old"]);
  });

  it("removes every inactive sandbox of a deleted pod, only when every source has been read", () => {
    const a = sandbox("uid-gone", "sb-1", 1000);
    const b = sandbox("uid-gone", "sb-2", 2000);
    const deleted = () => true;
    expect(ids(selectSandboxes([a, b], [], true, deleted))).toEqual(["sb-1", "sb-2"]);
    expect(ids(selectSandboxes([a, b], [], false, deleted))).toEqual(["sb-1"]);
    const c = container("uid-gone", "app", 2500, "exited", "sb-2");
    expect(ids(selectSandboxes([a, b], [c], true, deleted))).toEqual(["sb-1"]);
  });
});
