// Fields of a v1 Pod that nodelet does not implement. The kubelet would act on them; ignoring them
// silently would run the pod with less isolation or fewer resources than its author asked for, so
// validation refuses them, naming the field.

import { type Checker, child, index, isRecord, type Obj } from "./checker.js";

const CONTAINER_LISTS = ["containers", "initContainers"] as const;

/** Refuses, at their paths, the pod fields nodelet cannot honour. */
export function checkUnsupportedFields(c: Checker, spec: Obj): void {
  const refuse = (field: string, what: string) => c.fail(field, `${what} is not supported by nodelet`);
  if (spec.hostUsers === false) refuse("spec.hostUsers", "a user namespace (hostUsers: false)");
  if (nonEmpty(spec.ephemeralContainers)) refuse("spec.ephemeralContainers", "ephemeral containers");
  if (nonEmpty(spec.resourceClaims)) refuse("spec.resourceClaims", "dynamic resource allocation");
  if (spec.resources !== undefined) refuse("spec.resources", "pod-level resources");
  if (isRecord(spec.securityContext) && spec.securityContext.appArmorProfile !== undefined) {
    refuse("spec.securityContext.appArmorProfile", "AppArmor");
  }
  for (const list of CONTAINER_LISTS) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    containers.forEach((container: unknown, i) => {
      if (!isRecord(container)) return;
      const path = index(`spec.${list}`, i);
      if (isRecord(container.securityContext) && container.securityContext.appArmorProfile !== undefined) {
        refuse(child(path, "securityContext.appArmorProfile"), "AppArmor");
      }
      if (isRecord(container.resources) && nonEmpty(container.resources.claims)) {
        refuse(child(path, "resources.claims"), "dynamic resource allocation");
      }
      if (!Array.isArray(container.volumeMounts)) return;
      container.volumeMounts.forEach((mount: unknown, j) => {
        if (!isRecord(mount)) return;
        const at = index(child(path, "volumeMounts"), j);
        if (mount.subPathExpr !== undefined) refuse(child(at, "subPathExpr"), "subPathExpr");
        if (mount.recursiveReadOnly !== undefined && mount.recursiveReadOnly !== "Disabled") {
          refuse(child(at, "recursiveReadOnly"), "a recursive read-only mount");
        }
      });
    });
  }
}

function nonEmpty(value: unknown): boolean {
  return value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);
}
