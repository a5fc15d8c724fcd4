// The agent's configuration: a KubeletConfiguration file (the kubelet's fields nodelet uses,
// YAML or JSON) plus the kubelet's flag-only settings. Values are resolved: durations in
// milliseconds, sizes in bytes.

import { isIP } from "node:net";
import { dirname, isAbsolute, normalize, resolve } from "node:path";
import { parseEndpoint } from "@nodelet/cri-remote";
import {
  ErrorCode,
  type FieldError,
  formatGoDuration,
  isQuantity,
  NodeletError,
  parseGoDuration,
  quantityToInt,
} from "@nodelet/runtime-api";
import { z } from "zod";
import type { ContainerGCConfig } from "./gc-loops.js";
import { isLoggingFormat, type LoggingFormat } from "./logging-format.js";
import { isLoopbackAddress } from "./loopback.js";
import { dnsDomainCheck, ipListCheck, resolvConfCheck } from "./node-config.js";
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_DEPTH,
  parseDocuments,
  type ReadFs,
  readRegularFile,
} from "./sources/document.js";

/** The GC fields are flag-only, as the kubelet's deprecated container GC flags. */
export interface NodeletConfig extends ContainerGCConfig {
  /** Directory (or single file) of static pod manifests. */
  staticPodPath?: string;
  /** URL serving a Pod or a v1 PodList. */
  staticPodURL?: string;
  fileCheckFrequencyMs: number;
  httpCheckFrequencyMs: number;
  syncFrequencyMs: number;
  /** The kubelet's maxPods: pods over it are rejected with reason OutOfpods (admission.ts). */
  maxPods: number;
  /** IP the HTTP API listens on. nodelet's default is 127.0.0.1 (the kubelet's is 0.0.0.0). */
  address: string;
  port: number;
  podLogsDir: string;
  containerRuntimeEndpoint: string;
  runtimeRequestTimeoutMs: number;
  serializeImagePulls: boolean;
  /** Unset: no limit when pulls are parallel. */
  maxParallelImagePulls?: number;
  /** 0: no limit. */
  registryPullQPS: number;
  registryBurst: number;
  imageGCHighThresholdPercent: number;
  imageGCLowThresholdPercent: number;
  imageMinimumGCAgeMs: number;
  /** 0: images are not removed for age. */
  imageMaximumGCAgeMs: number;
  /** Bytes; negative turns log rotation off, as with the kubelet. */
  containerLogMaxSize: number;
  containerLogMaxFiles: number;
  containerLogMaxWorkers: number;
  containerLogMonitorIntervalMs: number;
  /** nodelet's own field: the legacy `<pod>_<ns>_<container>-<id>.log` symlinks (the kubelet's /var/log/containers). */
  containerLogsDir: string;
  cpuCFSQuota: boolean;
  cpuCFSQuotaPeriodMs: number;
  seccompDefault: boolean;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /**
   * nodelet's own field (config file `authenticationTokenFile`, flag --authentication-token-file):
   * a file holding the bearer token clients must present when the API is served on a
   * non-loopback address.
   */
  authenticationTokenFile?: string;
  /** The kubelet's clusterDNS: nameserver IPs for ClusterFirst pods. */
  clusterDNS?: string[];
  /** The kubelet's clusterDomain (e.g. cluster.local). */
  clusterDomain?: string;
  /** The kubelet's resolvConf: the host resolver file ("" turns host DNS off); unset: /etc/resolv.conf. */
  resolvConf?: string;
  /**
   * nodelet's own field (flag --adopt-unlabelled-pods): treat unlabelled pods that look like an
   * earlier nodelet's static pods as its own (ownership.ts). Never set it next to a real kubelet.
   */
  adoptUnlabelledPods?: boolean;
  // Flag-only settings, as with the kubelet.
  /** --node-ip: one IP or one per family; unset: detected (node-ip.ts). */
  nodeIPs?: string[];
  rootDir: string;
  hostnameOverride?: string;
  /** hostnameOverride or the machine's hostname, trimmed and lowercased. */
  nodeName: string;
  imageCredentialProviderConfig?: string;
  imageCredentialProviderBinDir?: string;
  /** Log verbosity (-v; config file `logging.verbosity`). */
  verbosity: number;
  /** --logging-format (config file `logging.format`); unset: text on a terminal, JSON otherwise. */
  loggingFormat?: LoggingFormat;
}

/** Everything resolveConfig fills in when neither the file nor a flag sets it. */
export const CONFIG_DEFAULTS = {
  fileCheckFrequencyMs: 20_000,
  httpCheckFrequencyMs: 20_000,
  syncFrequencyMs: 60_000,
  maxPods: 110,
  address: "127.0.0.1",
  port: 10250,
  podLogsDir: "/var/log/pods",
  containerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
  runtimeRequestTimeoutMs: 120_000,
  registryPullQPS: 5,
  registryBurst: 10,
  imageGCHighThresholdPercent: 85,
  imageGCLowThresholdPercent: 80,
  imageMinimumGCAgeMs: 120_000,
  imageMaximumGCAgeMs: 0,
  containerLogMaxSize: 10 * 1024 * 1024,
  containerLogMaxFiles: 5,
  containerLogMaxWorkers: 1,
  containerLogMonitorIntervalMs: 10_000,
  containerLogsDir: "/var/log/containers",
  cpuCFSQuota: true,
  cpuCFSQuotaPeriodMs: 100,
  seccompDefault: false,
  rootDir: "/var/lib/kubelet",
  verbosity: 0,
} as const satisfies Partial<NodeletConfig>;

/** `serializeImagePulls` when unset: true, unless maxParallelImagePulls is 2 or more. */
export function defaultSerializeImagePulls(maxParallelImagePulls: number | undefined): boolean {
  return !(maxParallelImagePulls !== undefined && maxParallelImagePulls > 1);
}

export const CONFIG_API_VERSION = "kubelet.config.k8s.io/v1beta1";
export const CONFIG_KIND = "KubeletConfiguration";

// ---------------------------------------------------------------------------------------------
// Field checks, shared by the config file and the flags: each returns the value or a problem.

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };
export type Check<T> = (value: unknown) => Checked<T>;

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = (problem: string): Checked<never> => ({ ok: false, problem });
const INT32_MAX = 2_147_483_647;

/** The value as a message shows it: `"abc"`, `42`, `an object`. */
export function show(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string")
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  if (typeof value === "object") return "an object";
  return String(value);
}

export function durationCheck(range: { min?: number; max?: number; positive?: boolean } = {}): Check<number> {
  return (input) => {
    // A bare 0 is unambiguous, and YAML reads it as a number.
    const value = input === 0 ? "0" : input;
    if (typeof value !== "string") {
      return bad(`must be a duration string (e.g. 1s, 1m30s), got ${show(value)}`);
    }
    const ms = parseGoDuration(value);
    if (ms === undefined) return bad(`${show(value)} is not a duration (e.g. 1s, 1m30s)`);
    if (range.positive === true && ms <= 0) return bad(`must be greater than 0, got ${show(value)}`);
    if (range.min !== undefined && ms < range.min) {
      return bad(`must be at least ${formatGoDuration(range.min)}, got ${show(value)}`);
    }
    if (range.max !== undefined && ms > range.max) {
      return bad(`must be at most ${formatGoDuration(range.max)}, got ${show(value)}`);
    }
    return ok(ms);
  };
}

export function integerCheck(min: number, max = INT32_MAX): Check<number> {
  const rule = max === INT32_MAX ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  return (value) => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      return bad(`must be ${rule}, got ${show(value)}`);
    }
    return ok(value);
  };
}

export const booleanCheck: Check<boolean> = (value) =>
  typeof value === "boolean" ? ok(value) : bad(`must be true or false, got ${show(value)}`);

export const stringCheck: Check<string> = (value) =>
  typeof value === "string" && value !== ""
    ? ok(value)
    : bad(`must be a non-empty string, got ${show(value)}`);

export const ipCheck: Check<string> = (value) =>
  typeof value === "string" && isIP(value) !== 0
    ? ok(value)
    : bad(`must be an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1), got ${show(value)}`);

export const absolutePathCheck: Check<string> = (value) => {
  if (typeof value !== "string" || value === "") return bad(`must be an absolute path, got ${show(value)}`);
  if (!isAbsolute(value)) return bad(`must be an absolute path, got ${show(value)}`);
  if (normalize(value) !== value && `${normalize(value)}/` !== value) {
    return bad(`must be a normalized path (no "..", "." or "//"), got ${show(value)}`);
  }
  return ok(value);
};

export const httpUrlCheck: Check<string> = (value) => {
  if (typeof value !== "string") return bad(`must be an http or https URL, got ${show(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return bad(`must be an http or https URL, got ${show(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return bad(`must be an http or https URL, got ${show(value)}`);
  }
  return ok(value);
};

export const endpointCheck: Check<string> = (value) => {
  if (typeof value !== "string" || value === "") {
    return bad(`must be a runtime endpoint like unix:///run/containerd/containerd.sock, got ${show(value)}`);
  }
  try {
    parseEndpoint(value);
    return ok(value);
  } catch (err) {
    return bad(err instanceof Error ? err.message : String(err));
  }
};

/** A Kubernetes quantity (e.g. 10Mi) or a number of bytes. */
export const loggingFormatCheck: Check<LoggingFormat> = (value) =>
  isLoggingFormat(value) ? ok(value) : bad(`must be "text" or "json", got ${show(value)}`);

export const byteSizeCheck: Check<number> = (value) => {
  if (!isQuantity(value)) return bad(`must be a size like 10Mi, 512Ki or 1G, got ${show(value)}`);
  return ok(quantityToInt(value));
};

// ---------------------------------------------------------------------------------------------
// The config file.

type FileKey = Exclude<
  keyof NodeletConfig,
  | "rootDir"
  | "hostnameOverride"
  | "nodeName"
  | "imageCredentialProviderConfig"
  | "imageCredentialProviderBinDir"
  | "verbosity"
  | "nodeIPs"
  | "loggingFormat"
>;

interface FileField {
  /** The config file's name for it. */
  field: string;
  key: FileKey;
  check: Check<NodeletConfig[FileKey]>;
  /** The kubelet resolves these against the config file's directory when relative. */
  path?: true;
}

const FILE_FIELDS: readonly FileField[] = [
  { field: "staticPodPath", key: "staticPodPath", check: stringCheck, path: true },
  { field: "staticPodURL", key: "staticPodURL", check: httpUrlCheck },
  { field: "fileCheckFrequency", key: "fileCheckFrequencyMs", check: durationCheck({ positive: true }) },
  { field: "httpCheckFrequency", key: "httpCheckFrequencyMs", check: durationCheck({ positive: true }) },
  { field: "syncFrequency", key: "syncFrequencyMs", check: durationCheck({ positive: true }) },
  { field: "maxPods", key: "maxPods", check: integerCheck(0) },
  { field: "address", key: "address", check: ipCheck },
  { field: "port", key: "port", check: integerCheck(1, 65535) },
  { field: "podLogsDir", key: "podLogsDir", check: absolutePathCheck },
  { field: "containerRuntimeEndpoint", key: "containerRuntimeEndpoint", check: endpointCheck },
  {
    field: "runtimeRequestTimeout",
    key: "runtimeRequestTimeoutMs",
    check: durationCheck({ positive: true }),
  },
  { field: "serializeImagePulls", key: "serializeImagePulls", check: booleanCheck },
  { field: "maxParallelImagePulls", key: "maxParallelImagePulls", check: integerCheck(1) },
  { field: "registryPullQPS", key: "registryPullQPS", check: integerCheck(0) },
  { field: "registryBurst", key: "registryBurst", check: integerCheck(0) },
  { field: "imageGCHighThresholdPercent", key: "imageGCHighThresholdPercent", check: integerCheck(0, 100) },
  { field: "imageGCLowThresholdPercent", key: "imageGCLowThresholdPercent", check: integerCheck(0, 100) },
  { field: "imageMinimumGCAge", key: "imageMinimumGCAgeMs", check: durationCheck({ min: 0 }) },
  { field: "imageMaximumGCAge", key: "imageMaximumGCAgeMs", check: durationCheck({ min: 0 }) },
  { field: "containerLogMaxSize", key: "containerLogMaxSize", check: byteSizeCheck },
  { field: "containerLogMaxFiles", key: "containerLogMaxFiles", check: integerCheck(2) },
  { field: "containerLogMaxWorkers", key: "containerLogMaxWorkers", check: integerCheck(1) },
  {
    field: "containerLogMonitorInterval",
    key: "containerLogMonitorIntervalMs",
    check: durationCheck({ positive: true }),
  },
  { field: "containerLogsDir", key: "containerLogsDir", check: absolutePathCheck },
  { field: "cpuCFSQuota", key: "cpuCFSQuota", check: booleanCheck },
  { field: "cpuCFSQuotaPeriod", key: "cpuCFSQuotaPeriodMs", check: durationCheck({ min: 1, max: 1000 }) },
  { field: "seccompDefault", key: "seccompDefault", check: booleanCheck },
  { field: "tlsCertFile", key: "tlsCertFile", check: stringCheck, path: true },
  { field: "tlsPrivateKeyFile", key: "tlsPrivateKeyFile", check: stringCheck, path: true },
  { field: "authenticationTokenFile", key: "authenticationTokenFile", check: stringCheck, path: true },
  { field: "clusterDNS", key: "clusterDNS", check: ipListCheck },
  { field: "clusterDomain", key: "clusterDomain", check: dnsDomainCheck },
  { field: "resolvConf", key: "resolvConf", check: resolvConfCheck },
  { field: "adoptUnlabelledPods", key: "adoptUnlabelledPods", check: booleanCheck },
];

/** Config file fields nodelet reads, for `--help`-like listings and warnings. */
export const CONFIG_FILE_FIELDS: readonly string[] = [
  "apiVersion",
  "kind",
  ...FILE_FIELDS.map((f) => f.field),
  "logging.verbosity",
  "logging.format",
];

function zodField<T>(check: Check<T>) {
  return z.unknown().transform((value, ctx): T => {
    const result = check(value);
    if (result.ok) return result.value;
    ctx.addIssue({ code: "custom", message: result.problem });
    return z.NEVER;
  });
}

function literal(expected: string) {
  return z.unknown().transform((value, ctx) => {
    if (value === expected) return expected;
    ctx.addIssue({
      code: "custom",
      message:
        value === undefined
          ? `is required: ${show(expected)}`
          : `must be ${show(expected)}, got ${show(value)}`,
    });
    return z.NEVER;
  });
}

const fileSchema = z.object({
  apiVersion: literal(CONFIG_API_VERSION),
  kind: literal(CONFIG_KIND),
  ...Object.fromEntries(FILE_FIELDS.map((f) => [f.field, zodField(f.check).optional()])),
  logging: z
    .object(
      { verbosity: zodField(integerCheck(0)).optional(), format: zodField(loggingFormatCheck).optional() },
      { error: (issue) => `must be a mapping (e.g. {verbosity: 2}), got ${show(issue.input)}` },
    )
    .optional(),
});

export interface LoadConfigFileOptions {
  /** Bytes the file may have (1 MiB). */
  maxBytes?: number;
  /** Nesting levels the file may have (100). */
  maxDepth?: number;
  fs?: ReadFs;
}

export interface ConfigFileResult {
  /** The values the file sets, resolved (ms, bytes, absolute paths). */
  values: Partial<NodeletConfig>;
  /** One line per field nodelet does not read; they are ignored. */
  warnings: string[];
}

/**
 * Reads a KubeletConfiguration (apiVersion kubelet.config.k8s.io/v1beta1), YAML or JSON.
 * Unknown fields give warnings; anything invalid throws NodeletError(InvalidConfig) naming
 * the file, each field path and what is allowed (`details.errors`: FieldError[]). A field set
 * to null counts as unset. Relative paths are resolved against the file's directory, as the
 * kubelet does. The file must be a regular file of at most 1 MiB (FIFOs, devices, directories
 * and deeply nested documents are refused without reading them whole).
 */
export async function loadConfigFile(
  path: string,
  options: LoadConfigFileOptions = {},
): Promise<ConfigFileResult> {
  const text = await readRegularFile(path, {
    maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
    code: ErrorCode.InvalidConfig,
    ...(options.fs === undefined ? {} : { fs: options.fs }),
  });
  return parseConfigText(text, path, options);
}

/** `loadConfigFile` on text already read; `origin` names it in messages and anchors relative paths. */
export function parseConfigText(
  text: string,
  origin: string,
  options: Pick<LoadConfigFileOptions, "maxDepth"> = {},
): ConfigFileResult {
  const docs = parseDocuments(text, {
    origin,
    code: ErrorCode.InvalidConfig,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
  });
  if (docs.length === 0) {
    throw configError(origin, [{ field: "", message: `is empty: expected a ${CONFIG_KIND}` }]);
  }
  if (docs.length > 1) {
    throw configError(origin, [
      { field: "", message: `holds ${docs.length} YAML documents: expected one ${CONFIG_KIND}` },
    ]);
  }
  const raw = docs[0];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw configError(origin, [
      { field: "", message: `must be a mapping (a ${CONFIG_KIND}), got ${show(raw)}` },
    ]);
  }
  const data = withoutNulls(raw as Record<string, unknown>);

  const warnings: string[] = [];
  const known = new Set(Object.keys(fileSchema.shape));
  for (const name of Object.keys(data)) {
    if (!known.has(name)) warnings.push(unknownFieldWarning(origin, name, [...known]));
  }
  const logging = data.logging;
  if (typeof logging === "object" && logging !== null && !Array.isArray(logging)) {
    for (const name of Object.keys(logging)) {
      if (name !== "verbosity" && name !== "format")
        warnings.push(
          unknownFieldWarning(origin, `logging.${name}`, ["logging.verbosity", "logging.format"]),
        );
    }
  }

  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) {
    throw configError(
      origin,
      parsed.error.issues.map((issue) => ({
        field: issue.path.map(String).join("."),
        message: issue.message,
      })),
    );
  }

  const values: Partial<NodeletConfig> = {};
  const set = values as Record<string, unknown>;
  const fields = parsed.data as Record<string, unknown>;
  for (const f of FILE_FIELDS) {
    const value = fields[f.field];
    if (value === undefined) continue;
    set[f.key] = f.path === true && typeof value === "string" ? resolve(dirname(origin), value) : value;
  }
  const verbosity = parsed.data.logging?.verbosity;
  if (verbosity !== undefined) values.verbosity = verbosity;
  const loggingFormat = parsed.data.logging?.format;
  if (loggingFormat !== undefined) values.loggingFormat = loggingFormat;
  return { values, warnings };
}

function withoutNulls(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(data)) {
    if (value === null) continue;
    const inner =
      name === "logging" && typeof value === "object" && !Array.isArray(value)
        ? withoutNulls(value as Record<string, unknown>)
        : value;
    Object.defineProperty(out, name, { value: inner, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function unknownFieldWarning(origin: string, name: string, known: readonly string[]): string {
  const suggestion = closest(name, known);
  return (
    `${origin}: unknown field "${name}" is ignored` +
    (suggestion === undefined ? "" : ` (did you mean "${suggestion}"?)`)
  );
}

/** The known name within edit distance 2 (case-insensitive), if any. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

function configError(origin: string, errors: FieldError[]): NodeletError {
  const list = errors.map((e) => (e.field === "" ? e.message : `${e.field}: ${e.message}`)).join("; ");
  return new NodeletError(ErrorCode.InvalidConfig, `invalid config file ${origin}: ${list}`, {
    details: { path: origin, errors },
  });
}

// ---------------------------------------------------------------------------------------------
// Rules across fields, checked on the resolved configuration.

/** True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
/**
 * Problems between fields of a resolved configuration, in the kubelet's words (field, then
 * its flag when there is one). Empty when the configuration is usable.
 */
export function configProblems(config: NodeletConfig): FieldError[] {
  const problems: FieldError[] = [];
  const problem = (field: string, message: string): void => {
    problems.push({ field, message });
  };
  if (
    config.serializeImagePulls &&
    config.maxParallelImagePulls !== undefined &&
    config.maxParallelImagePulls > 1
  ) {
    problem(
      "maxParallelImagePulls",
      `${config.maxParallelImagePulls} must be 1 or unset when serializeImagePulls is true ` +
        "(set serializeImagePulls: false for parallel pulls)",
    );
  }
  if (config.imageGCLowThresholdPercent >= config.imageGCHighThresholdPercent) {
    problem(
      "imageGCLowThresholdPercent",
      `${config.imageGCLowThresholdPercent} must be less than imageGCHighThresholdPercent ` +
        `(${config.imageGCHighThresholdPercent})`,
    );
  }
  if (config.imageMaximumGCAgeMs > 0 && config.imageMaximumGCAgeMs <= config.imageMinimumGCAgeMs) {
    problem(
      "imageMaximumGCAge",
      `${formatGoDuration(config.imageMaximumGCAgeMs)} must be greater than imageMinimumGCAge ` +
        `(${formatGoDuration(config.imageMinimumGCAgeMs)}), or 0 to turn it off`,
    );
  }
  if ((config.tlsCertFile === undefined) !== (config.tlsPrivateKeyFile === undefined)) {
    problem(
      config.tlsCertFile === undefined
        ? "tlsCertFile (--tls-cert-file)"
        : "tlsPrivateKeyFile (--tls-private-key-file)",
      "is required too: a TLS certificate and its private key go together",
    );
  }
  if (!isLoopbackAddress(config.address)) {
    const missing = [
      config.tlsCertFile === undefined ? "--tls-cert-file" : undefined,
      config.tlsPrivateKeyFile === undefined ? "--tls-private-key-file" : undefined,
      config.authenticationTokenFile === undefined ? "--authentication-token-file" : undefined,
    ].filter((flag) => flag !== undefined);
    if (missing.length > 0) {
      problem(
        "address (--address)",
        `${config.address} is not a loopback address: serving the API there needs TLS and bearer-token ` +
          `authentication; set ${missing.join(", ")} (or use address 127.0.0.1)`,
      );
    }
  }
  return problems;
}
