import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NamespaceMode, Protocol, SecurityProfile_ProfileType } from "@nodelet/cri-api";
import { ErrorCode, isNodeletError, type V1Container, type V1Pod } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildPodLogsDirectory,
  generatePodSandboxConfig,
  namespacesForPod,
  parseResolvConf,
  type SandboxConfigOptions,
} from "../src/sandbox-config.js";

let dir: string;
let resolvConf: string;
let options: SandboxConfigOptions;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "nodelet-sandbox-"));
  resolvConf = join(dir, "resolv.conf");
  await writeFile(
    resolvConf,
    [
      "# written by a test",
      "nameserver 192.168.1.1",
      "nameserver 192.168.1.2",
      "search old.example",
      "search corp.example. lab.example .",
      "options ndots:2 timeout:1",
      "options ndots:3 rotate",
      "",
    ].join("\n"),
  );
  options = { podLogsDir: "/var/log/pods", seccompDefault: false, hostResolvConf: resolvConf };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function pod(spec: Partial<V1Pod["spec"]> = {}, metadata: Partial<V1Pod["metadata"]> = {}): V1Pod {
  return {
    metadata: {
      name: "web",
      namespace: "prod",
      uid: "uid-1",
      labels: { app: "web" },
      annotations: { "kubernetes.io/config.source": "file" },
      ...metadata,
    },
    spec: { containers: [{ name: "app" }], ...spec },
  };
}

function sandboxError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

describe("buildPodLogsDirectory", () => {
  it("is <dir>/<namespace>_<name>_<uid>", () => {
    expect(buildPodLogsDirectory("/var/log/pods", "prod", "web", "uid-1")).toBe(
      "/var/log/pods/prod_web_uid-1",
    );
  });

  it.each([
    ["../etc", "web", "u"],
    ["prod", "a/b", "u"],
    ["prod", "web", ".."],
    ["prod", "web", ""],
  ])("refuses %j %j %j", (namespace, name, uid) => {
    const error = sandboxError(() => buildPodLogsDirectory("/var/log/pods", namespace, name, uid));
    expect(isNodeletError(error, ErrorCode.InvalidPod)).toBe(true);
  });
});

describe("generatePodSandboxConfig", () => {
  it("carries metadata, labels, annotations and the log directory", () => {
    const config = generatePodSandboxConfig(pod(), 2, options);
    expect(config.metadata).toEqual({ name: "web", namespace: "prod", uid: "uid-1", attempt: 2 });
    expect(config.labels).toEqual({
      app: "web",
      "io.kubernetes.pod.name": "web",
      "io.kubernetes.pod.namespace": "prod",
      "io.kubernetes.pod.uid": "uid-1",
      "io.nodelet.managed-by": "nodelet",
    });
    expect(config.annotations).toEqual({ "kubernetes.io/config.source": "file" });
    expect(config.logDirectory).toBe("/var/log/pods/prod_web_uid-1");
    expect(config.hostname).toBe("web");
  });

  it("defaults the namespace to default", () => {
    const config = generatePodSandboxConfig(pod({}, { namespace: "" }), 0, options);
    expect(config.metadata?.namespace).toBe("default");
    expect(config.logDirectory).toBe("/var/log/pods/default_web_uid-1");
  });

  describe("hostname", () => {
    it("prefers spec.hostname", () => {
      expect(generatePodSandboxConfig(pod({ hostname: "front" }), 0, options).hostname).toBe("front");
    });

    it("truncates a long pod name to 63 characters without a trailing - or .", () => {
      const name = `${"a".repeat(61)}-.b${"c".repeat(10)}`;
      const hostname = generatePodSandboxConfig(pod({}, { name }), 0, options).hostname;
      expect(hostname).toBe("a".repeat(61));
      const plain = "x".repeat(70);
      expect(generatePodSandboxConfig(pod({}, { name: plain }), 0, options).hostname).toBe("x".repeat(63));
    });

    it("is the FQDN with setHostnameAsFQDN and a subdomain", () => {
      const config = generatePodSandboxConfig(
        pod({ hostname: "db-0", subdomain: "db", setHostnameAsFQDN: true }),
        0,
        { ...options, clusterDomain: "cluster.local" },
      );
      expect(config.hostname).toBe("db-0.db.prod.svc.cluster.local");
      expect(generatePodSandboxConfig(pod({ hostname: "db-0", subdomain: "db" }), 0, options).hostname).toBe(
        "db-0",
      );
    });

    it("refuses an invalid spec.hostname and an FQDN over 64 characters", () => {
      const bad = sandboxError(() => generatePodSandboxConfig(pod({ hostname: "Not_A_Label" }), 0, options));
      expect(isNodeletError(bad, ErrorCode.CreatePodSandboxError)).toBe(true);
      expect(bad.message).toMatch(/not a valid DNS label/);
      const long = sandboxError(() =>
        generatePodSandboxConfig(
          pod({ hostname: "h".repeat(40), subdomain: "s".repeat(20), setHostnameAsFQDN: true }),
          0,
          { ...options, clusterDomain: "cluster.local" },
        ),
      );
      expect(long.message).toMatch(
        /FQDN .* is too long \(64 characters is the max, 84 characters requested\)/,
      );
    });
  });

  it("uses the node's namespaces and no hostname for hostNetwork", () => {
    const config = generatePodSandboxConfig(
      pod({ hostNetwork: true, hostPID: true, hostIPC: true }),
      0,
      options,
    );
    expect(config.hostname).toBe("");
    expect(config.linux?.securityContext?.namespaceOptions).toEqual({
      network: NamespaceMode.NODE,
      pid: NamespaceMode.NODE,
      ipc: NamespaceMode.NODE,
      targetId: "",
      usernsOptions: undefined,
    });
  });

  it("builds the Linux part", () => {
    const init: V1Container = { name: "setup", securityContext: { privileged: true } };
    const config = generatePodSandboxConfig(
      pod({
        initContainers: [init],
        securityContext: {
          runAsUser: 1000,
          runAsGroup: 2000,
          fsGroup: 3000,
          supplementalGroups: [4000],
          seLinuxOptions: { type: "spc_t" },
          seccompProfile: { type: "Unconfined" },
          sysctls: [
            { name: "net/ipv4/conf/eth0.100/rp_filter", value: "1" },
            { name: "net.ipv4.ip_local_port_range", value: "1024 65000" },
          ],
        },
      }),
      0,
      { ...options, cgroupParent: "/kubepods/burstable/poduid-1", seccompDefault: false },
    );
    const linux = config.linux;
    expect(linux?.cgroupParent).toBe("/kubepods/burstable/poduid-1");
    expect(linux?.sysctls).toEqual({
      "net.ipv4.conf.eth0/100.rp_filter": "1",
      "net.ipv4.ip_local_port_range": "1024 65000",
    });
    const sc = linux?.securityContext;
    expect(sc?.privileged).toBe(true);
    expect(sc?.runAsUser).toEqual({ value: 1000n });
    expect(sc?.runAsGroup).toEqual({ value: 2000n });
    expect(sc?.supplementalGroups).toEqual([3000n, 4000n]);
    expect(sc?.selinuxOptions).toEqual({ user: "", role: "", type: "spc_t", level: "" });
    expect(sc?.seccomp).toEqual({
      profileType: SecurityProfile_ProfileType.RuntimeDefault,
      localhostRef: "",
    });
    expect(sc?.namespaceOptions).toEqual(namespacesForPod(pod()));
  });

  it("maps every port of the regular containers, skipping a repeated name", () => {
    const config = generatePodSandboxConfig(
      pod({
        initContainers: [{ name: "init", ports: [{ containerPort: 1 }] }],
        containers: [
          {
            name: "a",
            ports: [
              { name: "http", containerPort: 80, hostPort: 8080 },
              { name: "http", containerPort: 81 },
              { containerPort: 53, protocol: "UDP", hostIP: "127.0.0.1", hostPort: 53 },
              { containerPort: 53, protocol: "UDP", hostIP: "127.0.0.1", hostPort: 53 },
              { containerPort: 9, protocol: "SCTP" },
            ],
          },
          { name: "b", ports: [{ name: "http", containerPort: 90 }] },
        ],
      }),
      0,
      options,
    );
    expect(config.portMappings).toEqual([
      { protocol: Protocol.TCP, containerPort: 80, hostPort: 8080, hostIp: "" },
      { protocol: Protocol.UDP, containerPort: 53, hostPort: 53, hostIp: "127.0.0.1" },
      { protocol: Protocol.SCTP, containerPort: 9, hostPort: 0, hostIp: "" },
      { protocol: Protocol.TCP, containerPort: 90, hostPort: 0, hostIp: "" },
    ]);
  });

  describe("DNS", () => {
    const host = { servers: ["192.168.1.1", "192.168.1.2"], searches: ["corp.example", "lab.example"] };

    it("None: only the pod's dnsConfig", () => {
      const config = generatePodSandboxConfig(
        pod({
          dnsPolicy: "None",
          dnsConfig: {
            nameservers: ["1.1.1.1"],
            searches: ["a.example"],
            options: [{ name: "ndots", value: "1" }],
          },
        }),
        0,
        options,
      );
      expect(config.dnsConfig).toEqual({
        servers: ["1.1.1.1"],
        searches: ["a.example"],
        options: ["ndots:1"],
      });
    });

    it("Default: the host's resolv.conf", () => {
      const config = generatePodSandboxConfig(pod({ dnsPolicy: "Default" }), 0, options);
      expect(config.dnsConfig).toEqual({ ...host, options: ["timeout:1", "ndots:3", "rotate"] });
    });

    it("ClusterFirst without cluster DNS falls back to the host's resolver", () => {
      expect(generatePodSandboxConfig(pod(), 0, options).dnsConfig).toEqual(
        generatePodSandboxConfig(pod({ dnsPolicy: "Default" }), 0, options).dnsConfig,
      );
    });

    it("ClusterFirst with cluster DNS: its servers, cluster searches first, ndots:5", () => {
      const config = generatePodSandboxConfig(pod({ dnsPolicy: "ClusterFirst" }), 0, {
        ...options,
        clusterDNS: ["10.96.0.10"],
        clusterDomain: "cluster.local",
      });
      expect(config.dnsConfig).toEqual({
        servers: ["10.96.0.10"],
        searches: ["prod.svc.cluster.local", "svc.cluster.local", "cluster.local", ...host.searches],
        options: ["ndots:5"],
      });
    });

    it("ClusterFirst on the host network means Default, unless ClusterFirstWithHostNet", () => {
      const cluster = { ...options, clusterDNS: ["10.96.0.10"], clusterDomain: "cluster.local" };
      expect(generatePodSandboxConfig(pod({ hostNetwork: true }), 0, cluster).dnsConfig?.servers).toEqual(
        host.servers,
      );
      expect(
        generatePodSandboxConfig(pod({ hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" }), 0, cluster)
          .dnsConfig?.servers,
      ).toEqual(["10.96.0.10"]);
    });

    it("merges the pod's dnsConfig and keeps within the limits", () => {
      const config = generatePodSandboxConfig(
        pod({
          dnsPolicy: "Default",
          dnsConfig: {
            nameservers: ["192.168.1.1", "8.8.8.8", "9.9.9.9"],
            searches: ["extra.example"],
            options: [{ name: "ndots", value: "1" }, { name: "edns0" }],
          },
        }),
        0,
        options,
      );
      expect(config.dnsConfig).toEqual({
        servers: ["192.168.1.1", "192.168.1.2", "8.8.8.8"],
        searches: [...host.searches, "extra.example"],
        options: ["timeout:1", "ndots:1", "rotate", "edns0"],
      });
    });

    it('with resolvConf "" points at localhost', () => {
      const config = generatePodSandboxConfig(pod({ dnsPolicy: "Default" }), 0, {
        ...options,
        hostResolvConf: "",
      });
      expect(config.dnsConfig).toEqual({ servers: ["127.0.0.1"], searches: ["."], options: [] });
    });

    it("fails when the resolver file cannot be read", () => {
      const error = sandboxError(() =>
        generatePodSandboxConfig(pod({ dnsPolicy: "Default" }), 0, {
          ...options,
          hostResolvConf: join(dir, "missing"),
        }),
      );
      expect(isNodeletError(error, ErrorCode.CreatePodSandboxError)).toBe(true);
    });
  });
});

describe("namespacesForPod", () => {
  it.each([
    [{}, NamespaceMode.POD, NamespaceMode.CONTAINER, NamespaceMode.POD],
    [{ shareProcessNamespace: true }, NamespaceMode.POD, NamespaceMode.POD, NamespaceMode.POD],
    [
      { hostPID: true, shareProcessNamespace: true },
      NamespaceMode.POD,
      NamespaceMode.NODE,
      NamespaceMode.POD,
    ],
    [{ hostNetwork: true }, NamespaceMode.NODE, NamespaceMode.CONTAINER, NamespaceMode.POD],
    [{ hostIPC: true }, NamespaceMode.POD, NamespaceMode.CONTAINER, NamespaceMode.NODE],
  ])("%j", (spec, network, pid, ipc) => {
    expect(namespacesForPod(pod(spec))).toMatchObject({ network, pid, ipc });
  });
});

describe("parseResolvConf", () => {
  it("accumulates nameservers, keeps the last search line and merges options", () => {
    expect(
      parseResolvConf(
        "nameserver 1.1.1.1\n  # c\nnameserver\nsearch a b.\nsearch c\noptions x:1\noptions x:2 y",
      ),
    ).toEqual({ servers: ["1.1.1.1"], searches: ["c"], options: ["x:2", "y"] });
  });
});
