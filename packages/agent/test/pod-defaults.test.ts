import type { V1Pod } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { applyPodDefaults, imageTag } from "../src/pod-defaults.js";

function pod(spec: Partial<V1Pod["spec"]> = {}, metadata: V1Pod["metadata"] = { name: "web" }): V1Pod {
  return { metadata, spec: { containers: [{ name: "app", image: "nginx:1.27" }], ...spec } };
}

describe("applyPodDefaults", () => {
  it("applies the API server's pod and container defaults", () => {
    expect(applyPodDefaults(pod())).toEqual({
      metadata: { name: "web", namespace: "default" },
      spec: {
        containers: [
          {
            name: "app",
            image: "nginx:1.27",
            imagePullPolicy: "IfNotPresent",
            terminationMessagePath: "/dev/termination-log",
            terminationMessagePolicy: "File",
          },
        ],
        restartPolicy: "Always",
        terminationGracePeriodSeconds: 30,
        dnsPolicy: "ClusterFirst",
        securityContext: {},
      },
    });
  });

  it("returns a new object and leaves the input alone", () => {
    const input = pod();
    const copy = structuredClone(input);
    const output = applyPodDefaults(input);
    expect(input).toEqual(copy);
    expect(output.spec.containers[0]).not.toBe(input.spec.containers[0]);
  });

  it("keeps values that are set, including an explicit grace period of 0", () => {
    const output = applyPodDefaults(
      pod(
        { restartPolicy: "Never", terminationGracePeriodSeconds: 0, dnsPolicy: "Default" },
        { name: "web", namespace: "kube-system" },
      ),
    );
    expect(output.metadata.namespace).toBe("kube-system");
    expect(output.spec).toMatchObject({
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 0,
      dnsPolicy: "Default",
    });
  });

  it("treats an empty namespace as unset", () => {
    expect(applyPodDefaults(pod({}, { name: "web", namespace: "" })).metadata.namespace).toBe("default");
  });

  it("chooses the pull policy from the image tag, as the API server does", () => {
    const policy = (image: string) =>
      applyPodDefaults(pod({ containers: [{ name: "c", image }] })).spec.containers[0]?.imagePullPolicy;
    expect(policy("nginx")).toBe("Always");
    expect(policy("nginx:latest")).toBe("Always");
    expect(policy("registry.local:5000/team/nginx")).toBe("Always");
    expect(policy("nginx:1.27")).toBe("IfNotPresent");
    expect(policy("registry.local:5000/nginx:1.27")).toBe("IfNotPresent");
    expect(policy(`nginx@sha256:${"a".repeat(64)}`)).toBe("IfNotPresent");
    expect(policy(`nginx:latest@sha256:${"a".repeat(64)}`)).toBe("Always");
    const explicit = applyPodDefaults(
      pod({ containers: [{ name: "c", image: "nginx", imagePullPolicy: "Never" }] }),
    );
    expect(explicit.spec.containers[0]?.imagePullPolicy).toBe("Never");
  });

  it("defaults init containers too", () => {
    const output = applyPodDefaults(pod({ initContainers: [{ name: "init", image: "busybox" }] }));
    expect(output.spec.initContainers?.[0]).toMatchObject({
      imagePullPolicy: "Always",
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
    });
  });

  it("defaults port protocols, and host ports on the host network", () => {
    const ports = [{ containerPort: 80 }, { containerPort: 53, protocol: "UDP" as const }];
    const plain = applyPodDefaults(pod({ containers: [{ name: "c", image: "x:1", ports }] }));
    expect(plain.spec.containers[0]?.ports).toEqual([
      { containerPort: 80, protocol: "TCP" },
      { containerPort: 53, protocol: "UDP" },
    ]);
    const host = applyPodDefaults(
      pod({ hostNetwork: true, containers: [{ name: "c", image: "x:1", ports }] }),
    );
    expect(host.spec.containers[0]?.ports).toEqual([
      { containerPort: 80, protocol: "TCP", hostPort: 80 },
      { containerPort: 53, protocol: "UDP", hostPort: 53 },
    ]);
  });

  it("defaults probes and httpGet handlers, treating 0 as unset like the API server", () => {
    const output = applyPodDefaults(
      pod({
        containers: [
          {
            name: "c",
            image: "x:1",
            livenessProbe: { httpGet: { port: 8080 }, periodSeconds: 0 },
            readinessProbe: { tcpSocket: { port: 8080 }, failureThreshold: 5 },
            startupProbe: { exec: { command: ["true"] } },
            lifecycle: { preStop: { httpGet: { port: 8080, path: "/stop" } } },
          },
        ],
      }),
    );
    const container = output.spec.containers[0];
    const defaults = { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 };
    expect(container?.livenessProbe).toEqual({
      ...defaults,
      httpGet: { port: 8080, path: "/", scheme: "HTTP" },
    });
    expect(container?.readinessProbe).toEqual({
      ...defaults,
      failureThreshold: 5,
      tcpSocket: { port: 8080 },
    });
    expect(container?.startupProbe).toEqual({ ...defaults, exec: { command: ["true"] } });
    expect(container?.lifecycle?.preStop?.httpGet).toEqual({ port: 8080, path: "/stop", scheme: "HTTP" });
  });

  it("copies limits into unset requests", () => {
    const output = applyPodDefaults(
      pod({
        containers: [
          {
            name: "c",
            image: "x:1",
            resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "250m" } },
          },
        ],
      }),
    );
    expect(output.spec.containers[0]?.resources).toEqual({
      limits: { cpu: "1", memory: "1Gi" },
      requests: { cpu: "250m", memory: "1Gi" },
    });
  });

  it("defaults env fieldRef apiVersion", () => {
    const output = applyPodDefaults(
      pod({
        containers: [
          {
            name: "c",
            image: "x:1",
            env: [{ name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
          },
        ],
      }),
    );
    expect(output.spec.containers[0]?.env?.[0]?.valueFrom?.fieldRef).toEqual({
      apiVersion: "v1",
      fieldPath: "metadata.name",
    });
  });

  it("keeps emptyDir {}, makes a volume without a source an emptyDir, defaults the hostPath type", () => {
    const output = applyPodDefaults(
      pod({
        volumes: [
          { name: "scratch", emptyDir: {} },
          { name: "bare" },
          { name: "host", hostPath: { path: "/data" } },
        ],
      }),
    );
    expect(output.spec.volumes).toEqual([
      { name: "scratch", emptyDir: {} },
      { name: "bare", emptyDir: {} },
      { name: "host", hostPath: { path: "/data", type: "" } },
    ]);
  });

  it("leaves fields of the wrong type for validation to report", () => {
    const odd = { metadata: { name: "x" }, spec: { containers: "nope", volumes: [42] } } as unknown as V1Pod;
    expect(applyPodDefaults(odd).spec).toMatchObject({ containers: "nope", volumes: [42] });
    const noSpec = { metadata: "x" } as unknown as V1Pod;
    expect(applyPodDefaults(noSpec)).toEqual({ metadata: "x" });
  });
});

describe("imageTag", () => {
  it("reads the tag as the kubelet's ParseImageName does", () => {
    expect(imageTag("nginx")).toBe("latest");
    expect(imageTag("nginx:1.27")).toBe("1.27");
    expect(imageTag("localhost:5000/nginx")).toBe("latest");
    expect(imageTag("localhost:5000/nginx:v2")).toBe("v2");
    expect(imageTag("nginx@sha256:abc")).toBe("");
    expect(imageTag("nginx:v1@sha256:abc")).toBe("v1");
  });
});
