import { describe, expect, it } from "vitest";
import {
  containerFieldPath,
  containerObjectReference,
  containerTypeOf,
  podObjectReference,
  type V1Pod,
} from "../src/index.js";

const pod: V1Pod = {
  metadata: { name: "web", uid: "u1" },
  spec: {
    containers: [{ name: "app" }],
    initContainers: [{ name: "setup" }, { name: "proxy", restartPolicy: "Always" }],
  },
};

const base = { kind: "Pod", namespace: "default", name: "web", uid: "u1" };

describe("event object references", () => {
  it("references the pod, its namespace defaulted", () => {
    expect(podObjectReference(pod)).toEqual(base);
  });

  it.each([
    ["app", undefined, "spec.containers{app}"],
    ["setup", undefined, "spec.initContainers{setup}"],
    ["proxy", undefined, "spec.initContainers{proxy}"],
    ["debugger", "ephemeral", "spec.ephemeralContainers{debugger}"],
    ["app", "container", "spec.containers{app}"],
  ] as const)("%s (%s) has the field path %s", (name, type, fieldPath) => {
    expect(containerObjectReference(pod, name, type)).toEqual({ ...base, fieldPath });
    expect(containerObjectReference(pod, { name }, type)).toEqual({ ...base, fieldPath });
  });

  it("puts a container found in no list in the regular list", () => {
    expect(containerObjectReference(pod, "ghost")).toEqual({ ...base, fieldPath: "spec.containers{ghost}" });
    expect(containerTypeOf(pod, "ghost")).toBeUndefined();
  });

  it("builds field paths per list", () => {
    expect(containerFieldPath("x", "init")).toBe("spec.initContainers{x}");
    expect(containerTypeOf(pod, "app")).toBe("container");
    expect(containerTypeOf(pod, "setup")).toBe("init");
  });
});
