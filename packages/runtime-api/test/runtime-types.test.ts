import { PodSandboxState } from "@nodelet/cri-api";
import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  formatContainerID,
  PodSyncResult,
  parseContainerID,
  sandboxStateName,
  Version,
} from "../src/index.js";

describe("ContainerID", () => {
  it("round-trips type://id", () => {
    const id = parseContainerID("containerd://4f2a");
    expect(id).toEqual({ type: "containerd", id: "4f2a" });
    expect(formatContainerID(id)).toBe("containerd://4f2a");
  });
  it.each(["4f2a", "containerd://", "://x", "a://b://c"])("rejects %j", (text) => {
    expect(() => parseContainerID(text)).toThrow(/invalid container ID/);
  });
});

describe("Version", () => {
  it("compares dotted versions, ignoring suffixes", () => {
    const v = Version.parse("1.6.20~ds1");
    expect(v.compare("1.6.20")).toBe(0);
    expect(v.compare("1.7")).toBe(-1);
    expect(v.compare("1.6.3")).toBe(1);
    expect(Version.parse("v1").compare("1.0.0")).toBe(0);
    expect(() => Version.parse("abc")).toThrow(/cannot parse version/);
  });
});

describe("PodSyncResult", () => {
  it("reports the failed steps with their reasons", () => {
    const r = new PodSyncResult();
    r.add({ action: "StartContainer", target: "web", message: "" });
    expect(r.error()).toBeUndefined();
    r.add({
      action: "StartContainer",
      target: "app",
      error: ErrorCode.CrashLoopBackOff,
      message: "back-off 10s",
    });
    const err = r.error();
    expect(err?.code).toBe(ErrorCode.CrashLoopBackOff);
    expect(err?.message).toContain('failed to "StartContainer" for "app" with CrashLoopBackOff');
  });
});

describe("sandboxStateName", () => {
  it("maps ready to running, not ready to exited, anything else to unknown", () => {
    expect(sandboxStateName(PodSandboxState.SANDBOX_READY)).toBe("running");
    expect(sandboxStateName(PodSandboxState.SANDBOX_NOTREADY)).toBe("exited");
    expect(sandboxStateName(PodSandboxState.UNRECOGNIZED)).toBe("unknown");
  });
});
