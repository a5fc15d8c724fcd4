import { isIP } from "node:net";
import { type Checker, child, index, isRecord, key, type Obj, quote, show } from "./checker.js";
import {
  DNS_POLICIES,
  EMPTY_DIR_MEDIA,
  HOST_PATH_TYPES,
  LABEL_VALUE,
  MAX_ANNOTATIONS_BYTES,
  MAX_CONTAINERS,
  MAX_INT32,
  RESTART_POLICIES,
  VOLUME_SOURCES,
} from "./constants.js";
import { checkContainer } from "./containers.js";
import { dnsLabelProblem, dnsSubdomainProblem, qualifiedNameProblem } from "./names.js";
import { checkPodSecurityContext } from "./security.js";
import { checkUnsupportedFields } from "./unsupported.js";

// The pod.

export function checkPod(c: Checker, pod: unknown): void {
  if (!isRecord(pod)) {
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

export function checkMetadata(c: Checker, m: Obj): void {
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

export interface PodContext {
  /** Names in spec.volumes; undefined when spec.volumes is unusable, so mounts are not checked against it. */
  volumes: ReadonlySet<string> | undefined;
  hostNetwork: boolean;
  /** Container name → path of its name, across containers and init containers. */
  names: Map<string, string>;
}

export function checkSpec(c: Checker, spec: Obj): void {
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
  checkHostAliases(c, spec.hostAliases);
  checkUnsupportedFields(c, spec);
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

export function checkContainerList(
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

export function checkVolumes(c: Checker, value: unknown): Set<string> | undefined {
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

export function checkAbsolutePath(
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

export function checkDns(c: Checker, spec: Obj): void {
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

/** hostAliases: an IP and host names for the pod's managed /etc/hosts. */
export function checkHostAliases(c: Checker, value: unknown): void {
  c.objects(value, "spec.hostAliases", (alias, path) => {
    const ip = c.string(alias.ip, child(path, "ip"), true);
    if (ip !== undefined && isIP(ip) === 0) c.fail(child(path, "ip"), `${quote(ip)} must be an IP address`);
    const names = c.stringArray(alias.hostnames, child(path, "hostnames"));
    names?.forEach((name, i) => {
      const problem = dnsSubdomainProblem(name);
      if (problem !== undefined) c.fail(index(child(path, "hostnames"), i), problem);
    });
  });
}
