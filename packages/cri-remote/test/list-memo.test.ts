import { Container, ContainerFilter, ContainerState, ListContainersResponse } from "@nodelet/cri-api";
import { afterEach, describe, expect, it } from "vitest";
import { createRemoteRuntimeService } from "../src/index.js";
import { ListItemMemo } from "../src/list-memo.js";
import { type FakeServer, startFakeServer, v1Version } from "./support/fake-runtime.js";

const container = (id: string, state = ContainerState.CONTAINER_RUNNING, reversedMaps = false) => {
  const labels: [string, string][] = [
    ["io.kubernetes.pod.uid", `uid-${id}`],
    ["io.kubernetes.container.name", `c-${id}`],
  ];
  const annotations: [string, string][] = [
    ["io.kubernetes.container.restartCount", "0"],
    ["io.kubernetes.container.hash", "96e48218"],
  ];
  // ts-proto writes map entries in insertion order; containerd's order changes from call to call.
  const map = (entries: [string, string][]) => Object.fromEntries(reversedMaps ? entries.reverse() : entries);
  return Container.fromPartial({
    id,
    podSandboxId: `sb-${id}`,
    metadata: { name: `c-${id}`, attempt: 0 },
    state,
    createdAt: 1_700_000_000_000_000_000n,
    labels: map(labels),
    annotations: map(annotations),
  });
};

const encode = (containers: Container[]) =>
  Buffer.from(ListContainersResponse.encode({ containers }).finish());

describe("ListItemMemo", () => {
  it("decodes like ts-proto, reuses unchanged items in any order and decodes changed ones", () => {
    const memo = new ListItemMemo((bytes) => Container.decode(bytes), [8, 9]);
    const [a, b, c] = [container("a"), container("b"), container("c")];
    const first = memo.decode(encode([a, b, c]), true);
    expect(first).toEqual(ListContainersResponse.decode(encode([a, b, c])).containers);

    const bExited = container("b", ContainerState.CONTAINER_EXITED);
    const aReordered = container("a", ContainerState.CONTAINER_RUNNING, true);
    expect(encode([aReordered]).equals(encode([a]))).toBe(false);
    const second = memo.decode(encode([c, bExited, aReordered]), true);
    expect(second[0]).toBe(first[2]);
    expect(second[2]).toBe(first[0]);
    expect(second[1]).not.toBe(first[1]);
    expect(second[1]?.state).toBe(ContainerState.CONTAINER_EXITED);

    // Labels and annotations are not compared (CRI cannot change them); every other field is.
    const moved = { ...a, podSandboxId: "another", createdAt: a.createdAt + 1n };
    const third = memo.decode(encode([moved]), true);
    expect(third[0]).not.toBe(second[2]);
    expect(third[0]?.podSandboxId).toBe("another");
  });

  it("forgets items an unfiltered list no longer has; a filtered list neither reads nor changes the memo", () => {
    const memo = new ListItemMemo((bytes) => Container.decode(bytes), [8, 9]);
    const [a, b] = [container("a"), container("b")];
    const first = memo.decode(encode([a, b]), true);
    expect(memo.size).toBe(2);

    const filtered = memo.decode(encode([a]), false);
    expect(filtered[0]).not.toBe(first[0]);
    expect(Object.isFrozen(filtered[0])).toBe(false);
    expect(memo.size).toBe(2);

    memo.decode(encode([b]), true);
    expect(memo.size).toBe(1);
    expect(memo.decode(encode([a]), true)[0]).not.toBe(first[0]);
  });

  it("freezes what it shares, so a caller cannot change what later lists return", () => {
    const memo = new ListItemMemo((bytes) => Container.decode(bytes), [8, 9]);
    const [item] = memo.decode(encode([container("a")]), true);
    expect(() => {
      (item as Container).labels.extra = "x";
    }).toThrow(TypeError);
    expect(() => {
      (item as Container).state = ContainerState.CONTAINER_EXITED;
    }).toThrow(TypeError);
  });

  it("skips fields it does not know and rejects a truncated message", () => {
    const memo = new ListItemMemo((bytes) => Container.decode(bytes), [8, 9]);
    const unknown = Buffer.from([0x10, 0x2a, 0x1a, 0x01, 0x00]); // field 2 varint 42, field 3 one byte
    const list = memo.decode(Buffer.concat([unknown, encode([container("a")])]), true);
    expect(list.map((c) => c.id)).toEqual(["a"]);
    const whole = encode([container("a")]);
    expect(() => memo.decode(whole.subarray(0, whole.length - 3), true)).toThrow(
      expect.objectContaining({
        code: "InvalidResponse",
        message: expect.stringContaining("a list response"),
      }),
    );
  });
});

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe("listContainers through the memo", () => {
  it("answers an unchanged container with the same frozen object; a filtered list with fresh ones", async () => {
    let order = [container("a"), container("b")];
    server = await startFakeServer({
      runtime: {
        version: () => v1Version,
        listContainers: () => {
          order = [...order].reverse();
          return { containers: order };
        },
      },
    });
    const runtime = await createRemoteRuntimeService(server.endpoint);
    try {
      const first = await runtime.listContainers();
      const second = await runtime.listContainers();
      expect(second.map((c) => c.id)).toEqual([...first.map((c) => c.id)].reverse());
      expect(second[0]).toBe(first[1]);
      expect(Object.isFrozen(second[0])).toBe(true);
      const filtered = await runtime.listContainers(ContainerFilter.fromPartial({ id: "a" }));
      expect(filtered.every((c) => !first.includes(c))).toBe(true);
      expect(await runtime.listContainers(ContainerFilter.fromPartial({}))).toContain(first[0]);
    } finally {
      runtime.close?.();
    }
  });
});
