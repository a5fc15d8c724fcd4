import { type Checker, child, index, type Obj, quote } from "./checker.js";
import { MAX_INT32, PROC_MOUNTS, SECCOMP_TYPES, SYSCTL_NAME } from "./constants.js";

// Security contexts.

/** Checks a container's securityContext; returns whether it makes the container privileged. */
export function checkSecurityContext(c: Checker, value: unknown, path: string): boolean {
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

export function checkPodSecurityContext(c: Checker, value: unknown, path: string): void {
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

export function checkIds(c: Checker, sc: Obj, path: string): void {
  c.integer(sc.runAsUser, child(path, "runAsUser"), { min: 0, max: MAX_INT32 });
  c.integer(sc.runAsGroup, child(path, "runAsGroup"), { min: 0, max: MAX_INT32 });
}

export function checkSeccomp(c: Checker, value: unknown, path: string): void {
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

export function checkSELinux(c: Checker, value: unknown, path: string): void {
  const options = c.object(value, path);
  if (!options) return;
  for (const name of ["user", "role", "type", "level"]) c.string(options[name], child(path, name));
}
