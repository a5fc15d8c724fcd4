import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type DNSConfig,
  NamespaceMode,
  type NamespaceOption,
  PodSandboxConfig,
  type PortMapping,
  Protocol,
  SecurityProfile_ProfileType,
  SupplementalGroupsPolicy,
} from "@nodelet/cri-api";
import {
  ErrorCode,
  formatPod,
  NodeletError,
  podNamespace,
  type V1Container,
  type V1Pod,
  type V1Protocol,
} from "@nodelet/runtime-api";
import { newPodSandboxAnnotations, newPodSandboxLabels } from "./labels.js";
import { toSELinuxOption } from "./security-context.js";
import { assertSafePathSegment } from "./volumes.js";

/** The kernel's nodename holds 64 bytes with the terminating NUL. */
const HOSTNAME_MAX_LENGTH = 63;
const FQDN_MAX_LENGTH = 64;
/** validation.MaxDNSNameservers, MaxDNSSearchPathsExpanded, MaxDNSSearchListCharsExpanded. */
const MAX_DNS_NAMESERVERS = 3;
const MAX_DNS_SEARCH_PATHS = 32;
const MAX_DNS_SEARCH_LIST_CHARS = 2048;
/** A search domain longer than a DNS-1123 subdomain makes some resolvers (glibc 2.28) abort. */
const MAX_DNS_SEARCH_LENGTH = 253;
const DEFAULT_HOST_RESOLV_CONF = "/etc/resolv.conf";
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * `<podLogsDir>/<namespace>_<name>_<uid>`, the sandbox's log directory. Refuses parts that would
 * leave podLogsDir (a `/`, or `.`/`..`) with InvalidPod.
 */
export function buildPodLogsDirectory(
  podLogsDir: string,
  namespace: string,
  name: string,
  uid: string,
): string {
  assertSafePathSegment(namespace, "pod namespace", ErrorCode.InvalidPod);
  assertSafePathSegment(name, "pod name", ErrorCode.InvalidPod);
  assertSafePathSegment(uid, "pod uid", ErrorCode.InvalidPod);
  return join(podLogsDir, `${namespace}_${name}_${uid}`);
}

export interface SandboxConfigOptions {
  /** The kubelet's podLogsDir (/var/log/pods). */
  podLogsDir: string;
  cgroupParent?: string;
  /**
   * The kubelet's seccompDefault. Unused here: the sandbox always runs RuntimeDefault, so that the
   * pod's containers can use stricter profiles (kubernetes#84623).
   */
  seccompDefault: boolean;
  /** Accepted for the caller's convenience; the sandbox config does not use it. */
  nodeName?: string;
  /** The kubelet's clusterDNS server IPs. */
  clusterDNS?: string[];
  /** The kubelet's clusterDomain (cluster.local). */
  clusterDomain?: string;
  /** The kubelet's resolvConf: the host resolver file; "" disables host DNS. Default /etc/resolv.conf. */
  hostResolvConf?: string;
}

/**
 * The CRI sandbox config for a pod (the kubelet's generatePodSandboxConfig). Errors are
 * CreatePodSandboxError; a name, namespace or uid unusable in a path is InvalidPod. The caller
 * creates `logDirectory` (mode 0755) before RunPodSandbox.
 */
export function generatePodSandboxConfig(
  pod: V1Pod,
  attempt: number,
  options: SandboxConfigOptions,
): PodSandboxConfig {
  const name = pod.metadata.name ?? "";
  const namespace = podNamespace(pod);
  const uid = pod.metadata.uid ?? "";
  const config = PodSandboxConfig.fromPartial({
    metadata: { name, namespace, uid, attempt },
    labels: newPodSandboxLabels(pod),
    annotations: newPodSandboxAnnotations(pod),
    logDirectory: buildPodLogsDirectory(options.podLogsDir, namespace, name, uid),
    portMappings: portMappingsFor(pod.spec.containers),
  });
  config.dnsConfig = podDNSConfig(pod, options);
  if (!pod.spec.hostNetwork) config.hostname = podHostname(pod, options.clusterDomain ?? "");
  config.linux = {
    cgroupParent: options.cgroupParent ?? "",
    sysctls: sysctlsFor(pod),
    overhead: undefined,
    resources: undefined,
    securityContext: {
      namespaceOptions: namespacesForPod(pod),
      selinuxOptions:
        pod.spec.securityContext?.seLinuxOptions === undefined
          ? undefined
          : toSELinuxOption(pod.spec.securityContext.seLinuxOptions),
      runAsUser: int64(pod.spec.securityContext?.runAsUser),
      runAsGroup: int64(pod.spec.securityContext?.runAsGroup),
      readonlyRootfs: false,
      supplementalGroups: supplementalGroupsFor(pod),
      supplementalGroupsPolicy: SupplementalGroupsPolicy.Merge,
      privileged: hasPrivilegedContainer(pod),
      seccomp: { profileType: SecurityProfile_ProfileType.RuntimeDefault, localhostRef: "" },
      apparmor: undefined,
      seccompProfilePath: "",
    },
  };
  return config;
}

/** The pod's namespaces: NODE for the host ones; PID is POD when shared, else per container. */
export function namespacesForPod(pod: V1Pod): NamespaceOption {
  let pid = NamespaceMode.CONTAINER;
  if (pod.spec.hostPID) pid = NamespaceMode.NODE;
  else if (pod.spec.shareProcessNamespace) pid = NamespaceMode.POD;
  return {
    network: pod.spec.hostNetwork ? NamespaceMode.NODE : NamespaceMode.POD,
    pid,
    ipc: pod.spec.hostIPC ? NamespaceMode.NODE : NamespaceMode.POD,
    targetId: "",
    usernsOptions: undefined,
  };
}

// kubecontainer.MakePortMappings for each regular container: every declared port, the second use
// of a port name in one container skipped (unnamed ports are named after family, protocol, IP and
// ports).
function portMappingsFor(containers: readonly V1Container[]): PortMapping[] {
  const mappings: PortMapping[] = [];
  for (const container of containers) {
    const names = new Set<string>();
    for (const port of container.ports ?? []) {
      const hostIP = port.hostIP ?? "";
      const family = hostIP === "" ? "any" : hostIP.includes(":") ? "v6" : "v4";
      const name =
        port.name || `${family}-${port.protocol ?? ""}-${hostIP}:${port.containerPort}:${port.hostPort ?? 0}`;
      if (names.has(name)) continue;
      names.add(name);
      mappings.push({
        protocol: toRuntimeProtocol(port.protocol),
        containerPort: port.containerPort,
        hostPort: port.hostPort ?? 0,
        hostIp: hostIP,
      });
    }
  }
  return mappings;
}

function toRuntimeProtocol(protocol: V1Protocol | undefined): Protocol {
  switch (protocol) {
    case "UDP":
      return Protocol.UDP;
    case "SCTP":
      return Protocol.SCTP;
    default:
      return Protocol.TCP;
  }
}

/**
 * The kubelet's GeneratePodHostNameAndDomain: spec.hostname or the pod name (cut to 63 characters),
 * and `<subdomain>.<namespace>.svc.<clusterDomain>` when the pod has a subdomain ("" otherwise).
 */
export function podHostnameAndDomain(
  pod: V1Pod,
  clusterDomain: string,
): { hostname: string; domain: string } {
  const podName = pod.metadata.name ?? "";
  let hostname = podName;
  if (pod.spec.hostname) {
    checkDNSLabel(pod, pod.spec.hostname, "Hostname");
    hostname = pod.spec.hostname;
  }
  if (hostname.length > HOSTNAME_MAX_LENGTH) {
    hostname = hostname.slice(0, HOSTNAME_MAX_LENGTH).replace(/[-.]+$/, "");
    if (hostname === "") throw sandboxError(pod, `hostname for pod "${podName}" was invalid`);
  }
  if (!pod.spec.subdomain) return { hostname, domain: "" };
  checkDNSLabel(pod, pod.spec.subdomain, "Subdomain");
  return { hostname, domain: `${pod.spec.subdomain}.${podNamespace(pod)}.svc.${clusterDomain}` };
}

function checkDNSLabel(pod: V1Pod, value: string, field: string): void {
  if (value.length > HOSTNAME_MAX_LENGTH || !DNS_LABEL.test(value)) {
    throw sandboxError(pod, `pod ${field} "${value}" is not a valid DNS label`);
  }
}

// GeneratePodHostNameAndDomain + GetNodenameForKernel.
function podHostname(pod: V1Pod, clusterDomain: string): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  if (domain === "" || pod.spec.setHostnameAsFQDN !== true) return hostname;
  const fqdn = `${hostname}.${domain}`;
  if (fqdn.length > FQDN_MAX_LENGTH) {
    throw sandboxError(
      pod,
      `failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (${FQDN_MAX_LENGTH} characters is the max, ${fqdn.length} characters requested)`,
    );
  }
  return fqdn;
}

type DNSType = "None" | "Cluster" | "Host";

// pkg/kubelet/network/dns: getPodDNSType, GetPodDNS.
function podDNSConfig(pod: V1Pod, options: SandboxConfigOptions): DNSConfig {
  let type: DNSType;
  switch (pod.spec.dnsPolicy) {
    case "None":
      type = "None";
      break;
    case "ClusterFirstWithHostNet":
      type = "Cluster";
      break;
    case "Default":
      type = "Host";
      break;
    default:
      // ClusterFirst, the API default: host DNS for a hostNetwork pod.
      type = pod.spec.hostNetwork ? "Host" : "Cluster";
  }
  const resolvConf = options.hostResolvConf ?? DEFAULT_HOST_RESOLV_CONF;
  const clusterDNS = options.clusterDNS ?? [];
  let config: DNSConfig = { servers: [], searches: [], options: [] };
  if (type === "Cluster" && clusterDNS.length > 0) {
    const host = readHostDNS(pod, resolvConf);
    config = {
      servers: [...clusterDNS],
      searches: clusterSearches(pod, host.searches, options.clusterDomain ?? ""),
      options: ["ndots:5"],
    };
  } else if (type !== "None") {
    // Default, or ClusterFirst without cluster DNS: the kubelet falls back to the host's resolver
    // (and records a MissingClusterDNS event).
    if (resolvConf === "") config = { servers: ["127.0.0.1"], searches: ["."], options: [] };
    else config = readHostDNS(pod, resolvConf);
  }
  const extra = pod.spec.dnsConfig;
  if (extra !== undefined) {
    config = {
      servers: unique([...config.servers, ...(extra.nameservers ?? [])]),
      searches: unique([...config.searches, ...(extra.searches ?? [])]),
      options: mergeDNSOptions(config.options, extra.options ?? []),
    };
  }
  return {
    servers: config.servers.slice(0, MAX_DNS_NAMESERVERS),
    searches: searchesWithinLimits(config.searches),
    options: config.options,
  };
}

function clusterSearches(pod: V1Pod, hostSearches: readonly string[], clusterDomain: string): string[] {
  if (clusterDomain === "") return [...hostSearches];
  const namespace = podNamespace(pod);
  return unique([
    `${namespace}.svc.${clusterDomain}`,
    `svc.${clusterDomain}`,
    clusterDomain,
    ...hostSearches,
  ]);
}

// Read synchronously: resolv.conf is a few hundred bytes, and a sync config builder is simpler to use.
function readHostDNS(pod: V1Pod, path: string): DNSConfig {
  if (path === "") return { servers: [], searches: [], options: [] };
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw sandboxError(pod, `could not read resolv.conf ${path}: ${(error as Error).message}`, error);
  }
  return parseResolvConf(text);
}

/**
 * The kubelet's resolv.conf reading: `nameserver` lines accumulate, the last `search` line wins
 * (trailing dots dropped, "." skipped), `options` accumulate with a later option replacing an
 * earlier one of the same name. Comments start with `#`.
 */
export function parseResolvConf(text: string): DNSConfig {
  const servers: string[] = [];
  let searches: string[] = [];
  const options = new Map<string, string>();
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed.startsWith("#")) continue;
    const fields = trimmed.split(/\s+/).filter((f) => f !== "");
    if (fields.length === 0) continue;
    const [keyword, ...rest] = fields;
    if (keyword === "nameserver" && rest.length > 0) servers.push(rest[0] as string);
    if (keyword === "search") searches = rest.filter((s) => s !== ".").map((s) => s.replace(/\.$/, ""));
    if (keyword === "options") {
      for (const option of rest) {
        const name = option.split(":")[0] as string;
        options.delete(name);
        options.set(name, option);
      }
    }
  }
  return { servers, searches, options: [...options.values()] };
}

// mergeDNSOptions: pod options override same-named ones; "name:value" or bare "name".
function mergeDNSOptions(
  existing: readonly string[],
  extra: readonly { name: string; value?: string }[],
): string[] {
  const merged = new Map<string, string>();
  for (const option of existing) {
    const colon = option.indexOf(":");
    if (colon === -1) merged.set(option, "");
    else merged.set(option.slice(0, colon), option.slice(colon + 1));
  }
  for (const option of extra) merged.set(option.name, option.value ?? "");
  return [...merged].map(([name, value]) => (value === "" ? name : `${name}:${value}`));
}

// formDNSSearchFitsLimits: at most 32 paths, none over 253 characters, the line at most 2048.
function searchesWithinLimits(searches: readonly string[]): string[] {
  const kept = searches.slice(0, MAX_DNS_SEARCH_PATHS).filter((s) => s.length <= MAX_DNS_SEARCH_LENGTH);
  while (kept.length > 0 && kept.join(" ").length > MAX_DNS_SEARCH_LIST_CHARS) kept.pop();
  return kept;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

// utilsysctl.NormalizeName: a name whose first separator is "/" has its "/" and "." swapped.
function normalizeSysctlName(name: string): string {
  const first = name.search(/[./]/);
  if (first === -1 || name[first] === ".") return name;
  return name.replace(/[./]/g, (ch) => (ch === "." ? "/" : "."));
}

function sysctlsFor(pod: V1Pod): Record<string, string> {
  const sysctls: Record<string, string> = {};
  for (const { name, value } of pod.spec.securityContext?.sysctls ?? [])
    sysctls[normalizeSysctlName(name)] = value;
  return sysctls;
}

// fsGroup, then the pod's supplemental groups (nodelet has no volume plugins adding groups).
function supplementalGroupsFor(pod: V1Pod): bigint[] {
  const sc = pod.spec.securityContext;
  const groups: bigint[] = [];
  if (sc?.fsGroup !== undefined) groups.push(BigInt(sc.fsGroup));
  for (const group of sc?.supplementalGroups ?? []) groups.push(BigInt(group));
  return groups;
}

function hasPrivilegedContainer(pod: V1Pod): boolean {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers].some(
    (c) => c.securityContext?.privileged === true,
  );
}

function int64(value: number | undefined): { value: bigint } | undefined {
  return value === undefined ? undefined : { value: BigInt(value) };
}

function sandboxError(pod: V1Pod, message: string, cause?: unknown): NodeletError {
  const desc = formatPod(pod);
  return new NodeletError(ErrorCode.CreatePodSandboxError, `pod "${desc}": ${message}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { pod: desc },
  });
}
