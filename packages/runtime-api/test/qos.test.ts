import { describe, expect, it } from "vitest";
import type { V1Container, V1Pod, V1ResourceRequirements } from "../src/index.js";
import { getPodQOS } from "../src/index.js";

function c(name: string, resources?: V1ResourceRequirements): V1Container {
  return resources ? { name, resources } : { name };
}

function pod(containers: V1Container[], initContainers: V1Container[] = []): V1Pod {
  return { metadata: { name: "p" }, spec: { containers, initContainers } };
}

const both = { cpu: "500m", memory: "128Mi" };

describe("getPodQOS", () => {
  it("is BestEffort with no cpu or memory anywhere", () => {
    expect(getPodQOS(pod([c("a"), c("b", { limits: { "nvidia.com/gpu": "1" } })]))).toBe("BestEffort");
  });

  it("counts zero quantities as unset", () => {
    expect(getPodQOS(pod([c("a", { requests: { cpu: "0", memory: "0" } })]))).toBe("BestEffort");
  });

  it("is Guaranteed when every container limits cpu and memory with requests equal", () => {
    expect(getPodQOS(pod([c("a", { requests: both, limits: both })]))).toBe("Guaranteed");
  });

  it("defaults requests to limits", () => {
    expect(getPodQOS(pod([c("a", { limits: both }), c("b", { limits: { cpu: "1", memory: "1Gi" } })]))).toBe(
      "Guaranteed",
    );
  });

  it("compares the same amount written differently as equal", () => {
    expect(getPodQOS(pod([c("a", { requests: { cpu: "0.5", memory: "134217728" }, limits: both })]))).toBe(
      "Guaranteed",
    );
  });

  it("is Burstable when a request is below its limit", () => {
    expect(getPodQOS(pod([c("a", { requests: { cpu: "100m", memory: "128Mi" }, limits: both })]))).toBe(
      "Burstable",
    );
  });

  it("is Burstable when one container lacks a memory limit", () => {
    expect(getPodQOS(pod([c("a", { limits: both }), c("b", { limits: { cpu: "1" } })]))).toBe("Burstable");
  });

  it("is Burstable when another container has nothing", () => {
    expect(getPodQOS(pod([c("a", { limits: both }), c("b")]))).toBe("Burstable");
  });

  it("includes init containers", () => {
    expect(getPodQOS(pod([c("a", { limits: both })], [c("init")]))).toBe("Burstable");
    expect(getPodQOS(pod([c("a")], [c("init", { requests: { memory: "1Mi" } })]))).toBe("Burstable");
    expect(getPodQOS(pod([c("a", { limits: both })], [c("init", { limits: both })]))).toBe("Guaranteed");
  });

  it("ignores resources other than cpu and memory", () => {
    expect(
      getPodQOS(
        pod([
          c("a", {
            requests: { "ephemeral-storage": "1Gi" },
            limits: { ...both, "ephemeral-storage": "2Gi" },
          }),
        ]),
      ),
    ).toBe("Guaranteed");
  });
});
