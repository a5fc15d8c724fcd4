import { ContainerConfig, ImageSpec, PodSandboxConfig } from "@nodelet/cri-api";
import { createFakeRuntime } from "@nodelet/cri-testing";
import { createManualClock, ErrorCode, isNodeletError } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import {
  createEventedPleg,
  EVENTED_RELIST_PERIOD_MS,
  MAX_STREAM_RETRIES,
  type PlegMode,
} from "../src/evented-pleg.js";
import { createPleg } from "../src/pleg.js";

function setup() {
  const clock = createManualClock(1_000_000);
  const fake = createFakeRuntime({ clock });
  let relists = 0;
  const pleg = createPleg({
    runtime: {
      getPods: async () => {
        relists++;
        return [];
      },
    },
    clock,
    onEvents: () => undefined,
  });
  const modes: PlegMode[] = [];
  const errors: unknown[] = [];
  const evented = createEventedPleg({
    runtimeService: fake,
    pleg,
    clock,
    onModeChange: (mode) => modes.push(mode),
    onStreamError: (err) => errors.push(err),
  });
  return { clock, fake, pleg, evented, modes, errors, relists: () => relists };
}

async function startContainer(fake: ReturnType<typeof createFakeRuntime>, name: string) {
  const image = ImageSpec.fromPartial({ image: "127.0.0.1:5000/app:1" });
  await fake.pullImage(image, undefined, undefined);
  const pod = PodSandboxConfig.fromPartial({ metadata: { name, namespace: "default", uid: name } });
  const sandboxId = await fake.runPodSandbox(pod, "");
  const id = await fake.createContainer(
    sandboxId,
    ContainerConfig.fromPartial({ metadata: { name }, image }),
    pod,
  );
  await fake.startContainer(id);
}

describe("evented PLEG", () => {
  it("keeps the generic 1 s relist when the runtime answers Unimplemented, and does not retry", async () => {
    const t = setup();
    t.fake.injectFault("GetContainerEvents", { code: ErrorCode.Unimplemented, message: "unknown method" });
    t.pleg.start();
    t.evented.start();
    await t.clock.settle();
    expect(t.evented.mode()).toBe("generic");
    expect(t.errors.length).toBe(1);
    expect(isNodeletError(t.errors[0], ErrorCode.Unimplemented)).toBe(true);
    const before = t.relists();
    await t.clock.advanceAsync(5000);
    expect(t.relists() - before).toBeGreaterThanOrEqual(4); // every second
    expect(t.fake.calls("GetContainerEvents").length).toBe(1);
    await t.evented.stop();
    await t.pleg.stop();
  });

  it("slows the relist to 300 s while events flow, and relists at once on a container event", async () => {
    const t = setup();
    t.pleg.start();
    t.evented.start();
    await t.clock.settle();
    expect(t.evented.mode()).toBe("generic"); // not trusted yet
    await t.clock.advanceAsync(1000); // the stream stayed up: trusted
    expect(t.evented.mode()).toBe("evented");
    expect(t.modes).toEqual(["evented"]);
    await t.clock.settle();
    const quiet = t.relists();
    await t.clock.advanceAsync(60_000);
    expect(t.relists()).toBe(quiet); // no event, no relist within the 300 s period
    await startContainer(t.fake, "a");
    await t.clock.settle();
    expect(t.relists()).toBeGreaterThan(quiet); // woken without the clock moving
    const woken = t.relists();
    await t.clock.advanceAsync(EVENTED_RELIST_PERIOD_MS);
    expect(t.relists()).toBeGreaterThan(woken); // the slow relist still runs
    expect(t.pleg.healthy().ok).toBe(true);
    await t.evented.stop();
    await t.pleg.stop();
  });

  it("falls back to the generic relist after the stream fails 5 times in a row", async () => {
    const t = setup();
    t.fake.injectFault("GetContainerEvents", { code: ErrorCode.RuntimeUnavailable, message: "stream broke" });
    t.pleg.start();
    t.evented.start();
    for (let i = 0; i < 10; i++) await t.clock.advanceAsync(1000);
    expect(t.fake.calls("GetContainerEvents").length).toBe(MAX_STREAM_RETRIES);
    expect(t.errors.length).toBe(MAX_STREAM_RETRIES);
    expect(t.evented.mode()).toBe("generic");
    const before = t.relists();
    await t.clock.advanceAsync(3000);
    expect(t.relists() - before).toBeGreaterThanOrEqual(2);
    await t.evented.stop();
    await t.pleg.stop();
  });

  it("goes back to the 1 s relist when a trusted stream breaks", async () => {
    const clock = createManualClock(0);
    let relists = 0;
    const pleg = createPleg({
      runtime: {
        getPods: async () => {
          relists++;
          return [];
        },
      },
      clock,
      onEvents: () => undefined,
    });
    let breakStream: (err: Error) => void = () => undefined;
    const evented = createEventedPleg({
      runtimeService: {
        async *getContainerEvents(_request, options) {
          await new Promise<void>((_resolve, reject) => {
            breakStream = reject;
            options?.signal?.addEventListener("abort", () => reject(new Error("cancelled")));
          });
        },
      },
      pleg,
      clock,
    });
    pleg.start();
    evented.start();
    await clock.advanceAsync(1000);
    expect(evented.mode()).toBe("evented");
    const before = relists;
    breakStream(new Error("connection reset"));
    await clock.settle();
    expect(evented.mode()).toBe("generic");
    expect(relists).toBeGreaterThan(before); // a relist at once for what the stream may have missed
    await clock.advanceAsync(2000);
    expect(relists).toBeGreaterThan(before + 1);
    await evented.stop();
    await pleg.stop();
  });
});
