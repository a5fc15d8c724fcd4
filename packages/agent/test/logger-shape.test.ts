import { PassThrough } from "node:stream";
import type { Logger } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/logging.js";

describe("the agent's pino logger", () => {
  it("is a runtime-api Logger, so the libraries take it as it is", async () => {
    const destination = new PassThrough();
    const lines: string[] = [];
    destination.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
    const logger: Logger = createLogger({ pretty: false, destination });
    logger.info({ pod: "default/web" }, "started");
    logger.warn("no fields");
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.join("")).toContain('"pod":"default/web"');
    expect(lines.join("")).toContain('"msg":"no fields"');
  });
});
