import { createHash } from "node:crypto";
import { ErrorCode, isNodeletError, type NodeletError } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { applyPodDefaults } from "../src/pod-defaults.js";
import {
  ConfigAnnotation,
  canonicalJson,
  formatRFC3339Nano,
  type StaticPodOptions,
  staticPodUid,
  toStaticPod,
} from "../src/static-pod.js";

function manifest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", labels: { app: "web" } },
    spec: { containers: [{ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] },
    ...overrides,
  };
}

const fileOptions: StaticPodOptions = {
  source: "file",
  sourceName: "/etc/kubernetes/manifests/web.yaml",
  nodeName: "node-a",
  seenAt: new Date("2026-11-27T16:35:42.120Z"),
};

function failure(raw: unknown, options = fileOptions): NodeletError {
  try {
    toStaticPod(raw, options);
  } catch (err) {
    expect(isNodeletError(err, ErrorCode.InvalidPod)).toBe(true);
    return err as NodeletError;
  }
  throw new Error("expected an invalid pod");
}

describe("toStaticPod", () => {
  it("gives the kubelet's static pod identity", () => {
    const pod = toStaticPod(manifest(), fileOptions);
    expect(pod.metadata.name).toBe("web-node-a");
    expect(pod.metadata.namespace).toBe("default");
    expect(pod.metadata.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(pod.metadata.labels).toEqual({ app: "web" });
    expect(pod.metadata.annotations).toEqual({
      [ConfigAnnotation.source]: "file",
      [ConfigAnnotation.hash]: pod.metadata.uid,
      [ConfigAnnotation.seen]: "2026-11-27T16:35:42.12Z",
    });
    expect(pod.spec.nodeName).toBe("node-a");
    expect(pod.status).toEqual({ phase: "Pending" });
    // The API server's defaults are in place.
    expect(pod.spec.restartPolicy).toBe("Always");
    expect(pod.spec.containers[0]?.ports?.[0]?.protocol).toBe("TCP");
  });

  it("hashes the defaulted manifest, the node name and the file path, as the kubelet", () => {
    const pod = toStaticPod(manifest(), fileOptions);
    const expected = createHash("md5")
      .update(canonicalJson(applyPodDefaults(manifest() as never)))
      .update("host:node-a")
      .update("file:/etc/kubernetes/manifests/web.yaml")
      .digest("hex");
    expect(pod.metadata.uid).toBe(expected);
  });

  it("gives the same UID on every run: the seen time and key order are not hashed", () => {
    const first = toStaticPod(manifest(), fileOptions);
    const reordered = {
      spec: manifest().spec,
      kind: "Pod",
      metadata: { labels: { app: "web" }, name: "web" },
      apiVersion: "v1",
    };
    const later = toStaticPod(reordered, { ...fileOptions, seenAt: new Date("2030-01-01T00:00:00Z") });
    expect(later.metadata.uid).toBe(first.metadata.uid);
    expect(later.metadata.annotations?.[ConfigAnnotation.seen]).toBe("2030-01-01T00:00:00Z");
  });

  it("gives a new UID for changed content, another node or another file", () => {
    const uid = toStaticPod(manifest(), fileOptions).metadata.uid;
    const changed = manifest({
      spec: { containers: [{ name: "nginx", image: "nginx:1.28", ports: [{ containerPort: 80 }] }] },
    });
    const uids = [
      toStaticPod(changed, fileOptions).metadata.uid,
      toStaticPod(manifest(), { ...fileOptions, nodeName: "node-b" }).metadata.uid,
      toStaticPod(manifest(), { ...fileOptions, sourceName: "/etc/kubernetes/manifests/web2.yaml" }).metadata
        .uid,
    ];
    expect(new Set([uid, ...uids]).size).toBe(4);
  });

  it("gives the same UID whether a default is written out or left to the defaults", () => {
    const explicit = manifest({
      spec: {
        restartPolicy: "Always",
        containers: [{ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80, protocol: "TCP" }] }],
      },
    });
    expect(toStaticPod(explicit, fileOptions).metadata.uid).toBe(
      toStaticPod(manifest(), fileOptions).metadata.uid,
    );
  });

  it("hashes the URL, not the node, for the http source, as the kubelet", () => {
    const options: StaticPodOptions = {
      ...fileOptions,
      source: "http",
      sourceName: "http://127.0.0.1:8080/pods",
    };
    const pod = toStaticPod(manifest(), options);
    expect(pod.metadata.annotations?.[ConfigAnnotation.source]).toBe("http");
    const expected = createHash("md5")
      .update(canonicalJson(applyPodDefaults(manifest() as never)))
      .update("url:http://127.0.0.1:8080/pods")
      .digest("hex");
    expect(pod.metadata.uid).toBe(expected);
    expect(staticPodUid(applyPodDefaults(manifest() as never), options)).toBe(expected);
  });

  it("suffixes the pod name with the node name, keeps the namespace and merges annotations", () => {
    const pod = toStaticPod(
      manifest({ metadata: { name: "etcd", namespace: "kube-system", annotations: { team: "infra" } } }),
      { ...fileOptions, nodeName: "node-a.example.com" },
    );
    expect(pod.metadata.name).toBe("etcd-node-a.example.com");
    expect(pod.metadata.namespace).toBe("kube-system");
    expect(pod.metadata.annotations?.team).toBe("infra");
  });

  it("keeps a UID the manifest sets, as the kubelet", () => {
    const pod = toStaticPod(manifest({ metadata: { name: "web", uid: "fixed-uid" } }), fileOptions);
    expect(pod.metadata.uid).toBe("fixed-uid");
    expect(pod.metadata.annotations?.[ConfigAnnotation.hash]).toBe("fixed-uid");
  });

  it("does not modify the manifest", () => {
    const raw = manifest();
    const copy = structuredClone(raw);
    toStaticPod(raw, fileOptions);
    expect(raw).toEqual(copy);
  });

  it("reports validation errors with their field paths, prefixed with the source", () => {
    const err = failure(manifest({ spec: { containers: [] } }));
    expect(err.message).toBe(
      "/etc/kubernetes/manifests/web.yaml: invalid pod: spec.containers: must have at least one container",
    );
    expect(err.details.errors).toEqual([
      { field: "spec.containers", message: "must have at least one container" },
    ]);
    expect(err.details.origin).toBe("/etc/kubernetes/manifests/web.yaml");

    const several = failure(
      manifest({
        spec: { containers: [{ name: "Bad_Name", image: "nginx", ports: [{ containerPort: 0 }] }] },
      }),
    );
    const fields = (several.details.errors as { field: string }[]).map((e) => e.field);
    expect(fields).toContain("spec.containers[0].name");
    expect(fields).toContain("spec.containers[0].ports[0].containerPort");
  });

  it("requires a name, and an object", () => {
    expect(failure(manifest({ metadata: {} })).message).toBe(
      "/etc/kubernetes/manifests/web.yaml: invalid pod: metadata.name: is required: a static pod needs a name",
    );
    expect(failure([1, 2]).message).toContain("a manifest must be an object");
    expect(failure(manifest({ metadata: { name: "x", uid: 7 } })).message).toContain(
      "metadata.uid: must be a string",
    );
  });

  it("refuses a name that is too long once the node name is added", () => {
    const err = failure(manifest({ metadata: { name: "a".repeat(250) } }));
    expect((err.details.errors as { field: string }[])[0]?.field).toBe("metadata.name");
  });
});

describe("formatRFC3339Nano", () => {
  it("writes Go's RFC3339Nano in UTC, trimming trailing zeros", () => {
    expect(formatRFC3339Nano(new Date("2026-11-27T16:35:42.123Z"))).toBe("2026-11-27T16:35:42.123Z");
    expect(formatRFC3339Nano(new Date("2026-11-27T16:35:42.100Z"))).toBe("2026-11-27T16:35:42.1Z");
    expect(formatRFC3339Nano(new Date("2026-11-27T16:35:42.000Z"))).toBe("2026-11-27T16:35:42Z");
  });
});

describe("canonicalJson", () => {
  it("sorts keys at every level and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(canonicalJson(JSON.parse('{"__proto__": {"x": 1}}'))).toBe('{"__proto__":{"x":1}}');
  });
});
