import { isIP } from "node:net";
import { isQuantity } from "../quantity.js";
import { type Checker, child, isRecord, key, listOf, type Obj, quote, show } from "./checker.js";
import {
  ENV_FIELD_PATHS,
  ENV_RESOURCES,
  ENV_SOURCES,
  ENV_VAR_NAME,
  LABEL_SUBSCRIPT,
  MOUNT_PROPAGATIONS,
  NATIVE_RESOURCES,
  PROTOCOLS,
  PULL_POLICIES,
  TERMINATION_MESSAGE_POLICIES,
} from "./constants.js";
import {
  configMapKeyProblem,
  dnsLabelProblem,
  dnsSubdomainProblem,
  imageReferenceProblem,
  portNameProblem,
  qualifiedNameProblem,
} from "./names.js";
import { checkAbsolutePath, type PodContext } from "./pod.js";
import { checkLifecycleHandler, checkProbe } from "./probes.js";
import { checkSecurityContext } from "./security.js";

// Containers.

export function checkContainer(
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

export function checkEnvVar(c: Checker, env: Obj, path: string): void {
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

export function checkEnvFieldPath(c: Checker, fieldPath: string, field: string): void {
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

export function checkPorts(
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

export interface Amount {
  text: string;
  value: number;
}

export function checkResources(c: Checker, value: unknown, path: string): void {
  const resources = c.object(value, path);
  if (!resources) return;
  const limits = checkResourceList(c, resources.limits, child(path, "limits"));
  const requests = checkResourceList(c, resources.requests, child(path, "requests"));
  for (const [name, request] of requests) {
    const field = key(child(path, "requests"), name);
    const limit = limits.get(name);
    // A limit that is there but invalid is reported already.
    if (limit === undefined && isRecord(resources.limits) && Object.hasOwn(resources.limits, name)) continue;
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

export function overcommitAllowed(resource: string): boolean {
  return (NATIVE_RESOURCES as readonly string[]).includes(resource);
}

export function checkResourceList(c: Checker, value: unknown, path: string): Map<string, Amount> {
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

export function resourceNameProblem(name: string): string | undefined {
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

export function checkVolumeMounts(
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
