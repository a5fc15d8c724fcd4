import type { V1Pod } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { admitPod, DEFAULT_MAX_PODS, OUT_OF_PODS, rejectedPodStatus } from "../src/admission.js";

const pod: V1Pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "default", uid: "u1" },
  spec: { containers: [{ name: "app", image: "busybox" }] },
};

describe("admission (maxPods)", () => {
  it("admits while the active pods leave room, the kubelet's default being 110", () => {
    expect(DEFAULT_MAX_PODS).toBe(110);
    expect(admitPod(0, 110)).toEqual({ admit: true });
    expect(admitPod(109, 110)).toEqual({ admit: true });
  });

  it("rejects the pod over maxPods with OutOfpods and the kubelet's message", () => {
    expect(admitPod(110, 110)).toEqual({
      admit: false,
      reason: OUT_OF_PODS,
      message: "Node didn't have enough resource: pods, requested: 1, used: 110, capacity: 110",
    });
    expect(OUT_OF_PODS).toBe("OutOfpods");
    // maxPods 0 admits nothing.
    expect(admitPod(0, 0)).toMatchObject({ admit: false, reason: "OutOfpods" });
  });

  it("gives a rejected pod the Failed phase, the reason and 'Pod was rejected: ' before the message", () => {
    expect(rejectedPodStatus(pod, "OutOfpods", "no room")).toEqual({
      phase: "Failed",
      reason: "OutOfpods",
      message: "Pod was rejected: no room",
      qosClass: "BestEffort",
    });
  });
});
