// The node's IPs, as the kubelet chooses them (pkg/kubelet/nodestatus, utilnet.ChooseHostInterface):
// --node-ip when given (checked: assigned to this host, not loopback/link-local/multicast;
// 0.0.0.0 or :: asks for detection of that family), otherwise the global address of the
// interface holding the default route. Bridges (cni0, docker0, the test environment's nl*
// bridges) are never picked: a pod reaching its node through status.hostIP must get the node.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { hostname, type NetworkInterfaceInfo, networkInterfaces } from "node:os";
import { ErrorCode, NodeletError } from "@nodelet/runtime-api";

export interface NodeIPEnvironment {
  /** os.networkInterfaces() */
  interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** The text of /proc/net/route and /proc/net/ipv6_route ("" when unreadable). */
  ipv4Routes?: () => string;
  ipv6Routes?: () => string;
}

/** Interfaces that are bridges or virtual links for pods, never the node's address. */
const BRIDGE_NAME =
  /^(cni\d*|docker\d*|cbr\d*|virbr\d*|br-.*|veth.*|flannel.*|cali.*|nl[0-9a-f]{8}|podman\d*|kube-bridge)$/;

const readOr = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};

/** The interface of the default route in /proc/net/route (IPv4) or /proc/net/ipv6_route, lowest metric first. */
export function defaultRouteInterface(routes: string, family: 4 | 6): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of routes.split("\n")) {
    const f = line.trim().split(/\s+/);
    let iface: string | undefined;
    let metric: number;
    if (family === 4) {
      // Iface Destination Gateway Flags RefCnt Use Metric Mask
      if (f.length < 8 || f[1] !== "00000000" || f[7] !== "00000000") continue;
      iface = f[0];
      metric = Number.parseInt(f[6] ?? "0", 10);
    } else {
      // dest prefixlen src srclen nexthop metric refcnt use flags iface
      if (f.length < 10 || !/^0{32}$/.test(f[0] ?? "") || f[1] !== "00" || f[9] === "lo") continue;
      iface = f[9];
      metric = Number.parseInt(f[5] ?? "0", 16);
    }
    if (iface === undefined || BRIDGE_NAME.test(iface)) continue;
    if (best === undefined || metric < best.metric) best = { iface, metric };
  }
  return best?.iface;
}

function usable(a: NetworkInterfaceInfo): boolean {
  if (a.internal) return false;
  const ip = a.address.toLowerCase();
  if (a.family === "IPv6") return !ip.startsWith("fe80") && !ip.startsWith("ff");
  return !ip.startsWith("169.254.") && !ip.startsWith("127.");
}

function detect(family: 4 | 6, env: Required<NodeIPEnvironment>): string | undefined {
  const all = env.interfaces();
  const familyName = family === 4 ? "IPv4" : "IPv6";
  const of = (name: string) => (all[name] ?? []).filter((a) => a.family === familyName && usable(a));
  const routed = defaultRouteInterface(family === 4 ? env.ipv4Routes() : env.ipv6Routes(), family);
  if (routed !== undefined) {
    const ip = of(routed)[0]?.address;
    if (ip !== undefined) return ip;
  }
  // No default route: the first address on an interface that is not a bridge.
  for (const name of Object.keys(all)) {
    if (BRIDGE_NAME.test(name)) continue;
    const ip = of(name)[0]?.address;
    if (ip !== undefined) return ip;
  }
  return undefined;
}

function fail(message: string): NodeletError {
  return new NodeletError(ErrorCode.InvalidConfig, `node IP (--node-ip): ${message}`, {
    details: { field: "nodeIPs" },
  });
}

/**
 * The node's IPs for status.hostIP(s) and the downward API: `configured` (--node-ip) checked, or
 * one detected address (IPv4 preferred). Throws NodeletError(InvalidConfig) for a configured IP
 * this host does not have or cannot use; returns [] when nothing can be detected.
 */
export function chooseNodeIPs(
  configured: readonly string[] | undefined,
  environment: NodeIPEnvironment = {},
): string[] {
  const env: Required<NodeIPEnvironment> = {
    interfaces: environment.interfaces ?? networkInterfaces,
    ipv4Routes: environment.ipv4Routes ?? (() => readOr("/proc/net/route")),
    ipv6Routes: environment.ipv6Routes ?? (() => readOr("/proc/net/ipv6_route")),
  };
  if (configured === undefined || configured.length === 0) {
    const ip = detect(4, env) ?? detect(6, env);
    return ip === undefined ? [] : [ip];
  }
  const local = new Set(
    Object.values(env.interfaces())
      .flatMap((list) => list ?? [])
      .map((a) => a.address.toLowerCase()),
  );
  return configured.map((raw) => {
    const ip = raw.toLowerCase();
    const family = isIP(ip) as 0 | 4 | 6;
    if (family === 0) throw fail(`${JSON.stringify(raw)} is not an IP address`);
    if (ip === "0.0.0.0" || ip === "::") {
      const found = detect(family, env);
      if (found === undefined) throw fail(`${raw} asks for an IPv${family} address, and this host has none`);
      return found;
    }
    if (ip.startsWith("127.") || ip === "::1") throw fail(`${raw} is a loopback address`);
    if (ip.startsWith("169.254.") || ip.startsWith("fe80")) throw fail(`${raw} is a link-local address`);
    if (/^(22[4-9]|23\d)\./.test(ip) || ip.startsWith("ff")) throw fail(`${raw} is a multicast address`);
    if (!local.has(ip)) throw fail(`${raw} is not an address of this host`);
    return ip;
  });
}

/** The names and addresses the node answers to over TLS (the request guard's Host check). */
export function nodeHostNames(nodeName: string, nodeIPs: readonly string[]): string[] {
  return [...new Set([nodeName, hostname().toLowerCase(), ...nodeIPs])];
}
