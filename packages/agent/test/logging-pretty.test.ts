// pino-pretty is optional: without it the agent logs JSON instead of failing.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, resolvePinoPretty } from "../src/logging.js";

function notFound(id: string): string {
  throw Object.assign(new Error(`Cannot find module '${id}'`), { code: "MODULE_NOT_FOUND" });
}

describe("pino-pretty as an optional dependency", () => {
  it("is found where it is installed (this workspace)", () => {
    expect(resolvePinoPretty()).toMatch(/pino-pretty/);
  });

  it("is undefined when not installed, and other resolution failures are not hidden", () => {
    expect(resolvePinoPretty(notFound)).toBeUndefined();
    const broken = () => {
      throw Object.assign(new Error("permission denied"), { code: "EACCES" });
    };
    expect(() => resolvePinoPretty(broken)).toThrow("permission denied");
  });

  it("falls back to JSON lines, saying so, when pretty output is asked for without it", async () => {
    const destination = new PassThrough();
    const lines: string[] = [];
    destination.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
    const logger = createLogger({ pretty: true, destination, resolveModule: notFound });
    logger.info({ pod: "default/web" }, "started");
    await new Promise((resolve) => setImmediate(resolve));
    const records = lines
      .join("")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => r.msg)).toEqual(["pino-pretty is not installed: logging JSON", "started"]);
    expect(records[1]?.pod).toBe("default/web");
  });
});
