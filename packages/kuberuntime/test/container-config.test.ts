import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NamespaceMode, SecurityProfile_ProfileType } from "@nodelet/cri-api";
import { ErrorCode, isNodeletError, type V1Container, type V1Pod } from "@nodelet/runtime-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GenerateContainerConfigArgs, generateContainerConfig } from "../src/container-config.js";
import { hashContainer } from "../src/container-hash.js";
import { createFakeMounter } from "./support/fake-mounter.js";

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "nodelet-config-"));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const GiB = 2 ** 30;

function args(container: V1Container, podPatch: Partial<V1Pod["spec"]> = {}): GenerateContainerConfigArgs {
  const pod: V1Pod = {
    metadata: { name: "web", namespace: "prod", uid: "uid-1" },
    spec: { containers: [container], terminationGracePeriodSeconds: 30, ...podPatch },
  };
  return {
    pod,
    container,
    containerType: "container",
    restartCount: 2,
    imageRef: "sha256:abc",
    userSpecifiedImage: "nginx:1.27",
    podIPs: ["10.1.0.5"],
    hostIPs: ["192.168.1.10"],
    nodeName: "node-a",
    rootDir: join(root, "kubelet"),
    podLogsDir: join(root, "logs"),
    cpuCFSQuota: true,
    cpuCFSQuotaPeriodUs: 100_000,
    seccompDefault: true,
    memorySwapBehavior: "NoSwap",
    memoryCapacityBytes: 4 * GiB,
    cgroupV1: false,
    mounter: createFakeMounter(),
    imageUser: { uid: 101n },
    randomHex: () => "deadbeef",
  };
}

const web: V1Container = {
  name: "app",
  image: "nginx:1.27",
  command: ["/bin/sh", "-c"],
  args: ["echo $(GREETING) from $(POD_NAME)"],
  workingDir: "/srv",
  env: [
    { name: "GREETING", value: "hello" },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  ],
  resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
  volumeMounts: [{ name: "cache", mountPath: "/cache" }],
  stdin: true,
  tty: true,
};

describe("generateContainerConfig", () => {
  it("builds the whole config", async () => {
    const a = args(web, { volumes: [{ name: "cache", emptyDir: {} }] });
    const config = await generateContainerConfig(a);
    const podDir = join(root, "kubelet", "pods", "uid-1");

    expect(config.metadata).toEqual({ name: "app", attempt: 2 });
    expect(config.image).toMatchObject({ image: "sha256:abc", userSpecifiedImage: "nginx:1.27" });
    expect(config.command).toEqual(["/bin/sh", "-c"]);
    expect(config.args).toEqual(["echo hello from web"]);
    expect(config.workingDir).toBe("/srv");
    expect(config.envs.map((kv) => [kv.key, kv.value.toString()])).toEqual([
      ["GREETING", "hello"],
      ["POD_NAME", "web"],
    ]);
    expect(config.labels).toEqual({
      "io.kubernetes.pod.name": "web",
      "io.kubernetes.pod.namespace": "prod",
      "io.kubernetes.pod.uid": "uid-1",
      "io.kubernetes.container.name": "app",
      "io.nodelet.managed-by": "nodelet",
    });
    expect(config.annotations).toEqual({
      "io.kubernetes.container.hash": hashContainer(web),
      "io.kubernetes.container.restartCount": "2",
      "io.kubernetes.container.terminationMessagePath": "/dev/termination-log",
      "io.kubernetes.container.terminationMessagePolicy": "File",
      "io.kubernetes.pod.terminationGracePeriod": "30",
      "io.kubernetes.container.type": "container",
    });
    expect(config.logPath).toBe("app/2.log");
    expect([config.stdin, config.stdinOnce, config.tty]).toEqual([true, false, true]);
    expect(config.devices).toEqual([]);

    expect(config.mounts.map((m) => [m.containerPath, m.hostPath])).toEqual([
      ["/cache", join(podDir, "volumes", "kubernetes.io~empty-dir", "cache")],
      ["/etc/hosts", join(podDir, "etc-hosts")],
      ["/dev/termination-log", join(podDir, "containers", "app", "deadbeef")],
    ]);
    expect((await stat(join(podDir, "containers", "app", "deadbeef"))).mode & 0o777).toBe(0o666);
    const logDir = await stat(join(root, "logs", "prod_web_uid-1", "app"));
    expect(logDir.isDirectory()).toBe(true);

    const resources = config.linux?.resources;
    expect(resources?.cpuShares).toBe(512n);
    expect(resources?.cpuQuota).toBe(100_000n);
    expect(resources?.cpuPeriod).toBe(100_000n);
    expect(resources?.memoryLimitInBytes).toBe(BigInt(2 * GiB));
    expect(resources?.oomScoreAdj).toBe(750n);

    const sc = config.linux?.securityContext;
    expect(sc?.runAsUser).toEqual({ value: 101n });
    expect(sc?.seccomp).toEqual({
      profileType: SecurityProfile_ProfileType.RuntimeDefault,
      localhostRef: "",
    });
    expect(sc?.namespaceOptions).toMatchObject({ network: NamespaceMode.POD, pid: NamespaceMode.CONTAINER });
  });

  it("gives a Guaranteed container -997 and takes Localhost profiles from <rootDir>/seccomp", async () => {
    const container: V1Container = {
      name: "app",
      resources: { limits: { cpu: "1", memory: "1Gi" } },
      securityContext: { seccompProfile: { type: "Localhost", localhostProfile: "strict.json" } },
    };
    const config = await generateContainerConfig(args(container));
    expect(config.linux?.resources?.oomScoreAdj).toBe(-997n);
    expect(config.linux?.securityContext?.seccomp?.localhostRef).toBe(
      join(root, "kubelet", "seccomp", "strict.json"),
    );
  });

  it("fails with CreateContainerConfigError naming the container, before touching the disk", async () => {
    const cases: [V1Container, RegExp][] = [
      [
        { name: "app", securityContext: { runAsNonRoot: true } },
        /image has non-numeric user|will run as root/,
      ],
      [
        { name: "app", env: [{ name: "S", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] },
        /secretKeyRef/,
      ],
      [
        { name: "app", resources: { limits: { cpu: "lots" } } },
        /container "app" of pod "web": "lots" is not a quantity/,
      ],
    ];
    for (const [container, message] of cases) {
      const a = { ...args(container), imageUser: { username: "nginx" } };
      try {
        await generateContainerConfig(a);
        expect.unreachable();
      } catch (error) {
        expect(isNodeletError(error, ErrorCode.CreateContainerConfigError)).toBe(true);
        expect((error as Error).message).toMatch(message);
      }
    }
    await expect(stat(join(root, "kubelet"))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(root, "logs"))).rejects.toThrow(/ENOENT/);
  });

  it("refuses a pod uid that would leave the root directory", async () => {
    const a = args({ name: "app" });
    a.pod.metadata.uid = "../../x";
    await expect(generateContainerConfig(a)).rejects.toMatchObject({
      code: ErrorCode.CreateContainerConfigError,
    });
  });

  it("treats a missing image user as root and sends uid 0", async () => {
    const { imageUser: _omit, ...rest } = args({ name: "app" });
    const config = await generateContainerConfig(rest);
    expect(config.linux?.securityContext?.runAsUser).toEqual({ value: 0n });
  });

  it("writes the kubelet's managed /etc/hosts: pod IPs with the FQDN, then hostAliases", async () => {
    const a = args(
      { name: "app" },
      {
        hostname: "db-0",
        subdomain: "db",
        hostAliases: [
          { ip: "10.9.9.9", hostnames: ["foo.local", "bar.local"] },
          { ip: "fd00::9", hostnames: ["v6.local"] },
        ],
      },
    );
    a.podIPs = ["10.1.0.5", "fd00::5"];
    a.clusterDomain = "cluster.local";
    const config = await generateContainerConfig(a);
    const file = join(root, "kubelet", "pods", "uid-1", "etc-hosts");
    expect(config.mounts.find((m) => m.containerPath === "/etc/hosts")?.hostPath).toBe(file);
    expect(await readFile(file, "utf8")).toBe(
      [
        "# Kubernetes-managed hosts file.",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "fe00::0\tip6-mcastprefix",
        "fe00::1\tip6-allnodes",
        "fe00::2\tip6-allrouters",
        "10.1.0.5\tdb-0.db.prod.svc.cluster.local\tdb-0",
        "fd00::5\tdb-0.db.prod.svc.cluster.local\tdb-0",
        "",
        "# Entries added by HostAliases.",
        "10.9.9.9\tfoo.local\tbar.local",
        "fd00::9\tv6.local",
        "",
      ].join("\n"),
    );
  });

  it("leaves /etc/hosts to the runtime for host-network pods, pods without IPs and containers mounting it", async () => {
    const hostNet = await generateContainerConfig(args({ name: "app" }, { hostNetwork: true }));
    const noIPs = await generateContainerConfig({ ...args({ name: "app" }), podIPs: [] });
    const own = await generateContainerConfig(
      args(
        { name: "app", volumeMounts: [{ name: "h", mountPath: "/etc/hosts/" }] },
        { volumes: [{ name: "h", emptyDir: {} }] },
      ),
    );
    for (const config of [hostNet, noIPs]) {
      expect(config.mounts.some((m) => m.containerPath === "/etc/hosts")).toBe(false);
    }
    expect(own.mounts.filter((m) => m.containerPath.startsWith("/etc/hosts"))).toHaveLength(1);
  });

  it("logs a termination-message file it cannot create and goes on without it", async () => {
    const warnings: unknown[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (fields: object | string, msg?: string) => warnings.push({ fields, msg }),
    };
    // <podDir>/containers is a file: the per-container directory cannot be made.
    await mkdir(join(root, "kubelet", "pods", "uid-1"), { recursive: true });
    await writeFile(join(root, "kubelet", "pods", "uid-1", "containers"), "");
    const config = await generateContainerConfig({ ...args({ name: "app" }), logger });
    expect(config.mounts.map((m) => m.containerPath)).toEqual(["/etc/hosts"]);
    expect(warnings).toEqual([
      {
        fields: expect.objectContaining({
          pod: "web_prod(uid-1)",
          container: "app",
          err: expect.stringMatching(/ENOTDIR|EEXIST/),
        }),
        msg: "cannot create the termination-message file; the container starts without it",
      },
    ]);
  });
  it("names the hosts file or the log directory it cannot make, the hosts file first when both fail", async () => {
    const podDir = join(root, "kubelet", "pods", "uid-1");
    // A directory where the hosts file goes, and a file where the logs directory goes.
    await mkdir(join(podDir, "etc-hosts"), { recursive: true });
    await writeFile(join(root, "logs"), "");
    const both = generateContainerConfig(args({ name: "app" }));
    await expect(both).rejects.toMatchObject({
      code: "CreateContainerConfigError",
      message: expect.stringMatching(
        /^container "app": cannot write the pod's managed \/etc\/hosts: .*EISDIR/,
      ),
      details: { container: "app", field: "hostAliases" },
    });
    await rm(join(podDir, "etc-hosts"), { recursive: true });
    await expect(generateContainerConfig(args({ name: "app" }))).rejects.toMatchObject({
      code: "CreateContainerConfigError",
      message: expect.stringMatching(
        /^create container log directory for container app failed: .*(ENOTDIR|EEXIST)/,
      ),
      details: { container: "app", field: "logPath" },
    });
  });
});
