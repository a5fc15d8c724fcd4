import type { KeyValue } from "@nodelet/cri-api";
import { ErrorCode, isNodeletError, type V1Container, type V1EnvVar, type V1Pod } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import {
  type EnvironmentContext,
  expandContainerCommandAndArgs,
  makeEnvironmentVariables,
} from "../src/env.js";

const context: EnvironmentContext = {
  podIPs: ["10.1.0.5", "fd00::5"],
  hostIPs: ["192.168.1.10", "fd00::10"],
  nodeName: "node-a",
  nodeAllocatable: { cpuMilli: 4000, memoryBytes: 8 * 2 ** 30 },
};

function setup(env: V1EnvVar[], extra: Partial<V1Container> = {}): { pod: V1Pod; container: V1Container } {
  const container: V1Container = { name: "app", env, ...extra };
  const pod: V1Pod = {
    metadata: {
      name: "web",
      namespace: "prod",
      uid: "u-1",
      labels: { app: "web", tier: "front" },
      annotations: { "example.com/owner": "team-a" },
    },
    spec: { containers: [container], serviceAccountName: "builder" },
  };
  return { pod, container };
}

function asObject(envs: readonly KeyValue[]): Record<string, string> {
  return Object.fromEntries(envs.map((kv) => [kv.key, kv.value.toString("utf8")]));
}

function env(list: V1EnvVar[], extra: Partial<V1Container> = {}): Record<string, string> {
  const { pod, container } = setup(list, extra);
  return asObject(makeEnvironmentVariables(pod, container, context));
}

describe("makeEnvironmentVariables", () => {
  it("expands values against earlier variables only", () => {
    expect(
      env([
        { name: "HOST", value: "db" },
        { name: "URL", value: "postgres://$(HOST):$(PORT)/x" },
        { name: "PORT", value: "5432" },
        { name: "ESCAPED", value: "$$(HOST)" },
      ]),
    ).toEqual({ HOST: "db", URL: "postgres://db:$(PORT)/x", PORT: "5432", ESCAPED: "$(HOST)" });
  });

  it("keeps a repeated name once, with its last value", () => {
    const { pod, container } = setup([
      { name: "A", value: "1" },
      { name: "B", value: "$(A)" },
      { name: "A", value: "2" },
    ]);
    const envs = makeEnvironmentVariables(pod, container, context);
    expect(envs.map((kv) => kv.key)).toEqual(["A", "B"]);
    expect(asObject(envs)).toEqual({ A: "2", B: "1" });
  });

  it("resolves fieldRef values", () => {
    const fields = [
      "metadata.name",
      "metadata.namespace",
      "metadata.uid",
      "metadata.labels['app']",
      "metadata.labels['missing']",
      "metadata.annotations['example.com/owner']",
      "metadata.labels",
      "spec.nodeName",
      "spec.serviceAccountName",
      "status.hostIP",
      "status.hostIPs",
      "status.podIP",
      "status.podIPs",
    ];
    const values = env(
      fields.map((fieldPath, i) => ({ name: `F${i}`, valueFrom: { fieldRef: { fieldPath } } })),
    );
    expect(Object.values(values)).toEqual([
      "web",
      "prod",
      "u-1",
      "web",
      "",
      "team-a",
      'app="web"\ntier="front"',
      "node-a",
      "builder",
      "192.168.1.10",
      "192.168.1.10,fd00::10",
      "10.1.0.5",
      "10.1.0.5,fd00::5",
    ]);
  });

  it("gives status.hostIPs as the pod status holds them: the first two node IPs", () => {
    const { pod, container } = setup([
      { name: "IPS", valueFrom: { fieldRef: { fieldPath: "status.hostIPs" } } },
    ]);
    const envs = makeEnvironmentVariables(pod, container, {
      ...context,
      hostIPs: ["192.168.1.10", "fd00::10", "192.168.1.11"],
    });
    expect(asObject(envs)).toEqual({ IPS: "192.168.1.10,fd00::10" });
  });

  it("prefers the pod's spec.nodeName", () => {
    const { pod, container } = setup([
      { name: "N", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
    ]);
    pod.spec.nodeName = "node-b";
    expect(asObject(makeEnvironmentVariables(pod, container, context))).toEqual({ N: "node-b" });
  });

  it("resolves resourceFieldRef with divisors, defaulting limits to node allocatable", () => {
    const resources = { requests: { cpu: "250m", memory: "64Mi" }, limits: { memory: "128Mi" } };
    expect(
      env(
        [
          { name: "REQ_CPU", valueFrom: { resourceFieldRef: { resource: "requests.cpu" } } },
          { name: "REQ_CPU_M", valueFrom: { resourceFieldRef: { resource: "requests.cpu", divisor: "1m" } } },
          { name: "LIM_CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
          {
            name: "LIM_MEM_MI",
            valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } },
          },
          { name: "REQ_MEM", valueFrom: { resourceFieldRef: { resource: "requests.memory" } } },
        ],
        { resources },
      ),
    ).toEqual({
      REQ_CPU: "1",
      REQ_CPU_M: "250",
      LIM_CPU: "4",
      LIM_MEM_MI: "128",
      REQ_MEM: String(64 * 2 ** 20),
    });
  });

  it.each([
    ["configMapKeyRef", { configMapKeyRef: { name: "cm", key: "k" } }],
    ["secretKeyRef", { secretKeyRef: { name: "s", key: "k", optional: true } }],
  ])("refuses %s", (source, valueFrom) => {
    const { pod, container } = setup([{ name: "X", valueFrom }]);
    try {
      makeEnvironmentVariables(pod, container, context);
      expect.unreachable();
    } catch (error) {
      expect(isNodeletError(error, ErrorCode.CreateContainerConfigError)).toBe(true);
      expect((error as Error).message).toContain(
        `nodelet runs static pods: ${source} is not supported (env X)`,
      );
    }
  });

  it("refuses unknown field paths and resources", () => {
    for (const valueFrom of [
      { fieldRef: { fieldPath: "spec.schedulerName" } },
      { resourceFieldRef: { resource: "limits.nvidia.com/gpu" } },
    ]) {
      const { pod, container } = setup([{ name: "X", valueFrom }]);
      expect(() => makeEnvironmentVariables(pod, container, context)).toThrow(/container "app": env X/);
    }
  });

  it("passes an empty value through", () => {
    expect(env([{ name: "E" }, { name: "F", value: "" }])).toEqual({ E: "", F: "" });
  });
});

describe("expandContainerCommandAndArgs", () => {
  it("expands command and args with the container's environment", () => {
    const { pod, container } = setup([{ name: "GREETING", value: "hello" }], {
      command: ["/bin/echo", "$(GREETING)"],
      args: ["$(GREETING) $(NOBODY)", "$$(GREETING)"],
    });
    const envs = makeEnvironmentVariables(pod, container, context);
    expect(expandContainerCommandAndArgs(container, envs)).toEqual({
      command: ["/bin/echo", "hello"],
      args: ["hello $(NOBODY)", "$(GREETING)"],
    });
  });

  it("returns empty lists when the image's entrypoint is used", () => {
    expect(expandContainerCommandAndArgs({ name: "c" }, [])).toEqual({ command: [], args: [] });
  });
});
