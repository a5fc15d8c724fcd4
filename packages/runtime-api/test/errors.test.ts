import { describe, expect, it } from "vitest";
import {
  assertSupportedRuntimeVersion,
  CommandExitError,
  CRI_API_VERSION,
  CRI_VERSION,
  ErrorCode,
  isErrorCode,
  isNodeletError,
  isRegistryUnauthorized,
  NodeletError,
  UnsupportedRuntimeApiVersionError,
} from "../src/index.js";

describe("NodeletError", () => {
  it("carries a code, a message and a cause", () => {
    const cause = new Error("socket closed");
    const err = new NodeletError(ErrorCode.RuntimeUnavailable, "runtime is down", { cause });
    expect(err.code).toBe("RuntimeUnavailable");
    expect(err.message).toBe("runtime is down");
    expect(err.cause).toBe(cause);
    expect(err).toBeInstanceOf(Error);
    expect(isNodeletError(err, ErrorCode.RuntimeUnavailable)).toBe(true);
    expect(isNodeletError(err, ErrorCode.NotFound)).toBe(false);
  });

  it("from() keeps NodeletErrors and wraps the rest", () => {
    const own = new NodeletError(ErrorCode.NotFound, "gone");
    expect(NodeletError.from(own)).toBe(own);
    const wrapped = NodeletError.from(new TypeError("boom"), ErrorCode.Internal);
    expect(wrapped.code).toBe("Internal");
    expect(wrapped.cause).toBeInstanceOf(TypeError);
    expect(NodeletError.from("text").code).toBe("Unknown");
  });

  it("is recognised across two copies of the package", async () => {
    // A second, independent module instance stands for a second copy in node_modules.
    const secondCopy: string = "../src/errors.ts?second-copy";
    const other = (await import(secondCopy)) as typeof import("../src/errors.js");
    expect(other.NodeletError).not.toBe(NodeletError);
    const foreign = new other.NodeletError(other.ErrorCode.NotFound, "from the other copy");
    expect(foreign instanceof NodeletError).toBe(true);
    expect(isNodeletError(foreign, ErrorCode.NotFound)).toBe(true);
    const foreignExit = new other.CommandExitError(["false"], 1, Buffer.alloc(0), Buffer.alloc(0));
    expect(foreignExit instanceof CommandExitError).toBe(true);
    expect(foreignExit instanceof UnsupportedRuntimeApiVersionError).toBe(false);
  });

  it("subclasses do not claim each other's instances", () => {
    const plain = new NodeletError(ErrorCode.Unknown, "x");
    expect(plain instanceof CommandExitError).toBe(false);
    const lookalike: unknown = { code: "NotFound" };
    const nothing: unknown = null;
    expect(lookalike instanceof NodeletError).toBe(false);
    expect(nothing instanceof NodeletError).toBe(false);
  });

  it("CommandExitError names the command, the code and stderr", () => {
    const err = new CommandExitError(
      ["sh", "-c", "exit 3"],
      3,
      Buffer.from("out"),
      Buffer.from("bad thing\n"),
    );
    expect(err.message).toBe("command 'sh -c exit 3' exited with 3: bad thing");
    expect(err.exitCode).toBe(3);
    expect(err.code).toBe(ErrorCode.CommandExitError);
    expect(err.stdout.toString()).toBe("out");
  });

  it("UnsupportedRuntimeApiVersionError names what the runtime answered", () => {
    const err = new UnsupportedRuntimeApiVersionError({
      runtimeName: "oldd",
      runtimeApiVersion: "v1alpha2",
      version: "0.1.0",
    });
    expect(err.message).toContain('"v1alpha2"');
    expect(err.message).toContain("oldd");
    expect(err.runtimeApiVersion).toBe("v1alpha2");
  });

  it("assertSupportedRuntimeVersion accepts v1 / 0.1.0 only", () => {
    const ok = { runtimeName: "containerd", runtimeApiVersion: CRI_API_VERSION, version: CRI_VERSION };
    expect(() => assertSupportedRuntimeVersion(ok)).not.toThrow();
    expect(() => assertSupportedRuntimeVersion({ ...ok, version: "0.2.0" })).toThrow(
      UnsupportedRuntimeApiVersionError,
    );
    expect(() => assertSupportedRuntimeVersion({ ...ok, runtimeApiVersion: "v1alpha2" })).toThrow(
      UnsupportedRuntimeApiVersionError,
    );
  });

  it("declares the registry's refusal of credentials as a typed detail", () => {
    const refused = new NodeletError(ErrorCode.ErrImagePull, "401 Unauthorized", {
      details: { unauthorized: true },
    });
    expect(isRegistryUnauthorized(refused)).toBe(true);
    expect(isRegistryUnauthorized(new NodeletError(ErrorCode.ErrImagePull, "not found"))).toBe(false);
    expect(isRegistryUnauthorized(Object.assign(new Error("401"), { details: { unauthorized: true } }))).toBe(
      false,
    );
    // @ts-expect-error the declared detail is a boolean
    new NodeletError(ErrorCode.Unknown, "x", { details: { unauthorized: "yes" } });
  });

  it("has a closed set of codes", () => {
    expect(isErrorCode("CrashLoopBackOff")).toBe(true);
    expect(isErrorCode("SomethingElse")).toBe(false);
  });
});
