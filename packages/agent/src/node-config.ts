// Checks of the node-level settings issue 12 added (node IPs, cluster DNS, ownership adoption),
// kept out of config.ts so it stays small. Same shape as config.ts's checks.
import { isIP } from "node:net";
import { ErrorCode, NodeletError } from "@nodelet/runtime-api";

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

const shown = (value: unknown) => (typeof value === "string" ? JSON.stringify(value) : String(value));

/**
 * The kubelet's --node-ip: one IP, or two of different families (dual stack), comma-separated.
 * `0.0.0.0` / `::` mean "detect an address of that family".
 */
export function nodeIPsCheck(value: unknown): Checked<string[]> {
  const list = typeof value === "string" ? value.split(",").map((s) => s.trim()) : value;
  if (!Array.isArray(list) || list.length === 0 || list.length > 2) {
    return {
      ok: false,
      problem: `must be one IP or two of different families, comma-separated, got ${shown(value)}`,
    };
  }
  for (const ip of list) {
    if (typeof ip !== "string" || isIP(ip) === 0)
      return { ok: false, problem: `${shown(ip)} is not an IP address` };
  }
  if (list.length === 2 && isIP(list[0] as string) === isIP(list[1] as string)) {
    return { ok: false, problem: `two node IPs must be one IPv4 and one IPv6, got ${shown(value)}` };
  }
  return { ok: true, value: list as string[] };
}

/** clusterDNS: a list of IP addresses (the kubelet allows up to 3 nameservers in total). */
export function ipListCheck(value: unknown): Checked<string[]> {
  if (!Array.isArray(value))
    return { ok: false, problem: `must be a list of IP addresses, got ${shown(value)}` };
  for (const ip of value) {
    if (typeof ip !== "string" || isIP(ip) === 0)
      return { ok: false, problem: `${shown(ip)} is not an IP address` };
  }
  return { ok: true, value: value as string[] };
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** clusterDomain: a DNS subdomain such as cluster.local (a trailing dot is allowed). */
export function dnsDomainCheck(value: unknown): Checked<string> {
  if (typeof value !== "string") return { ok: false, problem: `must be a DNS domain, got ${shown(value)}` };
  const domain = value.replace(/\.$/, "");
  if (domain.length > 253 || !DNS_SUBDOMAIN.test(domain)) {
    return { ok: false, problem: `must be a DNS domain like cluster.local, got ${shown(value)}` };
  }
  return { ok: true, value: domain };
}

/**
 * The agent needs a pod source: without one every runtime pod would count as an orphan. Throws
 * NodeletError(InvalidConfig) naming both settings. (A staticPodPath that does not exist is an
 * empty source, as with the kubelet: the directory may be created later.)
 */
export function requirePodSource(config: { staticPodPath?: string; staticPodURL?: string }): void {
  if (config.staticPodPath || config.staticPodURL) return;
  throw new NodeletError(
    ErrorCode.InvalidConfig,
    "no pod source: set staticPodPath (--pod-manifest-path) or staticPodURL (--manifest-url)",
    { details: { fields: ["staticPodPath", "staticPodURL"] } },
  );
}

/** resolvConf: a path, or "" to give pods no host DNS (the kubelet's rule). */
export function resolvConfCheck(value: unknown): Checked<string> {
  return typeof value === "string"
    ? { ok: true, value }
    : { ok: false, problem: `must be a path or "", got ${shown(value)}` };
}
