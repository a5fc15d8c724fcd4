// The defaults the API server applies to a Pod (pkg/apis/core/v1/defaults.go) that the runtime
// layer relies on. A static pod never passes through an API server, so the agent applies them
// itself, before hashing and validating the manifest, as the kubelet's decoder does.

import { isRecord, type V1Pod } from "@nodelet/runtime-api";

type Obj = Record<string, unknown>;

function objects(value: unknown): Obj[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** A string field is unset when missing, null or "" (Go's zero value). */
function defaultString(target: Obj, name: string, value: string): void {
  if (target[name] === undefined || target[name] === null || target[name] === "") target[name] = value;
}

/** A number field is unset when missing or null; with `zero`, 0 too (a Go int, not a pointer). */
function defaultNumber(target: Obj, name: string, value: number, zero = false): void {
  const current = target[name];
  if (current === undefined || current === null || (zero && current === 0)) target[name] = value;
}

/**
 * Returns a new pod with the API server's defaults applied; the input is not modified. Fields
 * of the wrong type are left as they are for validation to report.
 *
 * - metadata.namespace "default" when empty
 * - spec: restartPolicy Always, terminationGracePeriodSeconds 30, dnsPolicy ClusterFirst,
 *   securityContext {}; with hostNetwork, each container port's hostPort = containerPort
 * - containers and init containers: imagePullPolicy (Always for a `latest` or missing tag,
 *   else IfNotPresent; a digest without a tag is IfNotPresent), terminationMessagePath
 *   /dev/termination-log, terminationMessagePolicy File, ports protocol TCP, requests copied
 *   from limits where unset, env fieldRef apiVersion v1
 * - probes: timeoutSeconds 1, periodSeconds 10, successThreshold 1, failureThreshold 3;
 *   httpGet (probes and lifecycle hooks): path "/", scheme HTTP
 * - volumes: a volume without a source becomes emptyDir {}; hostPath type ""
 */
export function applyPodDefaults(pod: V1Pod): V1Pod {
  const copy = structuredClone(pod) as unknown as Obj;
  if (isRecord(copy.metadata)) defaultString(copy.metadata, "namespace", "default");
  const spec = copy.spec;
  if (isRecord(spec)) defaultSpec(spec);
  return copy as unknown as V1Pod;
}

function defaultSpec(spec: Obj): void {
  defaultString(spec, "restartPolicy", "Always");
  defaultNumber(spec, "terminationGracePeriodSeconds", 30);
  defaultString(spec, "dnsPolicy", "ClusterFirst");
  if (spec.securityContext === undefined || spec.securityContext === null) spec.securityContext = {};
  const hostNetwork = spec.hostNetwork === true;
  for (const list of [spec.containers, spec.initContainers]) {
    for (const container of objects(list)) defaultContainer(container, hostNetwork);
  }
  for (const volume of objects(spec.volumes)) {
    if (Object.keys(volume).every((name) => name === "name")) volume.emptyDir = {};
    if (isRecord(volume.hostPath))
      if (volume.hostPath.type === undefined || volume.hostPath.type === null) volume.hostPath.type = "";
  }
}

function defaultContainer(container: Obj, hostNetwork: boolean): void {
  if (typeof container.image === "string") {
    defaultString(
      container,
      "imagePullPolicy",
      imageTag(container.image) === "latest" ? "Always" : "IfNotPresent",
    );
  }
  defaultString(container, "terminationMessagePath", "/dev/termination-log");
  defaultString(container, "terminationMessagePolicy", "File");
  for (const port of objects(container.ports)) {
    defaultString(port, "protocol", "TCP");
    if (hostNetwork && typeof port.containerPort === "number") {
      defaultNumber(port, "hostPort", port.containerPort, true);
    }
  }
  if (isRecord(container.resources) && isRecord(container.resources.limits)) {
    const resources = container.resources;
    const limits = container.resources.limits;
    if (resources.requests === undefined || resources.requests === null) resources.requests = {};
    if (isRecord(resources.requests)) {
      for (const [name, value] of Object.entries(limits)) {
        if (resources.requests[name] === undefined) resources.requests[name] = value;
      }
    }
  }
  for (const env of objects(container.env)) {
    if (isRecord(env.valueFrom) && isRecord(env.valueFrom.fieldRef)) {
      defaultString(env.valueFrom.fieldRef, "apiVersion", "v1");
    }
  }
  for (const name of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    const probe = container[name];
    if (!isRecord(probe)) continue;
    defaultNumber(probe, "timeoutSeconds", 1, true);
    defaultNumber(probe, "periodSeconds", 10, true);
    defaultNumber(probe, "successThreshold", 1, true);
    defaultNumber(probe, "failureThreshold", 3, true);
    defaultHttpGet(probe.httpGet);
  }
  if (isRecord(container.lifecycle)) {
    for (const hook of [container.lifecycle.postStart, container.lifecycle.preStop]) {
      if (isRecord(hook)) defaultHttpGet(hook.httpGet);
    }
  }
}

function defaultHttpGet(action: unknown): void {
  if (!isRecord(action)) return;
  defaultString(action, "path", "/");
  defaultString(action, "scheme", "HTTP");
}

/**
 * The tag of an image reference as the kubelet's parsers.ParseImageName sees it: "latest" when
 * there is neither a tag nor a digest, "" for a digest alone.
 */
export function imageTag(image: string): string {
  const at = image.indexOf("@");
  const name = at === -1 ? image : image.slice(0, at);
  const colon = name.lastIndexOf(":");
  const tag = colon > name.lastIndexOf("/") ? name.slice(colon + 1) : "";
  if (tag !== "") return tag;
  return at === -1 ? "latest" : "";
}
