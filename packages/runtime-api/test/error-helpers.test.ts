import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  errnoCode,
  errorChain,
  errorChainMessage,
  errorMessage,
  NodeletError,
} from "../src/index.js";

function errno(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe("error helpers", () => {
  it("errorMessage takes an Error's message or the value as text", () => {
    expect(errorMessage(new Error("boom"))).toBe("boom");
    expect(errorMessage("plain")).toBe("plain");
    expect(errorMessage(42)).toBe("42");
  });

  it("errnoCode finds a Node error code on the error or a cause, and ignores other codes", () => {
    expect(errnoCode(errno("ENOENT"))).toBe("ENOENT");
    expect(errnoCode(new Error("fetch failed", { cause: errno("ECONNREFUSED") }))).toBe("ECONNREFUSED");
    expect(errnoCode(errno("ERR_SSL_WRONG_VERSION_NUMBER"))).toBe("ERR_SSL_WRONG_VERSION_NUMBER");
    expect(errnoCode(new NodeletError(ErrorCode.NotFound, "gone"))).toBeUndefined();
    expect(errnoCode(undefined)).toBeUndefined();
    expect(errnoCode("ENOENT")).toBeUndefined();
  });

  it("errorChain and errorChainMessage walk the causes, bounded", () => {
    const inner = errno("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1");
    const outer = new Error("fetch failed", { cause: inner });
    expect(errorChain(outer)).toEqual([outer, inner]);
    expect(errorChainMessage(outer)).toBe("fetch failed: connect ECONNREFUSED 127.0.0.1:1");
    expect(errorChainMessage(new Error("a: b", { cause: new Error("b") }))).toBe("a: b");
    expect(errorChainMessage(new Error(""))).toBe("unknown error");
    const loop = new Error("loop");
    Object.assign(loop, { cause: loop });
    expect(errorChain(loop, 3)).toHaveLength(3);
  });
});
