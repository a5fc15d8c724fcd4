// What a pod sees, against containerd: the managed /etc/hosts, /etc/resolv.conf by dnsPolicy, the
// downward API's node and pod IPs, a Memory emptyDir as a sized tmpfs that killPod unmounts.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findContainerStatusByName, type V1Pod } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeGenericRuntimeManager } from "../../src/index.js";
import { createHostMounter } from "../../src/mounter.js";
import { busybox, createHarness, type Harness } from "./support.js";

let h: Harness;
let manager: KubeGenericRuntimeManager;
let scratch: string;
// Documentation addresses (RFC 5737, RFC 3849): strings handed to pods, never dialled.
const NODE_IPS = ["192.0.2.10", "2001:db8::10"];

beforeAll(async () => {
  h = await createHarness();
  scratch = await mkdtemp(join(tmpdir(), "nodelet-kr-view-"));
  const resolvConf = join(scratch, "resolv.conf");
  await writeFile(resolvConf, "nameserver 192.0.2.53\nsearch example.test\noptions ndots:2\n");
  manager = await h.newManager({
    nodeIPs: NODE_IPS,
    clusterDNS: ["192.0.2.100"],
    clusterDomain: "cluster.local",
    resolvConf,
  });
});
afterAll(async () => {
  await h.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

async function run(pod: V1Pod): Promise<void> {
  await h.waitFor(
    `${pod.metadata.name} to run`,
    async () => {
      await h.sync(pod, undefined, manager);
      const status = findContainerStatusByName(await h.status(pod, manager), "app");
      return status?.state === "running";
    },
    60_000,
  );
}

async function exec(pod: V1Pod, script: string): Promise<string> {
  const status = findContainerStatusByName(await h.status(pod, manager), "app");
  if (status === undefined) throw new Error("no app container");
  return (await manager.runInContainer(status.id, ["sh", "-c", script], 20)).toString();
}

describe("what pods see, against containerd", () => {
  it("gets the managed /etc/hosts with its IP, FQDN and hostAliases, and cluster DNS", async () => {
    const pod = h.pod("view-hosts", [busybox(h.env, "app", ["sleep", "3600"])], {
      hostname: "web-0",
      subdomain: "web",
      hostAliases: [{ ip: "192.0.2.77", hostnames: ["alias.test", "other.test"] }],
    });
    await run(pod);
    const [podIP] = (await h.status(pod, manager)).ips;
    const ns = pod.metadata.namespace ?? "";
    const hosts = await exec(pod, "cat /etc/hosts");
    expect(hosts).toMatch(/^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
    expect(hosts).toContain(`\n${podIP}\tweb-0.web.${ns}.svc.cluster.local\tweb-0\n`);
    expect(hosts).toContain("\n# Entries added by HostAliases.\n192.0.2.77\talias.test\tother.test\n");
    const resolv = await exec(pod, "cat /etc/resolv.conf");
    expect(resolv).toContain("nameserver 192.0.2.100");
    expect(resolv).not.toContain("192.0.2.53");
    expect(resolv).toContain(`search ${ns}.svc.cluster.local svc.cluster.local cluster.local example.test`);
    expect(resolv).toContain("options ndots:5");
  });

  it("follows dnsPolicy Default and None with dnsConfig", async () => {
    const byDefault = h.pod("view-dns-default", [busybox(h.env, "app", ["sleep", "3600"])], {
      dnsPolicy: "Default",
    });
    const none = h.pod("view-dns-none", [busybox(h.env, "app", ["sleep", "3600"])], {
      dnsPolicy: "None",
      dnsConfig: {
        nameservers: ["192.0.2.99"],
        searches: ["only.test"],
        options: [{ name: "ndots", value: "1" }],
      },
    });
    await run(byDefault);
    await run(none);
    const host = await exec(byDefault, "cat /etc/resolv.conf");
    expect(host).toContain("nameserver 192.0.2.53");
    expect(host).toContain("search example.test");
    expect(host).toContain("options ndots:2");
    expect(host).not.toContain("192.0.2.100");
    const own = await exec(none, "cat /etc/resolv.conf");
    expect(own).toContain("nameserver 192.0.2.99");
    expect(own).toContain("search only.test");
    expect(own).toContain("options ndots:1");
    expect(own).not.toMatch(/192\.0\.2\.(53|100)/);
  });

  it("passes the node's and the pod's IPs through the downward API", async () => {
    const field = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
    const pod = h.pod("view-env", [
      busybox(h.env, "app", ["sleep", "3600"], {
        env: [
          field("HOST_IP", "status.hostIP"),
          field("HOST_IPS", "status.hostIPs"),
          field("POD_IP", "status.podIP"),
          field("POD_IPS", "status.podIPs"),
        ],
      }),
    ]);
    await run(pod);
    const ips = (await h.status(pod, manager)).ips;
    const env = await exec(pod, 'echo "$HOST_IP|$HOST_IPS|$POD_IP|$POD_IPS"');
    expect(env.trim()).toBe(`${NODE_IPS[0]}|${NODE_IPS.join(",")}|${ips[0]}|${ips.join(",")}`);
  });

  it("mounts a Memory emptyDir as a tmpfs of sizeLimit, and killPod unmounts it", async () => {
    const pod = h.pod(
      "view-memory",
      [busybox(h.env, "app", ["sleep", "3600"], { volumeMounts: [{ name: "mem", mountPath: "/mem" }] })],
      { volumes: [{ name: "mem", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } }] },
    );
    await run(pod);
    const df = await exec(pod, "df -k /mem | tail -n 1");
    expect(df).toMatch(/^tmpfs\s+16384\s/);
    expect(await exec(pod, "grep ' /mem ' /proc/mounts")).toMatch(/^tmpfs \/mem tmpfs /);
    const podDir = join(h.rootDir, "pods", pod.metadata.uid ?? "");
    const mounts = createHostMounter();
    expect((await mounts.mountPointsUnder(podDir)).map((m) => m.fsType)).toEqual(["tmpfs"]);
    const running = (await manager.getPods(true)).find((p) => p.id === pod.metadata.uid);
    if (running === undefined) throw new Error("the pod is not listed");
    await manager.killPod(pod, running, 0);
    expect(await mounts.mountPointsUnder(podDir)).toEqual([]);
  });
});
