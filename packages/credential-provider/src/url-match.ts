import { globMatch, isValidGlob } from "./glob.js";

/** A registry location without scheme: `host[:port][/path]`, as Go's url.Parse splits it. */
export interface SchemelessUrl {
  /** Host and port as written (Go's url.Host). */
  hostPort: string;
  /** The host alone (brackets of an IPv6 literal removed when a port follows). */
  hostname: string;
  /** The port, "" when there is none. */
  port: string;
  /** The path, unescaped, with its leading `/`; "" when there is none. */
  path: string;
}

// Characters Go's url.Parse accepts in a host name besides letters, digits and non-ASCII.
const HOST_PUNCTUATION = new Set([..."-._~!$&'()*+,;=:[]<>\""]);

function hostProblem(host: string): string | undefined {
  for (let i = 0; i < host.length; i++) {
    const c = host[i] as string;
    const code = c.charCodeAt(0);
    if (code >= 0x80 || /[A-Za-z0-9]/.test(c) || HOST_PUNCTUATION.has(c)) continue;
    if (c === "%" && /^[0-9A-Fa-f]{2}$/.test(host.slice(i + 1, i + 3))) {
      i += 2;
      continue;
    }
    return `invalid character ${JSON.stringify(c)} in host name`;
  }
  return undefined;
}

/** Go's net.SplitHostPort, falling back to the whole host and no port as URLsMatch does. */
function splitHostPort(hostPort: string): { hostname: string; port: string } {
  if (hostPort.startsWith("[")) {
    const end = hostPort.indexOf("]");
    if (end > 0 && hostPort[end + 1] === ":" && !hostPort.slice(end + 2).includes(":")) {
      return { hostname: hostPort.slice(1, end), port: hostPort.slice(end + 2) };
    }
    return { hostname: hostPort, port: "" };
  }
  const colon = hostPort.indexOf(":");
  if (colon < 0 || hostPort.indexOf(":", colon + 1) >= 0) return { hostname: hostPort, port: "" };
  return { hostname: hostPort.slice(0, colon), port: hostPort.slice(colon + 1) };
}

/**
 * Parses `host[:port][/path]` as the kubelet's ParseSchemelessURL does (url.Parse of
 * `https://` + text). Returns the reason when it does not parse.
 */
export function parseSchemelessUrl(text: string): SchemelessUrl | { error: string } {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(text)) return { error: "invalid control character in URL" };
  let rest = text;
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const query = rest.indexOf("?");
  if (query >= 0) rest = rest.slice(0, query);
  const slash = rest.indexOf("/");
  let authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const rawPath = slash >= 0 ? rest.slice(slash) : "";
  const at = authority.lastIndexOf("@");
  if (at >= 0) authority = authority.slice(at + 1);

  let hostOnly = authority;
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    if (end < 0) return { error: "missing ']' in host" };
    const after = authority.slice(end + 1);
    if (after !== "" && !/^:[0-9]*$/.test(after))
      return { error: `invalid port ${JSON.stringify(after)} after host` };
    hostOnly = authority.slice(0, end + 1);
  } else {
    const colon = authority.lastIndexOf(":");
    if (colon >= 0) {
      const port = authority.slice(colon);
      if (!/^:[0-9]*$/.test(port)) return { error: `invalid port ${JSON.stringify(port)} after host` };
      hostOnly = authority.slice(0, colon);
    }
  }
  const problem = hostProblem(hostOnly);
  if (problem !== undefined) return { error: problem };

  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return { error: "invalid URL escape in path" };
  }
  return { hostPort: authority, ...splitHostPort(authority), path };
}

function isParsed(value: SchemelessUrl | { error: string }): value is SchemelessUrl {
  return !("error" in value);
}

/** Parses or returns undefined. */
export function tryParseSchemelessUrl(text: string): SchemelessUrl | undefined {
  const parsed = parseSchemelessUrl(text);
  return isParsed(parsed) ? parsed : undefined;
}

/**
 * Why `pattern` is not a usable image match pattern (a `matchImages` entry), or undefined when it is.
 * It must parse as a URL, have a host, and each host label must be a well-formed glob.
 */
export function matchPatternProblem(pattern: string): string | undefined {
  const parsed = parseSchemelessUrl(pattern);
  if (!isParsed(parsed)) return parsed.error;
  if (parsed.hostname === "") return "has no host";
  for (const label of parsed.hostname.split(".")) {
    if (!isValidGlob(label)) return `host label ${JSON.stringify(label)} is not a valid glob`;
  }
  return undefined;
}

/**
 * The kubelet's URLsMatch: same port, same number of host labels, each label matched by the
 * glob's label (`*` stays within a label), and the glob's path a prefix of the target's.
 */
export function urlsMatch(glob: SchemelessUrl, target: SchemelessUrl): boolean {
  if (glob.port !== target.port) return false;
  const globLabels = glob.hostname.split(".");
  const targetLabels = target.hostname.split(".");
  if (globLabels.length !== targetLabels.length) return false;
  if (!target.path.startsWith(glob.path)) return false;
  return globLabels.every((label, i) => globMatch(label, targetLabels[i] as string));
}

/** `urlsMatch` on strings; false when either does not parse. */
export function urlsMatchString(glob: string, target: string): boolean {
  const g = tryParseSchemelessUrl(glob);
  const t = tryParseSchemelessUrl(target);
  return g !== undefined && t !== undefined && urlsMatch(g, t);
}
