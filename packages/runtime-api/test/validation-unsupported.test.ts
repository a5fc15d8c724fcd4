// Fields nodelet does not implement are refused naming the field; hostAliases are checked.
import { describe, expect, it } from "vitest";
import { collectPodErrors, ErrorCode, isNodeletError, validatePod } from "../src/index.js";

// biome-ignore lint/suspicious/noExplicitAny: pods written with ill-typed values on purpose
type Json = Record<string, any>;

function pod(): Json {
  return {
    metadata: { name: "web" },
    spec: {
      containers: [{ name: "app", image: "busybox", volumeMounts: [{ name: "v", mountPath: "/v" }] }],
      initContainers: [{ name: "init", image: "busybox" }],
      volumes: [{ name: "v", emptyDir: {} }],
    },
  };
}

function fieldsAfter(change: (p: Json) => void): string[] {
  const p = pod();
  change(p);
  return collectPodErrors(p).map((e) => e.field);
}

describe("unsupported fields", () => {
  it.each([
    [
      "spec.hostUsers",
      (p: Json) => (p.spec.hostUsers = false),
      /user namespace \(hostUsers: false\) is not supported/,
    ],
    [
      "spec.ephemeralContainers",
      (p: Json) => (p.spec.ephemeralContainers = [{ name: "dbg" }]),
      /ephemeral containers/,
    ],
    [
      "spec.resourceClaims",
      (p: Json) => (p.spec.resourceClaims = [{ name: "gpu" }]),
      /dynamic resource allocation/,
    ],
    ["spec.resources", (p: Json) => (p.spec.resources = { limits: { cpu: "1" } }), /pod-level resources/],
    [
      "spec.securityContext.appArmorProfile",
      (p: Json) => (p.spec.securityContext = { appArmorProfile: { type: "RuntimeDefault" } }),
      /AppArmor is not supported by nodelet/,
    ],
    [
      "spec.containers[0].securityContext.appArmorProfile",
      (p: Json) => (p.spec.containers[0].securityContext = { appArmorProfile: { type: "Unconfined" } }),
      /AppArmor/,
    ],
    [
      "spec.initContainers[0].resources.claims",
      (p: Json) => (p.spec.initContainers[0].resources = { claims: [{ name: "gpu" }] }),
      /dynamic resource allocation/,
    ],
    [
      "spec.containers[0].volumeMounts[0].subPathExpr",
      (p: Json) => (p.spec.containers[0].volumeMounts[0].subPathExpr = "$(POD_NAME)"),
      /subPathExpr is not supported/,
    ],
    [
      "spec.containers[0].volumeMounts[0].recursiveReadOnly",
      (p: Json) => (p.spec.containers[0].volumeMounts[0].recursiveReadOnly = "Enabled"),
      /recursive read-only mount/,
    ],
  ])("refuses %s", (field, change, message) => {
    const p = pod();
    change(p);
    const errors = collectPodErrors(p);
    expect(errors.map((e) => e.field)).toEqual([field]);
    expect(errors[0]?.message).toMatch(message);
    let thrown: unknown;
    try {
      validatePod(p);
    } catch (error) {
      thrown = error;
    }
    expect(isNodeletError(thrown, ErrorCode.InvalidPod)).toBe(true);
    expect((thrown as Error).message).toContain(field);
  });

  it("accepts the values that ask for nothing", () => {
    expect(
      fieldsAfter((p) => {
        p.spec.hostUsers = true;
        p.spec.ephemeralContainers = [];
        p.spec.resourceClaims = [];
        p.spec.containers[0].volumeMounts[0].recursiveReadOnly = "Disabled";
      }),
    ).toEqual([]);
  });
});

describe("hostAliases", () => {
  it("accepts IPv4 and IPv6 aliases with host names", () => {
    expect(
      fieldsAfter((p) => {
        p.spec.hostAliases = [
          { ip: "10.0.0.1", hostnames: ["foo.local", "bar"] },
          { ip: "fd00::1", hostnames: ["v6.local"] },
          { ip: "10.0.0.2" },
        ];
      }),
    ).toEqual([]);
  });

  it("names a bad IP, a bad host name and a bad shape", () => {
    expect(
      fieldsAfter((p) => {
        p.spec.hostAliases = [{ ip: "not-an-ip", hostnames: ["ok", "Bad_Name"] }, { hostnames: "x" }, "x"];
      }),
    ).toEqual([
      "spec.hostAliases[0].ip",
      "spec.hostAliases[0].hostnames[1]",
      "spec.hostAliases[1].ip",
      "spec.hostAliases[1].hostnames",
      "spec.hostAliases[2]",
    ]);
  });
});
