import { describe, expect, it } from "vitest";
import {
  buildPodFullName,
  type ContainerStatus,
  DEFAULT_NAMESPACE,
  formatPod,
  getPodFullName,
  hasAnyRegularContainerCreated,
  hasRestartableInitContainer,
  isContainerRestartable,
  isInitContainer,
  isRestartableInitContainer,
  NodeletError,
  type PodStatus,
  parsePodFullName,
  podNamespace,
  shouldContainerBeRestarted,
  shouldRestartOnFailure,
  type V1Container,
  type V1Pod,
  type V1RestartPolicy,
} from "../src/index.js";

const app: V1Container = { name: "app", image: "busybox:1.36" };
const init: V1Container = { name: "init", image: "busybox:1.36" };
const sidecar: V1Container = { name: "proxy", image: "busybox:1.36", restartPolicy: "Always" };

function pod(restartPolicy?: V1RestartPolicy, extra: Partial<V1Pod["metadata"]> = {}): V1Pod {
  return {
    metadata: { name: "web", namespace: "prod", uid: "u1", ...extra },
    spec: {
      containers: [app],
      initContainers: [init, sidecar],
      ...(restartPolicy ? { restartPolicy } : {}),
    },
  };
}

function cs(name: string, state: ContainerStatus["state"], exitCode = 0): ContainerStatus {
  return {
    id: { type: "containerd", id: `${name}-${state}` },
    name,
    state,
    createdAt: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    exitCode,
    image: "",
    imageID: "",
    imageRef: "",
    imageRuntimeHandler: "",
    hash: "",
    restartCount: 0,
    reason: "",
    message: "",
    containerType: "container",
    logPath: "",
  };
}

function status(...containerStatuses: ContainerStatus[]): PodStatus {
  return {
    id: "u1",
    name: "web",
    namespace: "prod",
    ips: [],
    sandboxStatuses: [],
    containerStatuses,
    timestamp: 0,
  };
}

type Row = [string, V1Container, V1RestartPolicy | undefined, ContainerStatus | undefined, boolean];

describe("shouldContainerBeRestarted", () => {
  // Regular containers and regular init containers follow the pod's policy; a sidecar restarts under every policy.
  const rows: Row[] = [];
  for (const [container, kind] of [
    [app, "regular"],
    [init, "init"],
    [sidecar, "sidecar"],
  ] as const) {
    for (const policy of [undefined, "Always", "OnFailure", "Never"] as const) {
      const sidecarOrAlways = kind === "sidecar" || policy === undefined || policy === "Always";
      const label = `${kind}, pod policy ${policy ?? "unset"}`;
      rows.push(
        [`${label}: no status starts`, container, policy, undefined, true],
        [`${label}: running stays`, container, policy, cs(container.name, "running"), false],
        [`${label}: created starts`, container, policy, cs(container.name, "created"), true],
        [`${label}: unknown starts`, container, policy, cs(container.name, "unknown"), true],
        [`${label}: exited 0`, container, policy, cs(container.name, "exited", 0), sidecarOrAlways],
        [
          `${label}: exited 1`,
          container,
          policy,
          cs(container.name, "exited", 1),
          sidecarOrAlways || policy === "OnFailure",
        ],
      );
    }
  }
  it.each(rows)("%s", (_label, container, policy, containerStatus, expected) => {
    const s = containerStatus ? status(containerStatus) : status();
    expect(shouldContainerBeRestarted(container, pod(policy), s)).toBe(expected);
  });

  it("restarts nothing once the pod is being deleted", () => {
    const deleting = pod("Always", { deletionTimestamp: "2026-01-01T00:00:00Z" });
    expect(shouldContainerBeRestarted(app, deleting, status())).toBe(false);
    expect(shouldContainerBeRestarted(sidecar, deleting, status(cs("proxy", "exited", 1)))).toBe(false);
  });

  it("reads the newest instance (PodStatus lists them newest first)", () => {
    const s = status(cs("app", "exited", 0), cs("app", "exited", 1));
    expect(shouldContainerBeRestarted(app, pod("OnFailure"), s)).toBe(false);
  });
});

describe("restart predicates", () => {
  it("isContainerRestartable: the container's own policy wins over the pod's", () => {
    expect(isContainerRestartable(sidecar, pod("Never"), 0)).toBe(true);
    expect(isContainerRestartable(app, pod("Never"), 1)).toBe(false);
    expect(isContainerRestartable(app, pod("OnFailure"), 0)).toBe(false);
    expect(isContainerRestartable(app, pod(), 0)).toBe(true);
  });

  it("shouldRestartOnFailure is false only under Never", () => {
    expect(
      [undefined, "Always", "OnFailure", "Never"].map((p) =>
        shouldRestartOnFailure(pod(p as V1RestartPolicy)),
      ),
    ).toEqual([true, true, true, false]);
  });

  it("tells sidecars and init containers apart", () => {
    expect(isRestartableInitContainer(sidecar)).toBe(true);
    expect(isRestartableInitContainer(init)).toBe(false);
    expect(hasRestartableInitContainer(pod())).toBe(true);
    expect(
      hasRestartableInitContainer({ ...pod(), spec: { containers: [app], initContainers: [init] } }),
    ).toBe(false);
    expect(isInitContainer(pod(), "proxy")).toBe(true);
    expect(isInitContainer(pod(), "app")).toBe(false);
  });

  it.each([
    ["no status", [], false],
    ["an unknown regular container", [cs("app", "unknown")], false],
    ["only init containers", [cs("init", "exited"), cs("proxy", "running")], false],
    ["a created regular container", [cs("app", "created")], true],
    ["a running regular container", [cs("app", "running")], true],
    ["an exited regular container", [cs("app", "exited", 1)], true],
    ["an unknown newest instance over an exited one", [cs("app", "unknown"), cs("app", "exited")], false],
  ] as const)("hasAnyRegularContainerCreated with %s: %s", (_label, statuses, expected) => {
    expect(hasAnyRegularContainerCreated(pod(), status(...statuses))).toBe(expected);
  });
});

describe("pod names", () => {
  it("reads an empty or missing namespace as default", () => {
    expect(DEFAULT_NAMESPACE).toBe("default");
    expect(podNamespace(pod(undefined, { namespace: "" }))).toBe("default");
    expect(podNamespace({ metadata: { name: "x" } })).toBe("default");
    expect(podNamespace(pod())).toBe("prod");
  });

  it("builds, gets and parses the full name", () => {
    expect(buildPodFullName("web", "prod")).toBe("web_prod");
    expect(getPodFullName(pod())).toBe("web_prod");
    expect(getPodFullName({ metadata: { name: "web" }, spec: { containers: [app] } })).toBe("web_default");
    expect(parsePodFullName("web_prod")).toEqual({ name: "web", namespace: "prod" });
    expect(formatPod(pod())).toBe("web_prod(u1)");
  });

  it.each(["web", "_prod", "web_", "a_b_c", ""])("rejects the full name %j", (text) => {
    expect(() => parsePodFullName(text)).toThrow(NodeletError);
  });
});
