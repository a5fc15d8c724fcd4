import { EventEmitter } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { EXIT_FORCED, installShutdown } from "../src/shutdown.js";

function setup(stop: () => Promise<void>) {
  const signals = new EventEmitter();
  const exit = vi.fn();
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  installShutdown({ signals: signals as never, stop, exit, logger });
  return { signals, exit, logger };
}

describe("shutdown on signals", () => {
  it("the first signal stops the agent and exits 0 once it stopped", async () => {
    let stopped!: () => void;
    const stop = vi.fn(() => new Promise<void>((r) => (stopped = r)));
    const { signals, exit } = setup(stop);
    signals.emit("SIGTERM");
    expect(stop).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled(); // waits for work in flight
    stopped();
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0));
  });

  it("a second signal exits at once with 128 + its number, even while stop() hangs (a preStop hook)", () => {
    const stop = vi.fn(() => new Promise<void>(() => {}));
    const { signals, exit, logger } = setup(stop);
    signals.emit("SIGINT");
    signals.emit("SIGINT");
    expect(exit).toHaveBeenCalledWith(130);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledWith(expect.objectContaining({ exitCode: 130 }), expect.any(String));
    signals.emit("SIGTERM");
    expect(exit).toHaveBeenLastCalledWith(EXIT_FORCED.SIGTERM);
    expect(EXIT_FORCED).toEqual({ SIGINT: 130, SIGTERM: 143 });
  });

  it("a failed stop exits 1", async () => {
    const { signals, exit } = setup(() => Promise.reject(new Error("boom")));
    signals.emit("SIGTERM");
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1));
  });
});
