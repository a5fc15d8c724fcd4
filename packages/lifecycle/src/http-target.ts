import {
  ErrorCode,
  NodeletError,
  podNamespace,
  type V1Container,
  type V1HTTPGetAction,
  type V1Pod,
} from "@nodelet/runtime-api";
import { goQuote } from "./go-format.js";

export const DEFAULT_KUBELET_VERSION = "1.31";

/** Where an httpGet hook goes and what it sends. */
export interface HTTPGetTarget {
  url: URL;
  scheme: "http" | "https";
  host: string;
  port: number;
  /** `host:port` as the kubelet prints it (an IPv6 host in brackets), default ports included. */
  hostPort: string;
  /** The action's path as written ("" when unset). */
  path: string;
  /**
   * Header lines in the order they are sent: the action's headers (names canonicalised as Go does),
   * then `User-Agent` and `Accept: *\/*` unless the action sets them. Values may be secrets.
   */
  headers: Array<[name: string, value: string]>;
}

export interface ResolveHTTPGetTargetOptions {
  /** Default `kube-lifecycle/1.31`; probes pass `kube-probe/<major>.<minor>`. */
  userAgent?: string | undefined;
}

const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What Node's http client accepts in a header value (and no CTL but HTAB, as Go requires).
const invalidValueChar = /[^\t\x20-\x7e\x80-\xff]/;
const invalidHostChar = /[\s/?#@\\[\]]/;

function invalid(message: string): NodeletError {
  return new NodeletError(ErrorCode.InvalidArgument, message);
}

/** Go's textproto.CanonicalMIMEHeaderKey: `x-api-key` -> `X-Api-Key`. */
export function canonicalHeaderKey(name: string): string {
  if (!token.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

export function podDescription(pod: V1Pod): string {
  return `${podNamespace(pod)}/${pod.metadata?.name ?? ""}`;
}

/** `kube-<purpose>/<major>.<minor>` from "1.31", "v1.31.2" or "1.31.0-alpha.1" (httpprobe's userAgent). */
function kubeUserAgent(purpose: "lifecycle" | "probe", kubeletVersion: string): string {
  const m = /^v?(\d+)\.(\d+\+?)(?:[.\-+].*)?$/.exec(kubeletVersion);
  if (!m) {
    throw new NodeletError(
      ErrorCode.InvalidConfig,
      `invalid kubeletVersion ${goQuote(kubeletVersion)}: expected <major>.<minor>[.<patch>]`,
    );
  }
  return `kube-${purpose}/${m[1]}.${m[2]}`;
}

/** `kube-lifecycle/<major>.<minor>` from "1.31", "v1.31.2" or "1.31.0-alpha.1". */
export function lifecycleUserAgent(kubeletVersion: string): string {
  return kubeUserAgent("lifecycle", kubeletVersion);
}

/** `kube-probe/<major>.<minor>` from "1.31", "v1.31.2" or "1.31.0-alpha.1": what probes send. */
export function probeUserAgent(kubeletVersion: string): string {
  return kubeUserAgent("probe", kubeletVersion);
}

/**
 * The kubelet's probe.ResolveContainerPort: a number is taken as it is; a string is first looked
 * up among the container's named ports, then parsed as a number. 1..65535.
 */
export function resolveContainerPort(port: unknown, container: V1Container, field = "httpGet.port"): number {
  let n: number;
  if (typeof port === "number") {
    n = port;
  } else if (typeof port === "string") {
    const named = port === "" ? undefined : container.ports?.find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^[+-]?\d+$/.test(port)) n = Number(port);
    else throw invalid(`port ${goQuote(port)} not found in container ${goQuote(container.name)}`);
  } else {
    throw invalid(`${field} must be a port number or the name of a container port`);
  }
  if (!Number.isInteger(n) || n <= 0 || n >= 65536) throw invalid(`invalid port number: ${n}`);
  return n;
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The URL for scheme, host:port and the action's path (Go's formatURL; "" and "x" become "/", "/x"). */
export function buildHookURL(scheme: "http" | "https", hostPort: string, path: string): URL {
  const rest = path.startsWith("/") ? path : `/${path}`;
  try {
    return new URL(`${scheme}://${hostPort}${rest}`);
  } catch {
    throw invalid(`invalid URL for host ${goQuote(hostPort)} and path ${goQuote(path)}`);
  }
}

function resolveHeaders(action: V1HTTPGetAction, userAgent: string): Array<[string, string]> {
  const lines: Array<[string, string]> = [];
  for (const header of action.httpHeaders ?? []) {
    const name = header?.name;
    if (typeof name !== "string" || !token.test(name)) {
      throw invalid(`invalid header field name ${goQuote(String(name))}`);
    }
    // Never the value in a message: headers carry tokens.
    if (typeof header.value !== "string" || invalidValueChar.test(header.value)) {
      throw invalid(`invalid header field value for ${goQuote(name)}`);
    }
    lines.push([canonicalHeaderKey(name), header.value]);
  }
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const [name, value] of lines) {
    // Go sends one User-Agent and one Host (the first value); an empty User-Agent means none.
    if (name === "User-Agent" || name === "Host") {
      if (seen.has(name)) continue;
      seen.add(name);
      if (value === "" && name === "User-Agent") continue;
      out.push([name, value]);
    } else {
      seen.add(name);
      out.push([name, value]);
    }
  }
  if (!seen.has("User-Agent")) out.push(["User-Agent", userAgent]);
  const accept = lines.find(([name]) => name === "Accept");
  if (accept === undefined) out.push(["Accept", "*/*"]);
  else if (accept[1] === "") return out.filter(([name]) => name !== "Accept");
  return out;
}

/**
 * What the kubelet's httpprobe.NewRequestForHTTPGetAction builds for a lifecycle hook or an httpGet
 * probe: the host is
 * the action's or else the pod's first IP, the port a number or a named container port, the
 * scheme HTTP or HTTPS, the path "/" by default, and the headers with the kubelet's defaults.
 * Throws a NodeletError (InvalidArgument for a bad action, FailedPrecondition when there is no IP).
 */
export function resolveHTTPGetTarget(
  pod: V1Pod,
  container: V1Container,
  action: V1HTTPGetAction,
  podIPs: readonly string[],
  options: ResolveHTTPGetTargetOptions = {},
): HTTPGetTarget {
  const userAgent = options.userAgent ?? lifecycleUserAgent(DEFAULT_KUBELET_VERSION);
  const rawScheme = action.scheme ?? "HTTP";
  const scheme = typeof rawScheme === "string" ? rawScheme.toLowerCase() : "";
  if (scheme !== "http" && scheme !== "https") {
    throw invalid(`unsupported protocol scheme ${goQuote(String(rawScheme))}`);
  }
  let host = action.host ?? "";
  if (typeof host !== "string") throw invalid("httpGet.host must be a string");
  if (host === "") {
    host = podIPs[0] ?? "";
    if (host === "") {
      throw new NodeletError(
        ErrorCode.FailedPrecondition,
        `failed to find networking container: pod ${goQuote(podDescription(pod))} has no IP`,
      );
    }
  }
  if (invalidHostChar.test(host)) throw invalid(`invalid host ${goQuote(host)}`);
  const port = resolveContainerPort(action.port, container);
  const path = action.path ?? "";
  if (typeof path !== "string") throw invalid("httpGet.path must be a string");
  const hostPort = joinHostPort(host, port);
  return {
    url: buildHookURL(scheme, hostPort, path),
    scheme,
    host,
    port,
    hostPort,
    path,
    headers: resolveHeaders(action, userAgent),
  };
}
