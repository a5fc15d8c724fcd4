import { describe, expect, it } from "vitest";
import type { FieldError, V1Pod } from "../src/index.js";
import { collectPodErrors, ErrorCode, isNodeletError, NodeletError, validatePod } from "../src/index.js";

// Tests write ill-typed values anywhere in a pod on purpose, which is what `any` is for.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Json = Record<string, any>;

// A pod using most of what the validator reads; every test breaks one thing in a copy of it.
function fullPod(): Json {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web-0",
      namespace: "shop",
      uid: "6f1c2d3e-0000-4000-8000-000000000001",
      creationTimestamp: null,
      deletionGracePeriodSeconds: 30,
      labels: { app: "web", "app.kubernetes.io/name": "web", empty: "" },
      annotations: { "example.com/owner": "team shop: on call" },
    },
    spec: {
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      activeDeadlineSeconds: 3600,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      dnsPolicy: "ClusterFirst",
      hostname: "web-0",
      subdomain: "web",
      imagePullSecrets: [{ name: "registry-creds" }],
      os: { name: "linux" },
      securityContext: {
        runAsUser: 1000,
        runAsGroup: 1000,
        runAsNonRoot: true,
        fsGroup: 2000,
        supplementalGroups: [3000],
        seccompProfile: { type: "RuntimeDefault" },
        sysctls: [{ name: "net.ipv4.ip_local_port_range", value: "1024 65000" }],
      },
      volumes: [
        { name: "cache", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
        { name: "config", hostPath: { path: "/etc/web", type: "Directory" } },
        { name: "scratch", emptyDir: {} },
      ],
      initContainers: [
        {
          name: "migrate",
          image: "registry.example.com:5000/shop/migrate:v1.2.3",
          command: ["/bin/migrate"],
          args: ["--up"],
        },
        {
          name: "proxy",
          image: "envoyproxy/envoy@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          restartPolicy: "Always",
          readinessProbe: { tcpSocket: { port: 9901 } },
        },
      ],
      containers: [
        {
          name: "web",
          image: "nginx:1.27-alpine",
          imagePullPolicy: "IfNotPresent",
          command: ["nginx"],
          args: ["-g", "daemon off;"],
          workingDir: "/srv",
          env: [
            { name: "MODE", value: "production" },
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            {
              name: "APP",
              valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.labels['app']" } },
            },
            { name: "MEM", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
            {
              name: "TOKEN",
              valueFrom: { secretKeyRef: { name: "web-secrets", key: "token", optional: true } },
            },
            {
              name: "my.dotted-name",
              valueFrom: { configMapKeyRef: { name: "web-config", key: "app.mode" } },
            },
          ],
          ports: [
            { name: "http", containerPort: 80, protocol: "TCP" },
            { name: "metrics", containerPort: 9090, hostPort: 9090 },
          ],
          resources: {
            requests: { cpu: "250m", memory: "64Mi", "example.com/gpu": 1 },
            limits: { cpu: 1, memory: "128Mi", "example.com/gpu": "1" },
          },
          volumeMounts: [
            { name: "cache", mountPath: "/var/cache/nginx" },
            { name: "config", mountPath: "/etc/nginx/conf.d", readOnly: true, subPath: "nginx" },
          ],
          lifecycle: {
            postStart: { exec: { command: ["/bin/sh", "-c", "echo started"] } },
            preStop: { sleep: { seconds: 5 } },
          },
          livenessProbe: {
            httpGet: {
              path: "/healthz",
              port: "http",
              scheme: "HTTP",
              httpHeaders: [{ name: "X-Probe", value: "1" }],
            },
            initialDelaySeconds: 0,
            periodSeconds: 10,
            timeoutSeconds: 1,
            successThreshold: 1,
            failureThreshold: 3,
            terminationGracePeriodSeconds: 10,
          },
          readinessProbe: { grpc: { port: 9090, service: "ready" }, successThreshold: 2 },
          startupProbe: { exec: { command: ["true"] }, failureThreshold: 30 },
          securityContext: {
            runAsUser: 101,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] },
            seccompProfile: { type: "Localhost", localhostProfile: "profiles/web.json" },
          },
          terminationMessagePolicy: "FallbackToLogsOnError",
          stdin: false,
          tty: false,
        },
        { name: "sidecar", image: "busybox" },
      ],
    },
  };
}

function errorsAfter(change: (pod: Json) => void): FieldError[] {
  const pod = fullPod();
  change(pod);
  return collectPodErrors(pod);
}

/** Expects exactly one error, at `field`, whose message matches `message`. */
function expectOnly(change: (pod: Json) => void, field: string, message?: RegExp | string): void {
  const errors = errorsAfter(change);
  expect(errors.map((e) => e.field)).toEqual([field]);
  if (message !== undefined) expect(errors[0]?.message).toMatch(message);
}

function thrown(pod: unknown): NodeletError {
  try {
    validatePod(pod);
  } catch (error) {
    if (error instanceof NodeletError) return error;
    throw error;
  }
  throw new Error("validatePod did not throw");
}

describe("validatePod", () => {
  it("accepts a full pod and returns the same object", () => {
    const pod = fullPod();
    expect(collectPodErrors(pod)).toEqual([]);
    const valid: V1Pod = validatePod(pod);
    expect(valid).toBe(pod);
  });

  it("accepts a minimal pod", () => {
    const pod = { metadata: { name: "a" }, spec: { containers: [{ name: "a", image: "a" }] } };
    expect(validatePod(pod)).toBe(pod);
  });

  it("throws InvalidPod listing every error, with the pod's name and the errors as details", () => {
    const pod = fullPod();
    pod.spec.containers[1].resources = { limits: { memory: "64XB" } };
    pod.spec.terminationGracePeriodSeconds = -1;
    const error = thrown(pod);
    expect(isNodeletError(error, ErrorCode.InvalidPod)).toBe(true);
    expect(error.message).toBe(
      'invalid pod "shop/web-0": spec.containers[1].resources.limits.memory: "64XB" is not a quantity ' +
        "(e.g. 500m, 64Mi, 1G); spec.terminationGracePeriodSeconds: must be an integer of at least 0, got -1",
    );
    expect(error.details.errors).toEqual([
      {
        field: "spec.containers[1].resources.limits.memory",
        message: '"64XB" is not a quantity (e.g. 500m, 64Mi, 1G)',
      },
      { field: "spec.terminationGracePeriodSeconds", message: "must be an integer of at least 0, got -1" },
    ]);
  });

  it('names the pod "default/<name>" without a namespace, and says "invalid pod" without a name', () => {
    const unnamespaced = fullPod();
    delete unnamespaced.metadata.namespace;
    unnamespaced.spec.restartPolicy = "Sometimes";
    expect(thrown(unnamespaced).message).toMatch(/^invalid pod "default\/web-0": spec\.restartPolicy: /);
    const unnamed = fullPod();
    delete unnamed.metadata.name;
    expect(thrown(unnamed).message).toBe("invalid pod: metadata.name: is required (a non-empty string)");
  });

  it("reports every error, not only the first", () => {
    const errors = errorsAfter((pod) => {
      pod.metadata.name = "Web";
      pod.spec.containers[0].image = "Busybox";
      pod.spec.containers[0].ports[0].containerPort = 0;
      pod.spec.containers[1].name = "web";
      pod.spec.volumes[0].emptyDir.medium = "Disk";
      pod.spec.dnsPolicy = "Cluster";
    });
    expect(errors.map((e) => e.field)).toEqual([
      "metadata.name",
      "spec.volumes[0].emptyDir.medium",
      "spec.containers[0].image",
      "spec.containers[0].ports[0].containerPort",
      "spec.containers[1].name",
      "spec.dnsPolicy",
    ]);
  });

  it("stops listing after 100 errors with a summary", () => {
    const pod = fullPod();
    pod.spec.containers[0].env = Array.from({ length: 150 }, () => ({ name: "" }));
    const errors = collectPodErrors(pod);
    expect(errors).toHaveLength(101);
    expect(errors[100]).toEqual({ field: "", message: "and 50 more errors (reporting stops at 100)" });
  });
});

describe("garbage input gives InvalidPod, never a TypeError", () => {
  const cases: [string, unknown][] = [
    ["null", null],
    ["undefined", undefined],
    ["a number", 42],
    ["a string", "pod"],
    ["an array", []],
    ["a function", () => 1],
    ["an empty object", {}],
    ["spec as an array", { metadata: { name: "a" }, spec: [] }],
    ["metadata as a string", { metadata: "a", spec: {} }],
    ["containers as a string", { metadata: { name: "a" }, spec: { containers: "x" } }],
    ["a null container", { metadata: { name: "a" }, spec: { containers: [null] } }],
    ["a container as an array", { metadata: { name: "a" }, spec: { containers: [[1]] } }],
    [
      "env as an object",
      { metadata: { name: "a" }, spec: { containers: [{ name: "a", image: "a", env: {} }] } },
    ],
    [
      "numbers for strings",
      { metadata: { name: 1, namespace: 2 }, spec: { containers: [{ name: 3, image: 4 }] } },
    ],
    ["null everywhere", { apiVersion: null, kind: null, metadata: { name: null, labels: null }, spec: null }],
    [
      "nulls in a container",
      {
        metadata: { name: "a" },
        spec: {
          containers: [
            {
              name: "a",
              image: "a",
              env: [null, { name: null, valueFrom: null }, { name: "X", valueFrom: { fieldRef: null } }],
              ports: [null, { containerPort: "80" }],
              resources: { limits: null, requests: [] },
              volumeMounts: [{ name: null, mountPath: null }],
              livenessProbe: { httpGet: null, exec: { command: null } },
              lifecycle: { postStart: [], preStop: { sleep: null } },
              securityContext: { capabilities: { add: [1], drop: "ALL" }, seccompProfile: null },
              command: [null],
            },
          ],
          volumes: [null, { name: "v", hostPath: null }, "v"],
          initContainers: {},
          securityContext: { sysctls: [null], supplementalGroups: "1" },
          dnsConfig: { nameservers: [1], options: [null] },
          imagePullSecrets: [null, "x"],
          os: [],
        },
      },
    ],
    [
      "objects where numbers belong",
      {
        metadata: { name: "a", deletionGracePeriodSeconds: {} },
        spec: {
          containers: [
            { name: "a", image: "a", ports: [{ containerPort: {} }], livenessProbe: { tcpSocket: {} } },
          ],
          terminationGracePeriodSeconds: [],
        },
      },
    ],
    [
      "prototype-looking keys",
      {
        metadata: { name: "a", labels: { constructor: "x", __proto__: "y" } },
        spec: {
          containers: [{ name: "a", image: "a@constructor:1", resources: { limits: { toString: "1" } } }],
        },
      },
    ],
  ];

  it.each(cases)("%s", (_, input) => {
    const errors = collectPodErrors(input);
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) {
      expect(typeof error.field).toBe("string");
      expect(error.message).not.toBe("");
    }
    expect(() => validatePod(input)).toThrow(NodeletError);
    expect(thrown(input).code).toBe(ErrorCode.InvalidPod);
  });

  it("says what the whole input is when it is not an object", () => {
    expect(collectPodErrors(null)).toEqual([
      { field: "", message: "a pod must be an object (a Kubernetes v1 Pod), got null" },
    ]);
    expect(thrown("pod").message).toBe(
      'invalid pod: a pod must be an object (a Kubernetes v1 Pod), got "pod"',
    );
  });

  it("reports types where they are wrong", () => {
    expect(collectPodErrors({ metadata: { name: "a" }, spec: { containers: "x" } })).toEqual([
      { field: "spec.containers", message: 'must be a list, got "x"' },
    ]);
    expect(collectPodErrors({ metadata: { name: "a" }, spec: [] })).toEqual([
      { field: "spec", message: "must be an object, got an array" },
    ]);
    expect(collectPodErrors({ metadata: { name: "a" }, spec: { containers: [null] } })).toEqual([
      { field: "spec.containers[0]", message: "must be an object, got null" },
    ]);
    expect(
      collectPodErrors({
        metadata: { name: "a" },
        spec: { containers: [{ name: "a", image: "a", env: {} }] },
      }),
    ).toEqual([{ field: "spec.containers[0].env", message: "must be a list, got an object" }]);
  });

  it("bounds the number of containers", () => {
    const containers = Array.from({ length: 101 }, (_, i) => ({ name: `c${i}`, image: "busybox" }));
    expect(collectPodErrors({ metadata: { name: "a" }, spec: { containers } })).toEqual([
      { field: "spec.containers", message: "must have at most 100 containers, got 101" },
    ]);
  });
});

describe("pod and metadata rules", () => {
  it("apiVersion must be v1 and kind Pod", () => {
    expectOnly((p) => (p.apiVersion = "apps/v1"), "apiVersion", 'must be "v1", got "apps/v1"');
    expectOnly((p) => (p.kind = "Deployment"), "kind", 'must be "Pod", got "Deployment"');
  });

  it("metadata and spec are required", () => {
    expectOnly((p) => delete p.metadata, "metadata", "is required (an object)");
    expectOnly((p) => delete p.spec, "spec", "is required (an object)");
  });

  it.each(["Web", "-web", "web-", "web_1", "a".repeat(254), "web..0"])(
    "metadata.name %j is rejected",
    (name) => {
      expectOnly((p) => (p.metadata.name = name), "metadata.name", /DNS-1123 subdomain/);
    },
  );

  it("metadata.name may be a dotted subdomain of 253 characters", () => {
    const name = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;
    expect(name).toHaveLength(253);
    expect(errorsAfter((p) => (p.metadata.name = name))).toEqual([]);
  });

  it("metadata.namespace must be a DNS-1123 label", () => {
    expectOnly((p) => (p.metadata.namespace = "kube.system"), "metadata.namespace", /DNS-1123 label/);
    expectOnly((p) => (p.metadata.namespace = "a".repeat(64)), "metadata.namespace", /at most 63/);
  });

  it("labels and annotations are string maps with valid keys and label values", () => {
    expectOnly((p) => (p.metadata.labels.tier = 3), "metadata.labels.tier", "must be a string, got 3");
    expectOnly((p) => (p.metadata.labels = ["a"]), "metadata.labels", "must be an object, got an array");
    expectOnly(
      (p) => (p.metadata.labels.app = "web server"),
      "metadata.labels.app",
      /not a valid label value/,
    );
    expectOnly((p) => (p.metadata.labels["bad key"] = "x"), "metadata.labels[bad key]", /qualified name/);
    expectOnly(
      (p) => (p.metadata.annotations["example.com/n"] = null),
      "metadata.annotations[example.com/n]",
      "must be a string, got null",
    );
    expectOnly(
      (p) => (p.metadata.annotations.big = "x".repeat(300_000)),
      "metadata.annotations",
      /at most 262144 bytes/,
    );
  });

  it("metadata.deletionGracePeriodSeconds must be a non-negative integer", () => {
    expectOnly((p) => (p.metadata.deletionGracePeriodSeconds = -5), "metadata.deletionGracePeriodSeconds");
    expectOnly((p) => (p.metadata.deletionGracePeriodSeconds = 1.5), "metadata.deletionGracePeriodSeconds");
  });
});

describe("spec rules", () => {
  it("needs at least one container", () => {
    expectOnly((p) => (p.spec.containers = []), "spec.containers", "must have at least one container");
    expectOnly((p) => delete p.spec.containers, "spec.containers", "is required (a list)");
  });

  it("restartPolicy is Always, OnFailure or Never", () => {
    expectOnly(
      (p) => (p.spec.restartPolicy = "always"),
      "spec.restartPolicy",
      '"always" is not supported; expected one of "Always", "OnFailure", "Never"',
    );
  });

  it("terminationGracePeriodSeconds is an integer >= 0 and activeDeadlineSeconds an integer >= 1", () => {
    expectOnly((p) => (p.spec.terminationGracePeriodSeconds = -1), "spec.terminationGracePeriodSeconds");
    expectOnly((p) => (p.spec.terminationGracePeriodSeconds = "30"), "spec.terminationGracePeriodSeconds");
    expect(errorsAfter((p) => (p.spec.terminationGracePeriodSeconds = 0))).toEqual([]);
    expectOnly((p) => (p.spec.activeDeadlineSeconds = 0), "spec.activeDeadlineSeconds", /at least 1, got 0/);
    expectOnly((p) => (p.spec.activeDeadlineSeconds = 2.5), "spec.activeDeadlineSeconds");
  });

  it("hostNetwork, hostPID and hostIPC are booleans", () => {
    expectOnly((p) => (p.spec.hostNetwork = "true"), "spec.hostNetwork", 'must be true or false, got "true"');
    expectOnly((p) => (p.spec.hostPID = 1), "spec.hostPID");
    expectOnly((p) => (p.spec.hostIPC = null), "spec.hostIPC");
  });

  it("hostPID and shareProcessNamespace exclude each other", () => {
    expectOnly((p) => {
      p.spec.hostPID = true;
      p.spec.shareProcessNamespace = true;
    }, "spec.shareProcessNamespace");
  });

  it("dnsPolicy is one of the four, and None needs dnsConfig with a nameserver", () => {
    expectOnly((p) => (p.spec.dnsPolicy = "Host"), "spec.dnsPolicy");
    expectOnly((p) => (p.spec.dnsPolicy = "None"), "spec.dnsConfig", /is required when dnsPolicy is "None"/);
    expectOnly(
      (p) => {
        p.spec.dnsPolicy = "None";
        p.spec.dnsConfig = { searches: ["svc.cluster.local"] };
      },
      "spec.dnsConfig.nameservers",
      /at least one nameserver/,
    );
    expect(
      errorsAfter((p) => {
        p.spec.dnsPolicy = "None";
        p.spec.dnsConfig = { nameservers: ["10.96.0.10", "fd00::a"], searches: ["svc.cluster.local."] };
      }),
    ).toEqual([]);
    expectOnly(
      (p) => (p.spec.dnsConfig = { nameservers: ["dns.local"] }),
      "spec.dnsConfig.nameservers[0]",
      /IP/,
    );
    expectOnly(
      (p) => (p.spec.dnsConfig = { nameservers: ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"] }),
      "spec.dnsConfig.nameservers",
      /at most 3/,
    );
  });

  it("hostname and subdomain are DNS-1123 labels", () => {
    expectOnly((p) => (p.spec.hostname = "web.0"), "spec.hostname", /DNS-1123 label/);
    expectOnly((p) => (p.spec.subdomain = "Web"), "spec.subdomain", /DNS-1123 label/);
  });

  it("imagePullSecrets entries have a name", () => {
    expectOnly((p) => (p.spec.imagePullSecrets = [{}]), "spec.imagePullSecrets[0].name", /is required/);
    expectOnly((p) => (p.spec.imagePullSecrets = ["creds"]), "spec.imagePullSecrets[0]", /must be an object/);
  });

  it("os.name must be linux", () => {
    expectOnly((p) => (p.spec.os.name = "windows"), "spec.os.name", "nodelet runs linux pods only");
    expectOnly((p) => (p.spec.os.name = "plan9"), "spec.os.name", /expected one of "linux"/);
  });
});

describe("container rules", () => {
  it("names are required DNS-1123 labels", () => {
    expectOnly((p) => delete p.spec.containers[1].name, "spec.containers[1].name", /is required/);
    expectOnly((p) => (p.spec.containers[1].name = "Side_car"), "spec.containers[1].name", /DNS-1123 label/);
    expectOnly(
      (p) => (p.spec.initContainers[0].name = ""),
      "spec.initContainers[0].name",
      /got an empty string/,
    );
  });

  it("names are unique across containers and init containers", () => {
    expectOnly(
      (p) => (p.spec.containers[1].name = "web"),
      "spec.containers[1].name",
      'duplicate container name "web" (also spec.containers[0].name)',
    );
    expectOnly(
      (p) => (p.spec.initContainers[0].name = "web"),
      "spec.initContainers[0].name",
      'duplicate container name "web" (also spec.containers[0].name)',
    );
    expectOnly(
      (p) => (p.spec.initContainers[1].name = "migrate"),
      "spec.initContainers[1].name",
      /duplicate/,
    );
  });

  it("image is required", () => {
    expectOnly((p) => delete p.spec.containers[0].image, "spec.containers[0].image", /is required/);
    expectOnly((p) => (p.spec.containers[0].image = ""), "spec.containers[0].image", /is required/);
    expectOnly(
      (p) => (p.spec.containers[0].image = 7),
      "spec.containers[0].image",
      "must be a string, got 7",
    );
  });

  it("imagePullPolicy is Always, IfNotPresent or Never", () => {
    expectOnly(
      (p) => (p.spec.containers[0].imagePullPolicy = "IfMissing"),
      "spec.containers[0].imagePullPolicy",
    );
  });

  it("command and args are lists of strings", () => {
    expectOnly(
      (p) => (p.spec.containers[0].command = "nginx -g"),
      "spec.containers[0].command",
      /must be a list/,
    );
    expectOnly(
      (p) => (p.spec.containers[0].args = ["-p", 80]),
      "spec.containers[0].args[1]",
      "must be a string, got 80",
    );
  });

  it("terminationMessagePolicy is File or FallbackToLogsOnError", () => {
    expectOnly(
      (p) => (p.spec.containers[0].terminationMessagePolicy = "Logs"),
      "spec.containers[0].terminationMessagePolicy",
    );
  });

  it("only init containers take restartPolicy, and only Always", () => {
    expectOnly(
      (p) => (p.spec.containers[0].restartPolicy = "Always"),
      "spec.containers[0].restartPolicy",
      /must not be set on a regular container/,
    );
    expectOnly(
      (p) => (p.spec.initContainers[1].restartPolicy = "OnFailure"),
      "spec.initContainers[1].restartPolicy",
    );
  });

  it("init containers that are not sidecars take no probes or lifecycle hooks", () => {
    expectOnly(
      (p) => (p.spec.initContainers[0].livenessProbe = { exec: { command: ["true"] } }),
      "spec.initContainers[0].livenessProbe",
      /unless its restartPolicy is "Always"/,
    );
    expectOnly(
      (p) => delete p.spec.initContainers[1].restartPolicy,
      "spec.initContainers[1].readinessProbe",
      /unless its restartPolicy is "Always"/,
    );
  });

  it("init containers are bounded too", () => {
    expectOnly(
      (p) => (p.spec.initContainers = Array.from({ length: 101 }, (_, i) => ({ name: `i${i}`, image: "a" }))),
      "spec.initContainers",
      /at most 100/,
    );
  });
});

describe("env", () => {
  const env = "spec.containers[0].env";

  it("entries need a name of printable ASCII other than '='", () => {
    expectOnly((p) => (p.spec.containers[0].env[0] = { value: "x" }), `${env}[0].name`, /is required/);
    expectOnly((p) => (p.spec.containers[0].env[0].name = "A=B"), `${env}[0].name`, /other than '='/);
    expectOnly((p) => (p.spec.containers[0].env[0].name = "CAFÉ"), `${env}[0].name`, /printable ASCII/);
    expect(errorsAfter((p) => (p.spec.containers[0].env[0].name = "1 weird-but.allowed!"))).toEqual([]);
  });

  it("value and valueFrom exclude each other", () => {
    expectOnly(
      (p) => (p.spec.containers[0].env[1].value = "web"),
      `${env}[1].valueFrom`,
      /must not be set when value is not empty/,
    );
    expect(errorsAfter((p) => (p.spec.containers[0].env[1].value = ""))).toEqual([]);
  });

  it("valueFrom has exactly one source", () => {
    expectOnly(
      (p) => (p.spec.containers[0].env[1].valueFrom = {}),
      `${env}[1].valueFrom`,
      /exactly one source/,
    );
    expectOnly(
      (p) => (p.spec.containers[0].env[1].valueFrom.secretKeyRef = { name: "s", key: "k" }),
      `${env}[1].valueFrom`,
      /got 2: fieldRef, secretKeyRef/,
    );
  });

  it.each([
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.labels['app.kubernetes.io/name']",
    "metadata.annotations['example.com/owner']",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
  ])("fieldRef.fieldPath %s is accepted", (fieldPath) => {
    expect(
      errorsAfter((p) => (p.spec.containers[0].env[1].valueFrom.fieldRef.fieldPath = fieldPath)),
    ).toEqual([]);
  });

  it.each([
    "metadata.labels",
    "spec.containers",
    "status.phase",
    "metadata.labels['bad key']",
    "metadata.labels[app]",
  ])("fieldRef.fieldPath %s is rejected", (fieldPath) => {
    expectOnly(
      (p) => (p.spec.containers[0].env[1].valueFrom.fieldRef.fieldPath = fieldPath),
      `${env}[1].valueFrom.fieldRef.fieldPath`,
    );
  });

  it("fieldRef.apiVersion is v1", () => {
    expectOnly(
      (p) => (p.spec.containers[0].env[2].valueFrom.fieldRef.apiVersion = "v2"),
      `${env}[2].valueFrom.fieldRef.apiVersion`,
    );
  });

  it("resourceFieldRef names a container resource", () => {
    expectOnly(
      (p) => (p.spec.containers[0].env[3].valueFrom.resourceFieldRef.resource = "limits.gpu"),
      `${env}[3].valueFrom.resourceFieldRef.resource`,
    );
    expectOnly(
      (p) => (p.spec.containers[0].env[3].valueFrom.resourceFieldRef.divisor = "1MB"),
      `${env}[3].valueFrom.resourceFieldRef.divisor`,
      /not a quantity/,
    );
  });

  it("secret and config map references need a name and a valid key", () => {
    expectOnly(
      (p) => delete p.spec.containers[0].env[4].valueFrom.secretKeyRef.name,
      `${env}[4].valueFrom.secretKeyRef.name`,
    );
    expectOnly(
      (p) => (p.spec.containers[0].env[5].valueFrom.configMapKeyRef.key = "a/b"),
      `${env}[5].valueFrom.configMapKeyRef.key`,
    );
  });
});

describe("ports", () => {
  const ports = "spec.containers[0].ports";

  it("containerPort is an integer from 1 to 65535", () => {
    expectOnly(
      (p) => (p.spec.containers[0].ports[0].containerPort = 0),
      `${ports}[0].containerPort`,
      /from 1 to 65535, got 0/,
    );
    expectOnly((p) => (p.spec.containers[0].ports[0].containerPort = 65536), `${ports}[0].containerPort`);
    expectOnly((p) => (p.spec.containers[0].ports[0].containerPort = "80"), `${ports}[0].containerPort`);
    expectOnly(
      (p) => delete p.spec.containers[0].ports[0].containerPort,
      `${ports}[0].containerPort`,
      /is required/,
    );
  });

  it("hostPort is an integer from 0 to 65535", () => {
    expectOnly((p) => (p.spec.containers[0].ports[1].hostPort = -1), `${ports}[1].hostPort`);
    expect(errorsAfter((p) => (p.spec.containers[0].ports[1].hostPort = 0))).toEqual([]);
  });

  it("protocol is TCP, UDP or SCTP", () => {
    expectOnly((p) => (p.spec.containers[0].ports[0].protocol = "tcp"), `${ports}[0].protocol`);
  });

  it("names are IANA_SVC_NAMEs, unique in the container", () => {
    expectOnly(
      (p) => (p.spec.containers[0].ports[1].name = "http"),
      `${ports}[1].name`,
      /duplicate port name "http"/,
    );
    for (const name of ["a-very-long-port-name", "8080", "-http", "http-", "ht--tp", "HTTP"]) {
      expectOnly((p) => (p.spec.containers[0].ports[0].name = name), `${ports}[0].name`, /IANA_SVC_NAME/);
    }
  });

  it("host ports do not clash, and equal the container port on the host network", () => {
    expectOnly(
      (p) => (p.spec.containers[1].ports = [{ containerPort: 9091, hostPort: 9090 }]),
      "spec.containers[1].ports[0].hostPort",
      /duplicate host port 9090\/TCP \(also spec.containers\[0\].ports\[1\].hostPort\)/,
    );
    expect(
      errorsAfter(
        (p) => (p.spec.containers[1].ports = [{ containerPort: 9091, hostPort: 9090, protocol: "UDP" }]),
      ),
    ).toEqual([]);
    expectOnly(
      (p) => {
        p.spec.hostNetwork = true;
        p.spec.containers[0].ports[1].containerPort = 9091;
      },
      `${ports}[1].hostPort`,
      /must equal containerPort \(9091\) when hostNetwork is true/,
    );
  });
});

describe("resources", () => {
  it("values are quantities", () => {
    expectOnly(
      (p) => (p.spec.containers[1].resources = { limits: { memory: "64XB" } }),
      "spec.containers[1].resources.limits.memory",
      '"64XB" is not a quantity (e.g. 500m, 64Mi, 1G)',
    );
    expectOnly(
      (p) => (p.spec.containers[0].resources.requests.cpu = null),
      "spec.containers[0].resources.requests.cpu",
      "null is not a quantity (e.g. 500m, 64Mi, 1G)",
    );
  });

  it("values are not negative", () => {
    expectOnly(
      (p) => (p.spec.containers[0].resources.requests.memory = "-1Mi"),
      "spec.containers[0].resources.requests.memory",
      'must not be negative, got "-1Mi"',
    );
  });

  it("a request does not exceed its limit", () => {
    expectOnly(
      (p) => (p.spec.containers[0].resources.requests.cpu = "1500m"),
      "spec.containers[0].resources.requests.cpu",
      "must be less than or equal to the cpu limit of 1, got 1500m",
    );
    expect(errorsAfter((p) => (p.spec.containers[0].resources.requests.memory = "128Mi"))).toEqual([]);
    expect(errorsAfter((p) => (p.spec.containers[0].resources.requests.cpu = "1000m"))).toEqual([]);
  });

  it("resource names are known or fully qualified", () => {
    expectOnly(
      (p) => (p.spec.containers[0].resources.limits.gpu = 1),
      "spec.containers[0].resources.limits.gpu",
      /not a supported resource name/,
    );
    expect(errorsAfter((p) => (p.spec.containers[0].resources.limits["hugepages-2Mi"] = "4Mi"))).toEqual([]);
  });

  it("extended resources and hugepages cannot be overcommitted", () => {
    expectOnly(
      (p) => (p.spec.containers[0].resources.requests["example.com/gpu"] = 2),
      "spec.containers[0].resources.requests[example.com/gpu]",
      /must equal the example.com\/gpu limit of 1/,
    );
    expectOnly(
      (p) => (p.spec.containers[0].resources.requests["hugepages-1Gi"] = "1Gi"),
      "spec.containers[0].resources.requests.hugepages-1Gi",
      /needs a limit too/,
    );
    const errors = errorsAfter((p) => {
      p.spec.containers[0].resources.requests["example.com/gpu"] = "500m";
      p.spec.containers[0].resources.limits["example.com/gpu"] = "500m";
    });
    expect(errors).toEqual([
      {
        field: "spec.containers[0].resources.limits[example.com/gpu]",
        message: 'must be a whole number for the extended resource example.com/gpu, got "500m"',
      },
      {
        field: "spec.containers[0].resources.requests[example.com/gpu]",
        message: 'must be a whole number for the extended resource example.com/gpu, got "500m"',
      },
    ]);
  });
});

describe("volumes and volume mounts", () => {
  it("a mount names a volume of the pod", () => {
    expectOnly(
      (p) => (p.spec.containers[0].volumeMounts[0].name = "data"),
      "spec.containers[0].volumeMounts[0].name",
      '"data" does not match any volume in spec.volumes (volumes: "cache", "config", "scratch")',
    );
    const errors = errorsAfter((p) => delete p.spec.volumes);
    expect(errors.map((e) => e.field)).toEqual([
      "spec.containers[0].volumeMounts[0].name",
      "spec.containers[0].volumeMounts[1].name",
    ]);
    expect(errors[0]?.message).toBe(
      '"cache" does not match any volume in spec.volumes (spec.volumes is empty)',
    );
    // A spec.volumes of the wrong type is reported once, not again for every mount.
    expectOnly((p) => (p.spec.volumes = {}), "spec.volumes", "must be a list, got an object");
  });

  it("mountPath is absolute and unique in the container", () => {
    expectOnly(
      (p) => (p.spec.containers[0].volumeMounts[0].mountPath = "var/cache"),
      "spec.containers[0].volumeMounts[0].mountPath",
      /must be an absolute path/,
    );
    expectOnly(
      (p) => (p.spec.containers[0].volumeMounts[1].mountPath = "/var/cache/nginx"),
      "spec.containers[0].volumeMounts[1].mountPath",
      /duplicate mountPath "\/var\/cache\/nginx" \(also spec.containers\[0\].volumeMounts\[0\].mountPath\)/,
    );
    expectOnly(
      (p) => delete p.spec.containers[0].volumeMounts[0].mountPath,
      "spec.containers[0].volumeMounts[0].mountPath",
    );
  });

  it("subPath is relative without '..', and Bidirectional propagation needs privilege", () => {
    expectOnly(
      (p) => (p.spec.containers[0].volumeMounts[1].subPath = "../x"),
      "spec.containers[0].volumeMounts[1].subPath",
    );
    expectOnly(
      (p) => (p.spec.containers[0].volumeMounts[1].subPath = "/x"),
      "spec.containers[0].volumeMounts[1].subPath",
    );
    expectOnly(
      (p) =>
        (p.spec.containers[1].volumeMounts = [
          { name: "cache", mountPath: "/c", mountPropagation: "Bidirectional" },
        ]),
      "spec.containers[1].volumeMounts[0].mountPropagation",
      /privileged/,
    );
  });

  it("volume names are unique DNS-1123 labels", () => {
    expectOnly(
      (p) => (p.spec.volumes[2].name = "cache"),
      "spec.volumes[2].name",
      /duplicate volume name "cache"/,
    );
    expectOnly((p) => (p.spec.volumes[2].name = "Scratch"), "spec.volumes[2].name", /DNS-1123 label/);
    expectOnly((p) => delete p.spec.volumes[2].name, "spec.volumes[2].name", /is required/);
  });

  it("a volume has exactly one source, emptyDir or hostPath", () => {
    expectOnly(
      (p) => (p.spec.volumes[2] = { name: "scratch" }),
      "spec.volumes[2]",
      /must specify a volume source/,
    );
    expectOnly(
      (p) => (p.spec.volumes[2].hostPath = { path: "/tmp" }),
      "spec.volumes[2]",
      /exactly one volume source, got 2: emptyDir, hostPath/,
    );
    expectOnly(
      (p) => (p.spec.volumes[2] = { name: "scratch", configMap: { name: "web-config" } }),
      "spec.volumes[2].configMap",
      "unsupported volume source; nodelet supports emptyDir and hostPath",
    );
  });

  it("hostPath.path is absolute; emptyDir takes a quantity sizeLimit and medium '' or Memory", () => {
    expectOnly(
      (p) => (p.spec.volumes[1].hostPath.path = "etc/web"),
      "spec.volumes[1].hostPath.path",
      /absolute/,
    );
    expectOnly(
      (p) => (p.spec.volumes[1].hostPath.path = "/etc/../root"),
      "spec.volumes[1].hostPath.path",
      /'\.\.'/,
    );
    expectOnly((p) => delete p.spec.volumes[1].hostPath.path, "spec.volumes[1].hostPath.path", /is required/);
    expectOnly((p) => (p.spec.volumes[1].hostPath.type = "Dir"), "spec.volumes[1].hostPath.type");
    expectOnly(
      (p) => (p.spec.volumes[0].emptyDir.sizeLimit = "1 GB"),
      "spec.volumes[0].emptyDir.sizeLimit",
      /not a quantity/,
    );
    expectOnly((p) => (p.spec.volumes[0].emptyDir.medium = "HugePages"), "spec.volumes[0].emptyDir.medium");
    expect(errorsAfter((p) => (p.spec.volumes[0].emptyDir.medium = ""))).toEqual([]);
  });
});

describe("probes and lifecycle hooks", () => {
  const liveness = "spec.containers[0].livenessProbe";

  it("a probe has exactly one handler", () => {
    expectOnly(
      (p) => (p.spec.containers[0].livenessProbe = { periodSeconds: 5 }),
      liveness,
      "must specify exactly one handler: exec, httpGet, tcpSocket, grpc",
    );
    expectOnly(
      (p) => (p.spec.containers[0].livenessProbe.tcpSocket = { port: 80 }),
      liveness,
      /got 2: httpGet, tcpSocket/,
    );
  });

  it("timings are at least 1, initialDelaySeconds at least 0", () => {
    for (const field of ["periodSeconds", "timeoutSeconds", "successThreshold", "failureThreshold"]) {
      expectOnly(
        (p) => (p.spec.containers[0].readinessProbe[field] = 0),
        `spec.containers[0].readinessProbe.${field}`,
      );
    }
    expectOnly(
      (p) => (p.spec.containers[0].livenessProbe.initialDelaySeconds = -1),
      `${liveness}.initialDelaySeconds`,
    );
  });

  it("liveness and startup probes have successThreshold 1", () => {
    expectOnly(
      (p) => (p.spec.containers[0].livenessProbe.successThreshold = 2),
      `${liveness}.successThreshold`,
      "must be 1 for liveness probes, got 2",
    );
    expectOnly(
      (p) => (p.spec.containers[0].startupProbe.successThreshold = 3),
      "spec.containers[0].startupProbe.successThreshold",
    );
  });

  it("probe terminationGracePeriodSeconds is at least 1, and not for readiness", () => {
    expectOnly(
      (p) => (p.spec.containers[0].livenessProbe.terminationGracePeriodSeconds = 0),
      `${liveness}.terminationGracePeriodSeconds`,
    );
    expectOnly(
      (p) => (p.spec.containers[0].readinessProbe.terminationGracePeriodSeconds = 5),
      "spec.containers[0].readinessProbe.terminationGracePeriodSeconds",
    );
  });

  it("handler ports are 1-65535 or a port name", () => {
    expectOnly((p) => (p.spec.containers[0].livenessProbe.httpGet.port = 0), `${liveness}.httpGet.port`);
    expectOnly(
      (p) => (p.spec.containers[0].livenessProbe.httpGet.port = "Http"),
      `${liveness}.httpGet.port`,
      /IANA_SVC_NAME/,
    );
    expectOnly(
      (p) => delete p.spec.containers[0].livenessProbe.httpGet.port,
      `${liveness}.httpGet.port`,
      /is required/,
    );
    expectOnly(
      (p) => (p.spec.containers[0].readinessProbe.grpc.port = "grpc"),
      "spec.containers[0].readinessProbe.grpc.port",
    );
    expectOnly(
      (p) => (p.spec.initContainers[1].readinessProbe.tcpSocket.port = 70000),
      "spec.initContainers[1].readinessProbe.tcpSocket.port",
    );
  });

  it("httpGet scheme and headers are checked, exec needs a command", () => {
    expectOnly(
      (p) => (p.spec.containers[0].livenessProbe.httpGet.scheme = "FTP"),
      `${liveness}.httpGet.scheme`,
    );
    expectOnly(
      (p) => (p.spec.containers[0].livenessProbe.httpGet.httpHeaders[0].name = "X Probe"),
      `${liveness}.httpGet.httpHeaders[0].name`,
    );
    expectOnly(
      (p) => (p.spec.containers[0].startupProbe.exec.command = []),
      "spec.containers[0].startupProbe.exec.command",
      /is required/,
    );
  });

  it("a lifecycle handler has exactly one of exec, httpGet, tcpSocket, sleep", () => {
    expectOnly(
      (p) => (p.spec.containers[0].lifecycle.preStop = {}),
      "spec.containers[0].lifecycle.preStop",
      "must specify exactly one handler: exec, httpGet, tcpSocket, sleep",
    );
    expectOnly(
      (p) => (p.spec.containers[0].lifecycle.preStop.httpGet = { port: 80 }),
      "spec.containers[0].lifecycle.preStop",
      /got 2/,
    );
  });

  it("sleep.seconds is an integer >= 0", () => {
    expectOnly(
      (p) => (p.spec.containers[0].lifecycle.preStop.sleep.seconds = -1),
      "spec.containers[0].lifecycle.preStop.sleep.seconds",
    );
    expectOnly(
      (p) => (p.spec.containers[0].lifecycle.preStop.sleep.seconds = 1.5),
      "spec.containers[0].lifecycle.preStop.sleep.seconds",
    );
    expect(errorsAfter((p) => (p.spec.containers[0].lifecycle.preStop.sleep.seconds = 0))).toEqual([]);
  });
});

describe("security contexts", () => {
  const sc = "spec.containers[0].securityContext";

  it("runAsUser and runAsGroup are integers >= 0", () => {
    expectOnly((p) => (p.spec.containers[0].securityContext.runAsUser = -1), `${sc}.runAsUser`);
    expectOnly((p) => (p.spec.securityContext.runAsGroup = "1000"), "spec.securityContext.runAsGroup");
    expectOnly((p) => (p.spec.securityContext.runAsUser = 2 ** 31), "spec.securityContext.runAsUser");
  });

  it("seccompProfile.type is known and localhostProfile is set iff Localhost", () => {
    expectOnly(
      (p) => (p.spec.securityContext.seccompProfile.type = "Default"),
      "spec.securityContext.seccompProfile.type",
    );
    expectOnly(
      (p) => delete p.spec.containers[0].securityContext.seccompProfile.localhostProfile,
      `${sc}.seccompProfile.localhostProfile`,
      /is required/,
    );
    expectOnly(
      (p) => (p.spec.securityContext.seccompProfile.localhostProfile = "x.json"),
      "spec.securityContext.seccompProfile.localhostProfile",
      /only be set when type is "Localhost"/,
    );
  });

  it("capabilities add and drop are lists of strings", () => {
    expectOnly(
      (p) => (p.spec.containers[0].securityContext.capabilities.drop = "ALL"),
      `${sc}.capabilities.drop`,
    );
    expectOnly(
      (p) => (p.spec.containers[0].securityContext.capabilities.add = [7]),
      `${sc}.capabilities.add[0]`,
    );
  });

  it("privilege escalation cannot be off for a privileged container", () => {
    expectOnly(
      (p) => (p.spec.containers[0].securityContext.privileged = true),
      `${sc}.allowPrivilegeEscalation`,
    );
    expectOnly(
      (p) => p.spec.containers[0].securityContext.capabilities.add.push("SYS_ADMIN"),
      `${sc}.allowPrivilegeEscalation`,
    );
  });

  it("sysctls have valid, unique names", () => {
    expectOnly(
      (p) => (p.spec.securityContext.sysctls[0].name = "Net.IPv4"),
      "spec.securityContext.sysctls[0].name",
    );
    expectOnly(
      (p) => p.spec.securityContext.sysctls.push({ name: "net.ipv4.ip_local_port_range", value: "1 2" }),
      "spec.securityContext.sysctls[1].name",
      /duplicate sysctl/,
    );
  });
});

describe("image references", () => {
  it.each([
    "busybox",
    "busybox:latest",
    "busybox:1.36.1-musl",
    "library/busybox",
    "docker.io/library/busybox:1.36",
    "registry.example.com:5000/team/app:v1",
    "localhost/app",
    "localhost:5000/app",
    "Example.COM/app",
    "[::1]:5000/app:dev",
    "a.b_c__d-e--f/g",
    "ghcr.io/org/sub/repo:TAG_1.0",
    `busybox@sha256:${"a".repeat(64)}`,
    `busybox:1.36@sha256:${"0123456789abcdef".repeat(4)}`,
    `busybox@sha512:${"f".repeat(128)}`,
  ])("accepts %s", (image) => {
    expect(errorsAfter((p) => (p.spec.containers[1].image = image))).toEqual([]);
  });

  it.each([
    ["Busybox", /must be lowercase/],
    ["library/BusyBox:1", /must be lowercase/],
    ["busybox:", /not a valid image reference/],
    ["a//b", /not a valid image reference/],
    ["busybox@sha256:xyz", /invalid digest: sha256 takes 64/],
    [`busybox@sha256:${"A".repeat(64)}`, /invalid digest/],
    [`busybox@md5:${"a".repeat(32)}`, /unsupported digest algorithm/],
    ["busy box", /must not contain whitespace/],
    [" busybox", /leading or trailing whitespace/],
    ["busybox:tag with space", /whitespace/],
    ["-busybox", /not a valid image reference/],
    ["busybox-", /not a valid image reference/],
    ["busybox:-tag", /not a valid image reference/],
    [`busybox:${"t".repeat(129)}`, /not a valid image reference/],
    ["busybox@", /not a valid image reference/],
    [":latest", /not a valid image reference/],
    ["registry.example.com:port/app", /not a valid image reference/],
    ["a/b/", /not a valid image reference/],
    ["a..b", /not a valid image reference/],
    ["a___b", /not a valid image reference/],
    ["0123456789abcdef".repeat(4), /64 hexadecimal digits/],
    [`${"a".repeat(256)}`, /longer than 255/],
  ])("rejects %j", (image, message) => {
    expectOnly((p) => (p.spec.containers[1].image = image), "spec.containers[1].image", message);
  });

  it("checks long hostile references quickly", () => {
    const start = performance.now();
    for (const image of [
      `${"a-".repeat(250)}!`,
      `${"a.".repeat(250)}/`,
      `${"a".repeat(500)}:`,
      `${"a/".repeat(250)}A`,
    ]) {
      expect(errorsAfter((p) => (p.spec.containers[1].image = image))).toHaveLength(1);
    }
    expect(performance.now() - start).toBeLessThan(500);
  });
});
