import type { ContainerStatus, PodStatus, V1Pod } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import {
  capTerminationMessages,
  logContainerId,
  MAX_POD_TERMINATION_MESSAGE_BYTES,
} from "../src/container-logs.js";

function instance(id: string, state: ContainerStatus["state"]): ContainerStatus {
  return { id: { type: "containerd", id }, name: "main", state } as ContainerStatus;
}

function podStatus(...containers: ContainerStatus[]): PodStatus {
  return {
    id: "uid",
    name: "web",
    namespace: "ns",
    ips: [],
    containerStatuses: containers,
    sandboxStatuses: [],
    timestamp: 0,
  };
}

describe("logContainerId", () => {
  it("reads the newest instance, or with previous the one before it", () => {
    const status = podStatus(instance("new", "running"), instance("old", "exited"));
    expect(logContainerId(status, "main", false).id).toBe("new");
    expect(logContainerId(status, "main", true).id).toBe("old");
  });

  it("with previous, reads the newest when it exited and waits to restart (the kubelet's lastState)", () => {
    const pod = (restartPolicy: "Always" | "Never"): V1Pod => ({
      metadata: { name: "web", namespace: "ns", uid: "uid" },
      spec: { restartPolicy, containers: [{ name: "main", image: "busybox" }] },
    });
    const crashed = { ...instance("crashed", "exited"), exitCode: 1 };
    const status = podStatus(crashed, instance("older", "exited"));
    expect(logContainerId(status, "main", true, pod("Always")).id).toBe("crashed");
    // Under Never the newest is the container's final state; lastState is the one before.
    expect(logContainerId(status, "main", true, pod("Never")).id).toBe("older");
    expect(logContainerId(status, "main", false, pod("Always")).id).toBe("crashed");
  });

  it("says why there is nothing to read, with typed errors", () => {
    const one = podStatus(instance("only", "running"));
    expect(() => logContainerId(one, "main", true)).toThrow(
      expect.objectContaining({
        code: "InvalidArgument",
        message: expect.stringContaining("previous terminated container"),
      }),
    );
    expect(() => logContainerId(podStatus(), "main", false)).toThrow(
      expect.objectContaining({
        code: "InvalidArgument",
        message: expect.stringContaining("waiting to start"),
      }),
    );
  });
});

describe("capTerminationMessages", () => {
  it("leaves messages under the pod's 12 KiB alone and cuts each to its share above, keeping the end", () => {
    const small = [{ message: "a" }, { message: "b" }];
    expect(capTerminationMessages(small)).toBe(small);
    const big = [
      { message: `${"x".repeat(9000)}END1` },
      { message: `${"y".repeat(9000)}END2` },
      { message: "ok" },
    ];
    const capped = capTerminationMessages(big);
    const share = Math.floor(MAX_POD_TERMINATION_MESSAGE_BYTES / 3);
    expect(capped[0]?.message.length).toBe(share);
    expect(capped[0]?.message.endsWith("END1")).toBe(true);
    expect(capped[1]?.message.endsWith("END2")).toBe(true);
    expect(capped[2]?.message).toBe("ok");
  });
});
