// Validation of a Kubernetes v1 Pod before the runtime creates anything, following the API
// server's rules (pkg/apis/core/validation) for the fields nodelet reads. The input is
// `unknown` (a parsed manifest), so every read checks the shape first: odd input gives
// FieldErrors, never a TypeError. Unknown fields are ignored, as the API server's default
// (non-strict) decoding does.

import { isIP } from "node:net";
import { ErrorCode, NodeletError } from "./errors.js";
import type { V1Pod } from "./k8s-types.js";
import { isQuantity, parseQuantity } from "./quantity.js";

/** One problem in a pod, at a Kubernetes-style path: `spec.containers[1].resources.limits.memory`. */
export interface FieldError {
  /** Path of the offending field; "" for the pod itself. */
  field: string;
  /** What is wrong and what is expected. */
  message: string;
}

/**
 * Returns `pod` typed as a V1Pod when it passes every check; otherwise throws a NodeletError
 * with code InvalidPod, every problem in its message and `details.errors` (FieldError[]).
 */
export function validatePod(pod: unknown): V1Pod {
  const errors = collectPodErrors(pod);
  if (errors.length === 0) return pod as V1Pod;
  const list = errors.map((e) => (e.field === "" ? e.message : `${e.field}: ${e.message}`)).join("; ");
  throw new NodeletError(ErrorCode.InvalidPod, `${podLabel(pod)}: ${list}`, { details: { errors } });
}

/** Every problem `validatePod` would report (at most MAX_ERRORS, then a summary); [] when valid. */
export function collectPodErrors(pod: unknown): FieldError[] {
  const c = new Checker();
  checkPod(c, pod);
  const errors = c.errors;
  if (errors.length <= MAX_ERRORS) return errors;
  const more = errors.length - MAX_ERRORS;
  return [
    ...errors.slice(0, MAX_ERRORS),
    {
      field: "",
      message: `and ${more} more error${more === 1 ? "" : "s"} (reporting stops at ${MAX_ERRORS})`,
    },
  ];
}

const MAX_CONTAINERS = 100;
const MAX_ERRORS = 100;
const MAX_INT32 = 2_147_483_647;
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

const DNS1123_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
// IsRelaxedEnvVarName (Kubernetes >= 1.32): printable ASCII except '='.
const ENV_VAR_NAME = /^[\x20-\x3c\x3e-\x7e]+$/;
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;
const HTTP_HEADER_NAME = /^[-A-Za-z0-9!#$%&'*+.^_`|~]+$/;
const SYSCTL_NAME = /^(?:[a-z0-9](?:[-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9](?:[-_a-z0-9]*[a-z0-9])?$/;
const LABEL_SUBSCRIPT = /^metadata\.(labels|annotations)\['(.+)'\]$/;
const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

// The docker reference grammar (github.com/distribution/reference): [host[:port]/]path[:tag][@digest].
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z0-9_+.-]+):([^@]+))?$`,
);
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const MAX_IMAGE_NAME = 255;

const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
const RESTART_POLICIES = ["Always", "OnFailure", "Never"] as const;
const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
const DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"] as const;
const TERMINATION_MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"] as const;
const SECCOMP_TYPES = ["RuntimeDefault", "Unconfined", "Localhost"] as const;
const MOUNT_PROPAGATIONS = ["None", "HostToContainer", "Bidirectional"] as const;
const PROC_MOUNTS = ["Default", "Unmasked"] as const;
const URI_SCHEMES = ["HTTP", "HTTPS"] as const;
const EMPTY_DIR_MEDIA = ["", "Memory"] as const;
const HOST_PATH_TYPES = [
  "",
  "DirectoryOrCreate",
  "Directory",
  "FileOrCreate",
  "File",
  "Socket",
  "CharDevice",
  "BlockDevice",
] as const;
const ENV_FIELD_PATHS = [
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
  "spec.nodeName",
  "spec.serviceAccountName",
  "status.hostIP",
  "status.hostIPs",
  "status.podIP",
  "status.podIPs",
] as const;
const ENV_RESOURCES = [
  "limits.cpu",
  "limits.memory",
  "limits.ephemeral-storage",
  "requests.cpu",
  "requests.memory",
  "requests.ephemeral-storage",
] as const;
const NATIVE_RESOURCES = ["cpu", "memory", "ephemeral-storage"] as const;
const PROBE_HANDLERS = ["exec", "httpGet", "tcpSocket", "grpc"] as const;
const LIFECYCLE_HANDLERS = ["exec", "httpGet", "tcpSocket", "sleep"] as const;
const ENV_SOURCES = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"] as const;
const VOLUME_SOURCES = ["emptyDir", "hostPath"] as const;

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}

/** The value as an error message shows it: `"abc"`, `42`, `null`, `an array`. */
function show(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return quote(value);
    case "number":
    case "boolean":
      return String(value);
    case "object":
      return "an object";
    default:
      return `a ${typeof value}`;
  }
}

function listOf(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(", ");
}

function child(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** A map key in a path: `.memory` when it reads as a name, else `[example.com/gpu]` as Kubernetes writes it. */
function key(path: string, name: string): string {
  return SIMPLE_KEY.test(name) ? `${path}.${name}` : `${path}[${name}]`;
}

function podLabel(pod: unknown): string {
  const metadata = isObject(pod) ? pod.metadata : undefined;
  if (!isObject(metadata) || typeof metadata.name !== "string" || metadata.name === "") return "invalid pod";
  const ns =
    typeof metadata.namespace === "string" && metadata.namespace !== "" ? metadata.namespace : "default";
  const clip = (s: string): string => (s.length > 253 ? `${s.slice(0, 253)}...` : s);
  return `invalid pod "${clip(ns)}/${clip(metadata.name)}"`;
}

// ---------------------------------------------------------------------------------------------
// Name checks: each returns the problem, or undefined when the text is valid.

const DNS1123_LABEL_RULE =
  "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";
const DNS1123_SUBDOMAIN_RULE =
  "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters";

function dnsLabelProblem(text: string): string | undefined {
  if (text.length <= 63 && DNS1123_LABEL.test(text)) return undefined;
  return `${quote(text)} is not a valid DNS-1123 label (${DNS1123_LABEL_RULE})`;
}

function dnsSubdomainProblem(text: string): string | undefined {
  if (text.length <= 253 && DNS1123_SUBDOMAIN.test(text)) return undefined;
  return `${quote(text)} is not a valid DNS-1123 subdomain (${DNS1123_SUBDOMAIN_RULE})`;
}

/** IsValidPortName: 1-15 of [-a-z0-9], at least one letter, no leading, trailing or doubled '-'. */
function portNameProblem(text: string): string | undefined {
  const ok =
    text.length >= 1 &&
    text.length <= 15 &&
    /^[-a-z0-9]+$/.test(text) &&
    /[a-z]/.test(text) &&
    !text.startsWith("-") &&
    !text.endsWith("-") &&
    !text.includes("--");
  if (ok) return undefined;
  return (
    `${quote(text)} is not a valid port name (IANA_SVC_NAME: at most 15 lowercase letters, digits and '-', ` +
    "with at least one letter, no '-' at either end and no '--')"
  );
}

/** IsQualifiedName: [prefix/]name, prefix a DNS-1123 subdomain, name at most 63 of [-A-Za-z0-9_.]. */
function qualifiedNameProblem(text: string): string | undefined {
  const slash = text.indexOf("/");
  const prefix = slash === -1 ? undefined : text.slice(0, slash);
  const name = slash === -1 ? text : text.slice(slash + 1);
  const nameOk = name.length >= 1 && name.length <= 63 && QUALIFIED_NAME_PART.test(name);
  const prefixOk = prefix === undefined || (prefix !== "" && dnsSubdomainProblem(prefix) === undefined);
  if (nameOk && prefixOk) return undefined;
  return (
    `${quote(text)} is not a valid qualified name ([prefix/]name: the name at most 63 letters, digits, '-', '_' ` +
    "and '.', starting and ending with a letter or digit; the optional prefix a DNS-1123 subdomain)"
  );
}

function configMapKeyProblem(text: string): string | undefined {
  const ok =
    text.length <= 253 &&
    CONFIG_MAP_KEY.test(text) &&
    text !== "." &&
    text !== ".." &&
    !text.startsWith("..");
  if (ok) return undefined;
  return `${quote(text)} is not a valid key (letters, digits, '-', '_' and '.', at most 253 characters, not '.' or '..')`;
}

/** Why `image` is not a docker image reference, or undefined when it is one. */
function imageReferenceProblem(image: string): string | undefined {
  const expected = "expected [registry[:port]/]name[:tag][@sha256:<64 hex digits>] with a lowercase name";
  if (image.trim() !== image) return `${quote(image)} must not have leading or trailing whitespace`;
  if (/\s/.test(image)) return `${quote(image)} must not contain whitespace; ${expected}`;
  if (image.length > 512) return `is too long (${image.length} characters); ${expected}`;
  const match = IMAGE_REFERENCE.exec(image);
  if (!match) {
    // Name the most common mistake; the grammar decides the rest.
    const withoutRegistry = image.includes("/") ? image.slice(image.indexOf("/") + 1) : image;
    const repository = withoutRegistry.split(/[:@]/)[0] ?? "";
    if (/[A-Z]/.test(repository)) {
      return `${quote(image)} is not a valid image reference: the repository name must be lowercase`;
    }
    return `${quote(image)} is not a valid image reference; ${expected}`;
  }
  const [, name = "", , algorithm, hex] = match;
  if (name.length > MAX_IMAGE_NAME) {
    return `${quote(image)} is not a valid image reference: the name is longer than ${MAX_IMAGE_NAME} characters`;
  }
  if (/^[a-f0-9]{64}$/.test(name)) {
    return `${quote(image)} is not a valid image reference: a repository name cannot be 64 hexadecimal digits`;
  }
  if (algorithm !== undefined) {
    const length = Object.hasOwn(DIGEST_HEX_LENGTH, algorithm) ? DIGEST_HEX_LENGTH[algorithm] : undefined;
    if (length === undefined) {
      return `${quote(image)} has an unsupported digest algorithm ${quote(algorithm)}; expected sha256, sha384 or sha512`;
    }
    if (hex === undefined || hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
      return `${quote(image)} has an invalid digest: ${algorithm} takes ${length} lowercase hexadecimal digits`;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The collector and its typed reads. Each read reports a wrong type and returns undefined, so
// callers go on with what is usable.

interface IntegerRange {
  min: number;
  max?: number;
  required?: boolean;
}

class Checker {
  readonly errors: FieldError[] = [];

  fail(field: string, message: string): void {
    this.errors.push({ field, message });
  }

  object(value: unknown, field: string, required = false): Obj | undefined {
    if (value === undefined) {
      if (required) this.fail(field, "is required (an object)");
      return undefined;
    }
    if (!isObject(value)) {
      this.fail(field, `must be an object, got ${show(value)}`);
      return undefined;
    }
    return value;
  }

  array(value: unknown, field: string, required = false): unknown[] | undefined {
    if (value === undefined) {
      if (required) this.fail(field, "is required (a list)");
      return undefined;
    }
    if (!Array.isArray(value)) {
      this.fail(field, `must be a list, got ${show(value)}`);
      return undefined;
    }
    return value;
  }

  /** Each item of a list of objects; items that are not objects are reported and skipped. */
  objects(
    value: unknown,
    field: string,
    each: (item: Obj, path: string, i: number) => void,
  ): unknown[] | undefined {
    const list = this.array(value, field);
    list?.forEach((item, i) => {
      const object = this.object(item, index(field, i), true);
      if (object) each(object, index(field, i), i);
    });
    return list;
  }

  /** A string; `required` also rejects "". */
  string(value: unknown, field: string, required = false): string | undefined {
    if (value === undefined) {
      if (required) this.fail(field, "is required (a non-empty string)");
      return undefined;
    }
    if (typeof value !== "string") {
      this.fail(field, `must be a string, got ${show(value)}`);
      return undefined;
    }
    if (required && value === "") {
      this.fail(field, "is required (a non-empty string), got an empty string");
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, field: string): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") {
      this.fail(field, `must be true or false, got ${show(value)}`);
      return undefined;
    }
    return value;
  }

  integer(value: unknown, field: string, range: IntegerRange): number | undefined {
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    const expected =
      range.max === undefined
        ? `an integer of at least ${range.min}`
        : `an integer from ${range.min} to ${max}`;
    if (value === undefined) {
      if (range.required) this.fail(field, `is required (${expected})`);
      return undefined;
    }
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.fail(field, `must be ${expected}, got ${show(value)}`);
      return undefined;
    }
    if (value < range.min || value > max) {
      this.fail(field, `must be ${expected}, got ${value}`);
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(
    value: unknown,
    field: string,
    allowed: readonly T[],
    required = false,
  ): T | undefined {
    if (value === undefined) {
      if (required) this.fail(field, `is required (one of ${listOf(allowed)})`);
      return undefined;
    }
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      this.fail(field, `${show(value)} is not supported; expected one of ${listOf(allowed)}`);
      return undefined;
    }
    return value as T;
  }

  stringArray(value: unknown, field: string): string[] | undefined {
    const list = this.array(value, field);
    if (!list) return undefined;
    let ok = true;
    list.forEach((item, i) => {
      if (typeof item !== "string") {
        this.fail(index(field, i), `must be a string, got ${show(item)}`);
        ok = false;
      }
    });
    return ok ? (list as string[]) : undefined;
  }

  /** A map of string values (labels, annotations); returns the well-typed entries. */
  stringMap(value: unknown, field: string): [string, string][] {
    const map = this.object(value, field);
    if (!map) return [];
    const entries: [string, string][] = [];
    for (const [name, item] of Object.entries(map)) {
      if (typeof item === "string") entries.push([name, item]);
      else this.fail(key(field, name), `must be a string, got ${show(item)}`);
    }
    return entries;
  }

  /** Runs a name check when the value is a string; `required` as for string(). */
  name(
    value: unknown,
    field: string,
    problem: (text: string) => string | undefined,
    required = false,
  ): string | undefined {
    const text = this.string(value, field, required);
    if (text === undefined || text === "") return text;
    const message = problem(text);
    if (message !== undefined) this.fail(field, message);
    return text;
  }

  quantity(value: unknown, field: string): number | undefined {
    if (value === undefined) return undefined;
    if (!isQuantity(value)) {
      const shown = typeof value === "string" ? quote(value) : show(value);
      this.fail(field, `${shown} is not a quantity (e.g. 500m, 64Mi, 1G)`);
      return undefined;
    }
    const amount = parseQuantity(value);
    if (amount < 0) {
      this.fail(field, `must not be negative, got ${show(value)}`);
      return undefined;
    }
    return amount;
  }

  /** Exactly one of `names` set in `object`; returns the one set, if only one is. */
  exactlyOne<T extends string>(object: Obj, field: string, names: readonly T[], what: string): T | undefined {
    const set = names.filter((n) => object[n] !== undefined);
    if (set.length === 1) return set[0];
    if (set.length === 0) this.fail(field, `must specify exactly one ${what}: ${names.join(", ")}`);
    else this.fail(field, `must specify exactly one ${what}, got ${set.length}: ${set.join(", ")}`);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The pod.

function checkPod(c: Checker, pod: unknown): void {
  if (!isObject(pod)) {
    c.fail("", `a pod must be an object (a Kubernetes v1 Pod), got ${show(pod)}`);
    return;
  }
  if (pod.apiVersion !== undefined && pod.apiVersion !== "v1") {
    c.fail("apiVersion", `must be "v1", got ${show(pod.apiVersion)}`);
  }
  if (pod.kind !== undefined && pod.kind !== "Pod") c.fail("kind", `must be "Pod", got ${show(pod.kind)}`);
  const metadata = c.object(pod.metadata, "metadata", true);
  if (metadata) checkMetadata(c, metadata);
  const spec = c.object(pod.spec, "spec", true);
  if (spec) checkSpec(c, spec);
  c.object(pod.status, "status");
}

function checkMetadata(c: Checker, m: Obj): void {
  c.name(m.name, "metadata.name", dnsSubdomainProblem, true);
  // "" means the default namespace, as for a manifest without one.
  c.name(m.namespace, "metadata.namespace", dnsLabelProblem);
  c.string(m.uid, "metadata.uid");
  c.string(m.resourceVersion, "metadata.resourceVersion");
  c.string(m.deletionTimestamp, "metadata.deletionTimestamp");
  // `kubectl create --dry-run -o yaml` writes `creationTimestamp: null`.
  if (m.creationTimestamp !== null) c.string(m.creationTimestamp, "metadata.creationTimestamp");
  c.integer(m.deletionGracePeriodSeconds, "metadata.deletionGracePeriodSeconds", { min: 0 });
  c.integer(m.generation, "metadata.generation", { min: 0 });

  for (const [name, value] of c.stringMap(m.labels, "metadata.labels")) {
    const field = key("metadata.labels", name);
    const problem = qualifiedNameProblem(name);
    if (problem !== undefined) c.fail(field, `key ${problem}`);
    if (value.length > 63 || !LABEL_VALUE.test(value)) {
      c.fail(
        field,
        `${quote(value)} is not a valid label value (at most 63 letters, digits, '-', '_' and '.', ` +
          "starting and ending with a letter or digit, or empty)",
      );
    }
  }
  let bytes = 0;
  for (const [name, value] of c.stringMap(m.annotations, "metadata.annotations")) {
    const problem = qualifiedNameProblem(name);
    if (problem !== undefined) c.fail(key("metadata.annotations", name), `key ${problem}`);
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  if (bytes > MAX_ANNOTATIONS_BYTES) {
    c.fail("metadata.annotations", `must have at most ${MAX_ANNOTATIONS_BYTES} bytes in all, got ${bytes}`);
  }
}

interface PodContext {
  /** Names in spec.volumes; undefined when spec.volumes is unusable, so mounts are not checked against it. */
  volumes: ReadonlySet<string> | undefined;
  hostNetwork: boolean;
  /** Container name → path of its name, across containers and init containers. */
  names: Map<string, string>;
}

function checkSpec(c: Checker, spec: Obj): void {
  const volumes = checkVolumes(c, spec.volumes);
  const hostNetwork = c.boolean(spec.hostNetwork, "spec.hostNetwork") ?? false;
  const hostPID = c.boolean(spec.hostPID, "spec.hostPID");
  c.boolean(spec.hostIPC, "spec.hostIPC");
  const shareProcessNamespace = c.boolean(spec.shareProcessNamespace, "spec.shareProcessNamespace");
  if (hostPID === true && shareProcessNamespace === true) {
    c.fail("spec.shareProcessNamespace", "cannot be true together with spec.hostPID");
  }
  c.boolean(spec.setHostnameAsFQDN, "spec.setHostnameAsFQDN");

  const context: PodContext = { volumes, hostNetwork, names: new Map() };
  // Regular containers first, so that a clash between the two lists is reported on the init
  // container, as the API server does.
  const containers = c.array(spec.containers, "spec.containers", true);
  if (containers?.length === 0) c.fail("spec.containers", "must have at least one container");
  checkContainerList(c, containers, "spec.containers", false, context);
  checkContainerList(
    c,
    c.array(spec.initContainers, "spec.initContainers"),
    "spec.initContainers",
    true,
    context,
  );

  c.oneOf(spec.restartPolicy, "spec.restartPolicy", RESTART_POLICIES);
  c.integer(spec.terminationGracePeriodSeconds, "spec.terminationGracePeriodSeconds", { min: 0 });
  c.integer(spec.activeDeadlineSeconds, "spec.activeDeadlineSeconds", { min: 1 });
  c.integer(spec.priority, "spec.priority", { min: -MAX_INT32 - 1, max: MAX_INT32 });
  c.name(spec.hostname, "spec.hostname", dnsLabelProblem);
  c.name(spec.subdomain, "spec.subdomain", dnsLabelProblem);
  c.name(spec.nodeName, "spec.nodeName", dnsSubdomainProblem);
  c.name(spec.serviceAccountName, "spec.serviceAccountName", dnsSubdomainProblem);
  c.name(spec.runtimeClassName, "spec.runtimeClassName", dnsSubdomainProblem);
  checkDns(c, spec);
  checkPodSecurityContext(c, spec.securityContext, "spec.securityContext");
  c.objects(spec.imagePullSecrets, "spec.imagePullSecrets", (secret, path) => {
    c.name(secret.name, child(path, "name"), dnsSubdomainProblem, true);
  });

  const os = c.object(spec.os, "spec.os");
  if (os) {
    if (os.name === "windows") c.fail("spec.os.name", "nodelet runs linux pods only");
    else c.oneOf(os.name, "spec.os.name", ["linux"], true);
  }
}

function checkContainerList(
  c: Checker,
  list: unknown[] | undefined,
  field: string,
  init: boolean,
  context: PodContext,
): void {
  if (!list) return;
  if (list.length > MAX_CONTAINERS) {
    c.fail(field, `must have at most ${MAX_CONTAINERS} containers, got ${list.length}`);
    return;
  }
  const hostPorts = new Map<string, string>();
  list.forEach((item, i) => {
    const container = c.object(item, index(field, i), true);
    if (container) checkContainer(c, container, index(field, i), init, context, hostPorts);
  });
}

function checkVolumes(c: Checker, value: unknown): Set<string> | undefined {
  const names = new Map<string, string>();
  const list = c.objects(value, "spec.volumes", (volume, path) => {
    const nameField = child(path, "name");
    const name = c.name(volume.name, nameField, dnsLabelProblem, true);
    if (name) {
      const first = names.get(name);
      if (first !== undefined) c.fail(nameField, `duplicate volume name ${quote(name)} (also ${first})`);
      else names.set(name, nameField);
    }
    const sources = Object.keys(volume).filter((k) => k !== "name" && volume[k] !== undefined);
    if (sources.length === 0) {
      c.fail(path, `must specify a volume source: ${VOLUME_SOURCES.join(" or ")}`);
    } else if (sources.length > 1) {
      c.fail(path, `must specify exactly one volume source, got ${sources.length}: ${sources.join(", ")}`);
    }
    for (const source of sources) {
      if (!(VOLUME_SOURCES as readonly string[]).includes(source)) {
        c.fail(child(path, source), "unsupported volume source; nodelet supports emptyDir and hostPath");
      }
    }
    const emptyDir = c.object(volume.emptyDir, child(path, "emptyDir"));
    if (emptyDir) {
      c.oneOf(emptyDir.medium, child(path, "emptyDir.medium"), EMPTY_DIR_MEDIA);
      c.quantity(emptyDir.sizeLimit, child(path, "emptyDir.sizeLimit"));
    }
    const hostPath = c.object(volume.hostPath, child(path, "hostPath"));
    if (hostPath) {
      checkAbsolutePath(c, hostPath.path, child(path, "hostPath.path"), true);
      c.oneOf(hostPath.type, child(path, "hostPath.type"), HOST_PATH_TYPES);
    }
  });
  if (value !== undefined && !list) return undefined;
  return new Set(names.keys());
}

function checkAbsolutePath(
  c: Checker,
  value: unknown,
  field: string,
  noBacksteps = false,
): string | undefined {
  const path = c.string(value, field, true);
  if (path === undefined) return undefined;
  if (!path.startsWith("/")) c.fail(field, `${quote(path)} must be an absolute path (starting with '/')`);
  else if (noBacksteps && path.split("/").includes(".."))
    c.fail(field, `${quote(path)} must not contain '..'`);
  return path;
}

function checkDns(c: Checker, spec: Obj): void {
  const policy = c.oneOf(spec.dnsPolicy, "spec.dnsPolicy", DNS_POLICIES);
  const config = c.object(spec.dnsConfig, "spec.dnsConfig");
  if (policy === "None" && spec.dnsConfig === undefined) {
    c.fail("spec.dnsConfig", 'is required when dnsPolicy is "None" (with at least one nameserver)');
  }
  if (!config) return;
  const nameservers = c.stringArray(config.nameservers, "spec.dnsConfig.nameservers");
  // A nameservers field of the wrong type is reported already.
  if (policy === "None" && (config.nameservers === undefined || nameservers?.length === 0)) {
    c.fail("spec.dnsConfig.nameservers", 'must list at least one nameserver when dnsPolicy is "None"');
  }
  if (nameservers) {
    if (nameservers.length > 3)
      c.fail("spec.dnsConfig.nameservers", `must have at most 3 entries, got ${nameservers.length}`);
    nameservers.forEach((ns, i) => {
      if (isIP(ns) === 0)
        c.fail(index("spec.dnsConfig.nameservers", i), `${quote(ns)} must be an IP address`);
    });
  }
  const searches = c.stringArray(config.searches, "spec.dnsConfig.searches");
  if (searches) {
    if (searches.length > 32)
      c.fail("spec.dnsConfig.searches", `must have at most 32 entries, got ${searches.length}`);
    searches.forEach((domain, i) => {
      const trimmed = domain.endsWith(".") ? domain.slice(0, -1) : domain;
      const problem = dnsSubdomainProblem(trimmed);
      if (problem !== undefined) c.fail(index("spec.dnsConfig.searches", i), problem);
    });
  }
  c.objects(config.options, "spec.dnsConfig.options", (option, path) => {
    c.string(option.name, child(path, "name"), true);
    c.string(option.value, child(path, "value"));
  });
}

// ---------------------------------------------------------------------------------------------
// Containers.

function checkContainer(
  c: Checker,
  ct: Obj,
  path: string,
  init: boolean,
  context: PodContext,
  hostPorts: Map<string, string>,
): void {
  const nameField = child(path, "name");
  const name = c.name(ct.name, nameField, dnsLabelProblem, true);
  if (name) {
    const first = context.names.get(name);
    if (first !== undefined) c.fail(nameField, `duplicate container name ${quote(name)} (also ${first})`);
    else context.names.set(name, nameField);
  }
  const image = c.string(ct.image, child(path, "image"), true);
  if (image) {
    const problem = imageReferenceProblem(image);
    if (problem !== undefined) c.fail(child(path, "image"), problem);
  }
  c.oneOf(ct.imagePullPolicy, child(path, "imagePullPolicy"), PULL_POLICIES);
  c.stringArray(ct.command, child(path, "command"));
  c.stringArray(ct.args, child(path, "args"));
  c.string(ct.workingDir, child(path, "workingDir"));
  c.boolean(ct.stdin, child(path, "stdin"));
  c.boolean(ct.stdinOnce, child(path, "stdinOnce"));
  c.boolean(ct.tty, child(path, "tty"));
  c.string(ct.terminationMessagePath, child(path, "terminationMessagePath"));
  c.oneOf(ct.terminationMessagePolicy, child(path, "terminationMessagePolicy"), TERMINATION_MESSAGE_POLICIES);

  let sidecar = false;
  const restartField = child(path, "restartPolicy");
  if (init) {
    c.oneOf(ct.restartPolicy, restartField, ["Always"]);
    // An unsupported value is reported once, not again for each probe it would forbid.
    sidecar = ct.restartPolicy !== undefined;
  } else if (ct.restartPolicy !== undefined) {
    c.fail(
      restartField,
      `must not be set on a regular container, got ${show(ct.restartPolicy)}; ` +
        'only init containers take restartPolicy "Always" (a sidecar)',
    );
  }
  if (init && !sidecar) {
    for (const field of ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"]) {
      if (ct[field] !== undefined) {
        c.fail(
          child(path, field),
          'must not be set on an init container unless its restartPolicy is "Always"',
        );
      }
    }
  }

  c.objects(ct.env, child(path, "env"), (env, envPath) => checkEnvVar(c, env, envPath));
  checkPorts(c, ct.ports, child(path, "ports"), context.hostNetwork, hostPorts);
  checkResources(c, ct.resources, child(path, "resources"));
  const privileged = checkSecurityContext(c, ct.securityContext, child(path, "securityContext"));
  checkVolumeMounts(c, ct.volumeMounts, child(path, "volumeMounts"), context.volumes, privileged);

  const lifecycle = c.object(ct.lifecycle, child(path, "lifecycle"));
  if (lifecycle) {
    for (const hook of ["postStart", "preStop"])
      checkLifecycleHandler(c, lifecycle[hook], child(path, `lifecycle.${hook}`));
  }
  checkProbe(c, ct.livenessProbe, child(path, "livenessProbe"), "liveness");
  checkProbe(c, ct.readinessProbe, child(path, "readinessProbe"), "readiness");
  checkProbe(c, ct.startupProbe, child(path, "startupProbe"), "startup");
}

function checkEnvVar(c: Checker, env: Obj, path: string): void {
  const name = c.string(env.name, child(path, "name"), true);
  if (name && !ENV_VAR_NAME.test(name)) {
    c.fail(
      child(path, "name"),
      `${quote(name)} is not a valid environment variable name (printable ASCII characters other than '=')`,
    );
  }
  const value = c.string(env.value, child(path, "value"));
  const from = c.object(env.valueFrom, child(path, "valueFrom"));
  if (!from) return;
  // As the API server: an empty value beside valueFrom is the same as no value.
  if (value)
    c.fail(child(path, "valueFrom"), "must not be set when value is not empty (set one of value, valueFrom)");
  const fromPath = child(path, "valueFrom");
  c.exactlyOne(from, fromPath, ENV_SOURCES, "source");

  const fieldRef = c.object(from.fieldRef, child(fromPath, "fieldRef"));
  if (fieldRef) {
    if (fieldRef.apiVersion !== undefined)
      c.oneOf(fieldRef.apiVersion, child(fromPath, "fieldRef.apiVersion"), ["v1"]);
    const fieldPath = child(fromPath, "fieldRef.fieldPath");
    const selected = c.string(fieldRef.fieldPath, fieldPath, true);
    if (selected) checkEnvFieldPath(c, selected, fieldPath);
  }

  const resourceRef = c.object(from.resourceFieldRef, child(fromPath, "resourceFieldRef"));
  if (resourceRef) {
    const resourceField = child(fromPath, "resourceFieldRef.resource");
    const resource = c.string(resourceRef.resource, resourceField, true);
    const hugepages = resource !== undefined && /^(?:limits|requests)\.hugepages-/.test(resource);
    if (resource && !(ENV_RESOURCES as readonly string[]).includes(resource) && !hugepages) {
      c.fail(
        resourceField,
        `${quote(resource)} is not supported; expected one of ${listOf(ENV_RESOURCES)} or limits/requests.hugepages-<size>`,
      );
    }
    c.name(resourceRef.containerName, child(fromPath, "resourceFieldRef.containerName"), dnsLabelProblem);
    const divisor = c.quantity(resourceRef.divisor, child(fromPath, "resourceFieldRef.divisor"));
    if (divisor === 0) c.fail(child(fromPath, "resourceFieldRef.divisor"), "must be greater than zero");
  }

  for (const source of ["configMapKeyRef", "secretKeyRef"]) {
    const ref = c.object(from[source], child(fromPath, source));
    if (!ref) continue;
    c.name(ref.name, child(fromPath, `${source}.name`), dnsSubdomainProblem, true);
    c.name(ref.key, child(fromPath, `${source}.key`), configMapKeyProblem, true);
    c.boolean(ref.optional, child(fromPath, `${source}.optional`));
  }
}

function checkEnvFieldPath(c: Checker, fieldPath: string, field: string): void {
  if ((ENV_FIELD_PATHS as readonly string[]).includes(fieldPath)) return;
  const subscript = LABEL_SUBSCRIPT.exec(fieldPath);
  if (subscript) {
    const problem = qualifiedNameProblem(subscript[2] ?? "");
    if (problem !== undefined) c.fail(field, `the ${subscript[1]} key ${problem}`);
    return;
  }
  c.fail(
    field,
    `${quote(fieldPath)} is not supported; expected one of ${listOf(ENV_FIELD_PATHS)}, ` +
      "metadata.labels['<key>'] or metadata.annotations['<key>']",
  );
}

function checkPorts(
  c: Checker,
  value: unknown,
  field: string,
  hostNetwork: boolean,
  hostPorts: Map<string, string>,
): void {
  const names = new Map<string, string>();
  c.objects(value, field, (port, path) => {
    const containerPort = c.integer(port.containerPort, child(path, "containerPort"), {
      min: 1,
      max: 65535,
      required: true,
    });
    const hostPortField = child(path, "hostPort");
    const hostPort = c.integer(port.hostPort, hostPortField, { min: 0, max: 65535 });
    const protocol = c.oneOf(port.protocol, child(path, "protocol"), PROTOCOLS) ?? "TCP";
    const hostIP = c.string(port.hostIP, child(path, "hostIP")) ?? "";
    if (hostIP !== "" && isIP(hostIP) === 0)
      c.fail(child(path, "hostIP"), `${quote(hostIP)} must be an IP address`);
    const nameField = child(path, "name");
    const name = c.name(port.name, nameField, portNameProblem);
    if (name) {
      const first = names.get(name);
      if (first !== undefined) c.fail(nameField, `duplicate port name ${quote(name)} (also ${first})`);
      else names.set(name, nameField);
    }
    if (hostNetwork && hostPort && containerPort !== undefined && hostPort !== containerPort) {
      c.fail(
        hostPortField,
        `must equal containerPort (${containerPort}) when hostNetwork is true, got ${hostPort}`,
      );
    }
    if (hostPort) {
      const id = `${hostPort}/${protocol}/${hostIP}`;
      const first = hostPorts.get(id);
      if (first !== undefined)
        c.fail(hostPortField, `duplicate host port ${hostPort}/${protocol} (also ${first})`);
      else hostPorts.set(id, hostPortField);
    }
  });
}

interface Amount {
  text: string;
  value: number;
}

function checkResources(c: Checker, value: unknown, path: string): void {
  const resources = c.object(value, path);
  if (!resources) return;
  const limits = checkResourceList(c, resources.limits, child(path, "limits"));
  const requests = checkResourceList(c, resources.requests, child(path, "requests"));
  for (const [name, request] of requests) {
    const field = key(child(path, "requests"), name);
    const limit = limits.get(name);
    // A limit that is there but invalid is reported already.
    if (limit === undefined && isObject(resources.limits) && Object.hasOwn(resources.limits, name)) continue;
    if (overcommitAllowed(name)) {
      if (limit !== undefined && request.value - limit.value > Math.abs(limit.value) * 1e-9) {
        c.fail(
          field,
          `must be less than or equal to the ${name} limit of ${limit.text}, got ${request.text}`,
        );
      }
    } else if (limit === undefined) {
      c.fail(
        field,
        `needs a limit too: ${name} cannot be overcommitted, so set limits.${name} equal to the request`,
      );
    } else if (Math.abs(request.value - limit.value) > Math.abs(limit.value) * 1e-9) {
      c.fail(
        field,
        `must equal the ${name} limit of ${limit.text} (${name} cannot be overcommitted), got ${request.text}`,
      );
    }
  }
}

function overcommitAllowed(resource: string): boolean {
  return (NATIVE_RESOURCES as readonly string[]).includes(resource);
}

function checkResourceList(c: Checker, value: unknown, path: string): Map<string, Amount> {
  const amounts = new Map<string, Amount>();
  const list = c.object(value, path);
  if (!list) return amounts;
  for (const [name, raw] of Object.entries(list)) {
    const field = key(path, name);
    const problem = resourceNameProblem(name);
    if (problem !== undefined) {
      c.fail(field, problem);
      continue;
    }
    const amount = c.quantity(raw, field);
    if (amount === undefined) continue;
    if (name.includes("/") && !Number.isInteger(amount)) {
      c.fail(field, `must be a whole number for the extended resource ${name}, got ${show(raw)}`);
      continue;
    }
    amounts.set(name, { text: String(raw), value: amount });
  }
  return amounts;
}

function resourceNameProblem(name: string): string | undefined {
  if ((NATIVE_RESOURCES as readonly string[]).includes(name)) return undefined;
  if (name.startsWith("hugepages-") && isQuantity(name.slice("hugepages-".length))) return undefined;
  if (name.includes("/") && qualifiedNameProblem(name) === undefined && !name.includes("kubernetes.io/")) {
    return undefined;
  }
  return (
    `${quote(name)} is not a supported resource name; expected cpu, memory, ephemeral-storage, ` +
    "hugepages-<size> or an extended resource like example.com/gpu"
  );
}

function checkVolumeMounts(
  c: Checker,
  value: unknown,
  field: string,
  volumes: ReadonlySet<string> | undefined,
  privileged: boolean,
): void {
  const mountPaths = new Map<string, string>();
  c.objects(value, field, (mount, path) => {
    const nameField = child(path, "name");
    const name = c.string(mount.name, nameField, true);
    if (name && volumes && !volumes.has(name)) {
      const known = volumes.size === 0 ? "spec.volumes is empty" : `volumes: ${listOf([...volumes])}`;
      c.fail(nameField, `${quote(name)} does not match any volume in spec.volumes (${known})`);
    }
    const mountPathField = child(path, "mountPath");
    const mountPath = checkAbsolutePath(c, mount.mountPath, mountPathField);
    if (mountPath) {
      const first = mountPaths.get(mountPath);
      if (first !== undefined)
        c.fail(mountPathField, `duplicate mountPath ${quote(mountPath)} (also ${first})`);
      else mountPaths.set(mountPath, mountPathField);
    }
    c.boolean(mount.readOnly, child(path, "readOnly"));
    const subPath = c.string(mount.subPath, child(path, "subPath"));
    if (subPath?.startsWith("/")) c.fail(child(path, "subPath"), `${quote(subPath)} must be a relative path`);
    else if (subPath?.split("/").includes(".."))
      c.fail(child(path, "subPath"), `${quote(subPath)} must not contain '..'`);
    const propagation = c.oneOf(mount.mountPropagation, child(path, "mountPropagation"), MOUNT_PROPAGATIONS);
    if (propagation === "Bidirectional" && !privileged) {
      c.fail(child(path, "mountPropagation"), "Bidirectional propagation needs a privileged container");
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Probes, lifecycle hooks and their handlers.

function checkProbe(
  c: Checker,
  value: unknown,
  path: string,
  kind: "liveness" | "readiness" | "startup",
): void {
  const probe = c.object(value, path);
  if (!probe) return;
  c.exactlyOne(probe, path, PROBE_HANDLERS, "handler");
  checkHandlers(c, probe, path);
  const grpc = c.object(probe.grpc, child(path, "grpc"));
  if (grpc) {
    c.integer(grpc.port, child(path, "grpc.port"), { min: 1, max: 65535, required: true });
    c.string(grpc.service, child(path, "grpc.service"));
  }
  c.integer(probe.initialDelaySeconds, child(path, "initialDelaySeconds"), { min: 0, max: MAX_INT32 });
  for (const name of ["timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]) {
    c.integer(probe[name], child(path, name), { min: 1, max: MAX_INT32 });
  }
  if (kind !== "readiness" && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    c.fail(
      child(path, "successThreshold"),
      `must be 1 for ${kind} probes, got ${show(probe.successThreshold)}`,
    );
  }
  const graceField = child(path, "terminationGracePeriodSeconds");
  if (kind === "readiness" && probe.terminationGracePeriodSeconds !== undefined) {
    c.fail(graceField, "must not be set for readiness probes");
  } else {
    c.integer(probe.terminationGracePeriodSeconds, graceField, { min: 1 });
  }
}

function checkLifecycleHandler(c: Checker, value: unknown, path: string): void {
  const handler = c.object(value, path);
  if (!handler) return;
  c.exactlyOne(handler, path, LIFECYCLE_HANDLERS, "handler");
  checkHandlers(c, handler, path);
  const sleep = c.object(handler.sleep, child(path, "sleep"));
  if (sleep) c.integer(sleep.seconds, child(path, "sleep.seconds"), { min: 0, required: true });
}

/** The exec, httpGet and tcpSocket handlers that probes and lifecycle hooks share. */
function checkHandlers(c: Checker, handler: Obj, path: string): void {
  const exec = c.object(handler.exec, child(path, "exec"));
  if (exec) {
    const command = c.stringArray(exec.command, child(path, "exec.command"));
    if (exec.command === undefined || command?.length === 0) {
      c.fail(child(path, "exec.command"), "is required (a non-empty list of strings)");
    }
  }
  const httpGet = c.object(handler.httpGet, child(path, "httpGet"));
  if (httpGet) {
    checkPortOrName(c, httpGet.port, child(path, "httpGet.port"));
    c.string(httpGet.path, child(path, "httpGet.path"));
    c.string(httpGet.host, child(path, "httpGet.host"));
    c.oneOf(httpGet.scheme, child(path, "httpGet.scheme"), URI_SCHEMES);
    c.objects(httpGet.httpHeaders, child(path, "httpGet.httpHeaders"), (header, headerPath) => {
      const name = c.string(header.name, child(headerPath, "name"), true);
      if (name && !HTTP_HEADER_NAME.test(name)) {
        c.fail(child(headerPath, "name"), `${quote(name)} is not a valid HTTP header name`);
      }
      c.string(header.value, child(headerPath, "value"));
    });
  }
  const tcpSocket = c.object(handler.tcpSocket, child(path, "tcpSocket"));
  if (tcpSocket) {
    checkPortOrName(c, tcpSocket.port, child(path, "tcpSocket.port"));
    c.string(tcpSocket.host, child(path, "tcpSocket.host"));
  }
}

function checkPortOrName(c: Checker, value: unknown, field: string): void {
  if (typeof value === "string") {
    const problem = portNameProblem(value);
    if (problem !== undefined) c.fail(field, problem);
    return;
  }
  if (typeof value === "number") {
    c.integer(value, field, { min: 1, max: 65535 });
    return;
  }
  const expected = "a port number from 1 to 65535 or a port name";
  c.fail(
    field,
    value === undefined ? `is required (${expected})` : `must be ${expected}, got ${show(value)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Security contexts.

/** Checks a container's securityContext; returns whether it makes the container privileged. */
function checkSecurityContext(c: Checker, value: unknown, path: string): boolean {
  const sc = c.object(value, path);
  if (!sc) return false;
  checkIds(c, sc, path);
  c.boolean(sc.runAsNonRoot, child(path, "runAsNonRoot"));
  const privileged = c.boolean(sc.privileged, child(path, "privileged")) ?? false;
  c.boolean(sc.readOnlyRootFilesystem, child(path, "readOnlyRootFilesystem"));
  const escalation = c.boolean(sc.allowPrivilegeEscalation, child(path, "allowPrivilegeEscalation"));
  c.oneOf(sc.procMount, child(path, "procMount"), PROC_MOUNTS);
  checkSeccomp(c, sc.seccompProfile, child(path, "seccompProfile"));
  checkSELinux(c, sc.seLinuxOptions, child(path, "seLinuxOptions"));
  const capabilities = c.object(sc.capabilities, child(path, "capabilities"));
  const added = capabilities ? c.stringArray(capabilities.add, child(path, "capabilities.add")) : undefined;
  if (capabilities) c.stringArray(capabilities.drop, child(path, "capabilities.drop"));
  if (escalation === false && privileged) {
    c.fail(child(path, "allowPrivilegeEscalation"), "cannot be false when privileged is true");
  }
  if (escalation === false && added?.some((cap) => cap === "SYS_ADMIN" || cap === "CAP_SYS_ADMIN")) {
    c.fail(child(path, "allowPrivilegeEscalation"), "cannot be false when capabilities.add has SYS_ADMIN");
  }
  return privileged;
}

function checkPodSecurityContext(c: Checker, value: unknown, path: string): void {
  const sc = c.object(value, path);
  if (!sc) return;
  checkIds(c, sc, path);
  c.boolean(sc.runAsNonRoot, child(path, "runAsNonRoot"));
  c.integer(sc.fsGroup, child(path, "fsGroup"), { min: 0, max: MAX_INT32 });
  c.array(sc.supplementalGroups, child(path, "supplementalGroups"))?.forEach((gid, i) => {
    c.integer(gid, index(child(path, "supplementalGroups"), i), { min: 0, max: MAX_INT32 });
  });
  checkSeccomp(c, sc.seccompProfile, child(path, "seccompProfile"));
  checkSELinux(c, sc.seLinuxOptions, child(path, "seLinuxOptions"));
  const sysctls = new Map<string, string>();
  c.objects(sc.sysctls, child(path, "sysctls"), (sysctl, sysctlPath) => {
    const nameField = child(sysctlPath, "name");
    const name = c.string(sysctl.name, nameField, true);
    if (name) {
      if (name.length > 253 || !SYSCTL_NAME.test(name)) {
        c.fail(
          nameField,
          `${quote(name)} is not a valid sysctl name (e.g. net.ipv4.ip_forward or kernel/shm_rmid_forced)`,
        );
      }
      const first = sysctls.get(name);
      if (first !== undefined) c.fail(nameField, `duplicate sysctl ${quote(name)} (also ${first})`);
      else sysctls.set(name, nameField);
    }
    c.string(sysctl.value, child(sysctlPath, "value"), true);
  });
}

function checkIds(c: Checker, sc: Obj, path: string): void {
  c.integer(sc.runAsUser, child(path, "runAsUser"), { min: 0, max: MAX_INT32 });
  c.integer(sc.runAsGroup, child(path, "runAsGroup"), { min: 0, max: MAX_INT32 });
}

function checkSeccomp(c: Checker, value: unknown, path: string): void {
  const profile = c.object(value, path);
  if (!profile) return;
  const type = c.oneOf(profile.type, child(path, "type"), SECCOMP_TYPES, true);
  const localField = child(path, "localhostProfile");
  if (type === "Localhost") {
    c.string(profile.localhostProfile, localField, true);
  } else if (type !== undefined && profile.localhostProfile !== undefined) {
    c.fail(localField, `must only be set when type is "Localhost", got type ${quote(type)}`);
  }
}

function checkSELinux(c: Checker, value: unknown, path: string): void {
  const options = c.object(value, path);
  if (!options) return;
  for (const name of ["user", "role", "type", "level"]) c.string(options[name], child(path, name));
}
