import type { V1Container, V1Pod } from "@nodelet/runtime-api";
import { describe, expect, it, vi } from "vitest";
import { hashContainer } from "../src/container-hash.js";
import {
  getContainerInfoFromAnnotations,
  getContainerInfoFromLabels,
  newContainerAnnotations,
  newContainerLabels,
  newPodSandboxAnnotations,
  newPodSandboxLabels,
} from "../src/labels.js";

const container: V1Container = { name: "web", image: "nginx:1.27" };

function pod(overrides: Partial<V1Pod["metadata"]> = {}, spec: Partial<V1Pod["spec"]> = {}): V1Pod {
  return {
    metadata: {
      name: "web-1",
      namespace: "prod",
      uid: "uid-1",
      labels: { app: "web", "io.kubernetes.pod.name": "spoofed", "io.nodelet.managed-by": "someone-else" },
      annotations: { "kubernetes.io/config.source": "file", note: "x" },
      ...overrides,
    },
    spec: { containers: [container], ...spec },
  };
}

describe("sandbox labels and annotations", () => {
  it("keeps the pod's labels and lets the kubelet's keys and nodelet's ownership label win", () => {
    expect(newPodSandboxLabels(pod())).toEqual({
      app: "web",
      "io.kubernetes.pod.name": "web-1",
      "io.kubernetes.pod.namespace": "prod",
      "io.kubernetes.pod.uid": "uid-1",
      "io.nodelet.managed-by": "nodelet",
    });
  });

  it("defaults the namespace to default", () => {
    expect(newPodSandboxLabels(pod({ namespace: "" }))["io.kubernetes.pod.namespace"]).toBe("default");
  });

  it("copies the pod's annotations verbatim", () => {
    const p = pod();
    const annotations = newPodSandboxAnnotations(p);
    expect(annotations).toEqual({ "kubernetes.io/config.source": "file", note: "x" });
    expect(annotations).not.toBe(p.metadata.annotations);
  });
});

describe("container labels", () => {
  it("are exactly the four identity keys and the ownership label", () => {
    expect(newContainerLabels(container, pod())).toEqual({
      "io.kubernetes.pod.name": "web-1",
      "io.kubernetes.pod.namespace": "prod",
      "io.kubernetes.pod.uid": "uid-1",
      "io.kubernetes.container.name": "web",
      "io.nodelet.managed-by": "nodelet",
    });
  });

  it('read back, with "" for missing keys', () => {
    expect(getContainerInfoFromLabels(newContainerLabels(container, pod()))).toEqual({
      podName: "web-1",
      podNamespace: "prod",
      podUid: "uid-1",
      containerName: "web",
    });
    expect(getContainerInfoFromLabels({})).toEqual({
      podName: "",
      podNamespace: "",
      podUid: "",
      containerName: "",
    });
  });
});

describe("container annotations", () => {
  it("always carry hash, restart count, termination message path and policy, and type", () => {
    expect(newContainerAnnotations(container, pod(), 3, "init")).toEqual({
      "io.kubernetes.container.hash": hashContainer(container),
      "io.kubernetes.container.restartCount": "3",
      "io.kubernetes.container.terminationMessagePath": "/dev/termination-log",
      "io.kubernetes.container.terminationMessagePolicy": "File",
      "io.kubernetes.container.type": "init",
    });
  });

  it("carry grace periods, preStop JSON and ports JSON only when set", () => {
    const c: V1Container = {
      ...container,
      terminationMessagePath: "/tmp/msg",
      terminationMessagePolicy: "FallbackToLogsOnError",
      lifecycle: { preStop: { exec: { command: ["sh", "-c", "sleep 1"] } } },
      ports: [{ containerPort: 80 }, { name: "dns", containerPort: 53, protocol: "UDP", hostPort: 5353 }],
    };
    const annotations = newContainerAnnotations(
      c,
      pod({ deletionGracePeriodSeconds: 10 }, { terminationGracePeriodSeconds: 30 }),
      0,
      "container",
    );
    expect(annotations["io.kubernetes.pod.deletionGracePeriod"]).toBe("10");
    expect(annotations["io.kubernetes.pod.terminationGracePeriod"]).toBe("30");
    expect(annotations["io.kubernetes.container.terminationMessagePath"]).toBe("/tmp/msg");
    expect(annotations["io.kubernetes.container.terminationMessagePolicy"]).toBe("FallbackToLogsOnError");
    expect(annotations["io.kubernetes.container.preStopHandler"]).toBe(
      '{"exec":{"command":["sh","-c","sleep 1"]}}',
    );
    expect(annotations["io.kubernetes.container.ports"]).toBe(
      '[{"containerPort":80,"protocol":"TCP"},{"name":"dns","hostPort":5353,"containerPort":53,"protocol":"UDP"}]',
    );

    const plain = newContainerAnnotations(container, pod(), 0, "container");
    for (const key of [
      "io.kubernetes.pod.deletionGracePeriod",
      "io.kubernetes.pod.terminationGracePeriod",
      "io.kubernetes.container.preStopHandler",
      "io.kubernetes.container.ports",
    ]) {
      expect(plain).not.toHaveProperty(key);
    }
  });

  it("read back what was written", () => {
    const c: V1Container = {
      ...container,
      lifecycle: { preStop: { httpGet: { port: 8080, path: "/quit" } } },
      ports: [{ containerPort: 80 }],
    };
    const written = newContainerAnnotations(
      c,
      pod({ deletionGracePeriodSeconds: 5 }, { terminationGracePeriodSeconds: 60 }),
      7,
      "ephemeral",
    );
    expect(getContainerInfoFromAnnotations(written)).toEqual({
      hash: hashContainer(c),
      restartCount: 7,
      podDeletionGracePeriod: 5,
      podTerminationGracePeriod: 60,
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
      preStopHandler: { httpGet: { port: 8080, path: "/quit" } },
      containerPorts: [{ containerPort: 80, protocol: "TCP" }],
      containerType: "ephemeral",
    });
  });

  it("read missing keys as zero values, without warnings, type defaulting to container", () => {
    const onWarning = vi.fn();
    expect(getContainerInfoFromAnnotations({}, onWarning)).toEqual({
      hash: "",
      restartCount: 0,
      terminationMessagePath: "",
      terminationMessagePolicy: "",
      containerPorts: [],
      containerType: "container",
    });
    expect(onWarning).not.toHaveBeenCalled();
  });

  it("read malformed values as zero values and report each one", () => {
    const onWarning = vi.fn();
    const info = getContainerInfoFromAnnotations(
      {
        "io.kubernetes.container.hash": "xyz",
        "io.kubernetes.container.restartCount": "2.5",
        "io.kubernetes.pod.deletionGracePeriod": "soon",
        "io.kubernetes.pod.terminationGracePeriod": "",
        "io.kubernetes.container.preStopHandler": "{not json",
        "io.kubernetes.container.ports": '{"containerPort":80}',
        "io.kubernetes.container.type": "sidecar",
      },
      onWarning,
    );
    expect(info).toEqual({
      hash: "",
      restartCount: 0,
      terminationMessagePath: "",
      terminationMessagePolicy: "",
      containerPorts: [],
      containerType: "container",
    });
    expect(onWarning).toHaveBeenCalledTimes(7);
    expect(onWarning.mock.calls[0]?.[0]).toMatch(/io\.kubernetes\.container\.hash="xyz"/);
  });

  it("normalise the hash to lowercase hex without leading zeros", () => {
    expect(getContainerInfoFromAnnotations({ "io.kubernetes.container.hash": "00AbC" }).hash).toBe("abc");
  });
});
