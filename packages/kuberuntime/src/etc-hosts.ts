// The kubelet-managed /etc/hosts of a pod: `<podDir>/etc-hosts`, bind-mounted at /etc/hosts in
// every container. Follows pkg/kubelet/kubelet_pods.go (makeHostsMount, ensureHostsFile,
// managedHostsFileContent, hostsEntriesFromHostAliases).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Mount } from "@nodelet/cri-api";
import type { V1Container, V1Pod } from "@nodelet/runtime-api";

export const ETC_HOSTS_PATH = "/etc/hosts";

/** What the file says about the pod: its hostname and, with a subdomain, its domain. */
export interface PodHostIdentity {
  hostname: string;
  /** `<subdomain>.<namespace>.svc.<clusterDomain>`, or "" without a subdomain. */
  domain: string;
}

/**
 * The managed file's text: the loopback and IPv6 well-known entries, one line per pod IP naming
 * the pod (FQDN first when it has a domain), then the pod's hostAliases under their own header.
 */
export function managedHostsFileContent(
  podIPs: readonly string[],
  identity: PodHostIdentity,
  hostAliases: V1Pod["spec"]["hostAliases"],
): string {
  const lines = [
    "# Kubernetes-managed hosts file.",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "fe00::0\tip6-mcastprefix",
    "fe00::1\tip6-allnodes",
    "fe00::2\tip6-allrouters",
  ];
  for (const ip of podIPs) {
    lines.push(
      identity.domain === ""
        ? `${ip}\t${identity.hostname}`
        : `${ip}\t${identity.hostname}.${identity.domain}\t${identity.hostname}`,
    );
  }
  let text = `${lines.join("\n")}\n`;
  if (hostAliases !== undefined && hostAliases.length > 0) {
    text += "\n# Entries added by HostAliases.\n";
    for (const alias of hostAliases) text += `${alias.ip}\t${(alias.hostnames ?? []).join("\t")}\n`;
  }
  return text;
}

/**
 * Whether the container gets the managed file: a pod on its own network that has an IP, and a
 * container that does not mount something at /etc/hosts itself. A host-network pod keeps the
 * runtime's copy of the node's file.
 */
export function shouldMountHostsFile(pod: V1Pod, container: V1Container, podIPs: readonly string[]): boolean {
  if (pod.spec.hostNetwork === true || podIPs.length === 0) return false;
  return !(container.volumeMounts ?? []).some((m) => m.mountPath.replace(/\/+$/, "") === ETC_HOSTS_PATH);
}

/** Writes `<podDir>/etc-hosts` (0644, rewritten each time) and returns its mount. */
export async function makeHostsMount(
  podDir: string,
  pod: V1Pod,
  podIPs: readonly string[],
  identity: PodHostIdentity,
): Promise<Mount> {
  const file = join(podDir, "etc-hosts");
  await mkdir(podDir, { recursive: true, mode: 0o750 });
  await writeFile(file, managedHostsFileContent(podIPs, identity, pod.spec.hostAliases), { mode: 0o644 });
  return Mount.fromPartial({
    hostPath: file,
    containerPath: ETC_HOSTS_PATH,
    readonly: false,
    selinuxRelabel: false,
  });
}
