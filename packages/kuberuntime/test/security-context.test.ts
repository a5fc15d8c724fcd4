import { NamespaceMode, type NamespaceOption, SecurityProfile_ProfileType } from "@nodelet/cri-api";
import {
  ErrorCode,
  isNodeletError,
  type V1Container,
  type V1Pod,
  type V1PodSecurityContext,
  type V1SeccompProfile,
  type V1SecurityContext,
} from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import {
  type ContainerSecurityOptions,
  convertToLinuxContainerSecurityContext,
  determineEffectiveSecurityContext,
  verifyRunAsNonRoot,
} from "../src/security-context.js";

const namespaceOptions: NamespaceOption = {
  network: NamespaceMode.POD,
  pid: NamespaceMode.CONTAINER,
  ipc: NamespaceMode.POD,
  targetId: "",
  usernsOptions: undefined,
};
const options: ContainerSecurityOptions = {
  seccompDefault: false,
  seccompProfileRoot: "/var/lib/kubelet/seccomp",
  namespaceOptions,
};

function setup(
  podSc?: V1PodSecurityContext,
  containerSc?: V1SecurityContext,
): { pod: V1Pod; container: V1Container } {
  const container: V1Container = { name: "app", ...(containerSc ? { securityContext: containerSc } : {}) };
  const pod: V1Pod = {
    metadata: { name: "web", namespace: "prod", uid: "u1" },
    spec: { containers: [container], ...(podSc ? { securityContext: podSc } : {}) },
  };
  return { pod, container };
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

describe("determineEffectiveSecurityContext", () => {
  it("takes the pod's user fields and lets the container override them", () => {
    const { pod, container } = setup(
      {
        runAsUser: 1000,
        runAsGroup: 2000,
        runAsNonRoot: true,
        fsGroup: 3000,
        seLinuxOptions: { level: "s0" },
      },
      { runAsUser: 1001, privileged: false },
    );
    expect(determineEffectiveSecurityContext(pod, container)).toEqual({
      runAsUser: 1001,
      runAsGroup: 2000,
      runAsNonRoot: true,
      seLinuxOptions: { level: "s0" },
      privileged: false,
    });
  });

  it("is empty with neither", () => {
    const { pod, container } = setup();
    expect(determineEffectiveSecurityContext(pod, container)).toEqual({});
  });
});

describe("convertToLinuxContainerSecurityContext", () => {
  it("converts capabilities, flags, users and groups", () => {
    const { pod, container } = setup(
      { runAsGroup: 2000, fsGroup: 3000, supplementalGroups: [4000, 4001] },
      {
        runAsUser: 1000,
        privileged: false,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { add: ["NET_ADMIN", "CAP_SYS_TIME"], drop: ["ALL"] },
      },
    );
    const sc = convertToLinuxContainerSecurityContext(pod, container, options);
    expect(sc.capabilities).toEqual({
      addCapabilities: ["NET_ADMIN", "CAP_SYS_TIME"],
      dropCapabilities: ["ALL"],
      addAmbientCapabilities: [],
    });
    expect(sc.privileged).toBe(false);
    expect(sc.readonlyRootfs).toBe(true);
    expect(sc.noNewPrivs).toBe(true);
    expect(sc.runAsUser).toEqual({ value: 1000n });
    expect(sc.runAsGroup).toEqual({ value: 2000n });
    expect(sc.runAsUsername).toBe("");
    expect(sc.supplementalGroups).toEqual([3000n, 4000n, 4001n]);
    expect(sc.namespaceOptions).toEqual(namespaceOptions);
  });

  it("leaves noNewPrivs off unless allowPrivilegeEscalation is explicitly false", () => {
    for (const allow of [undefined, true]) {
      const { pod, container } = setup(
        undefined,
        allow === undefined ? {} : { allowPrivilegeEscalation: allow },
      );
      expect(convertToLinuxContainerSecurityContext(pod, container, options).noNewPrivs).toBe(false);
    }
  });

  it("refuses allowPrivilegeEscalation false with privileged or CAP_SYS_ADMIN", () => {
    for (const sc of [
      { allowPrivilegeEscalation: false, privileged: true },
      { allowPrivilegeEscalation: false, capabilities: { add: ["CAP_SYS_ADMIN"] } },
      { allowPrivilegeEscalation: false, capabilities: { add: ["SYS_ADMIN"] } },
    ]) {
      const { pod, container } = setup(undefined, sc);
      const error = thrown(() => convertToLinuxContainerSecurityContext(pod, container, options));
      expect(isNodeletError(error, ErrorCode.CreateContainerConfigError)).toBe(true);
      expect(error.message).toMatch(/container "app".*allowPrivilegeEscalation/);
    }
  });

  it("uses the image user when the pod sets none", () => {
    const { pod, container } = setup();
    expect(
      convertToLinuxContainerSecurityContext(pod, container, { ...options, imageUser: { uid: 101n } })
        .runAsUser,
    ).toEqual({ value: 101n });
    const named = convertToLinuxContainerSecurityContext(pod, container, {
      ...options,
      imageUser: { username: "nginx" },
    });
    expect(named.runAsUser).toBeUndefined();
    expect(named.runAsUsername).toBe("nginx");
    expect(convertToLinuxContainerSecurityContext(pod, container, options).runAsUser).toEqual({ value: 0n });
  });

  it("sends the default masked and read-only paths, privileged or not, unless /proc is Unmasked", () => {
    const expectedMasked = [
      "/proc/asound",
      "/proc/acpi",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/proc/sched_debug",
      "/proc/scsi",
      "/sys/firmware",
      "/sys/devices/virtual/powercap",
    ];
    const expectedReadonly = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
    for (const privileged of [false, true]) {
      const { pod, container } = setup(undefined, { privileged });
      const sc = convertToLinuxContainerSecurityContext(pod, container, options);
      expect(sc.maskedPaths).toEqual(expectedMasked);
      expect(sc.readonlyPaths).toEqual(expectedReadonly);
    }
    const { pod, container } = setup(undefined, { procMount: "Unmasked" });
    const sc = convertToLinuxContainerSecurityContext(pod, container, options);
    expect(sc.maskedPaths).toEqual([]);
    expect(sc.readonlyPaths).toEqual([]);
  });

  describe("seccomp precedence", () => {
    const runtimeDefault: V1SeccompProfile = { type: "RuntimeDefault" };
    const unconfined: V1SeccompProfile = { type: "Unconfined" };
    const local: V1SeccompProfile = { type: "Localhost", localhostProfile: "profiles/audit.json" };
    const RD = { profileType: SecurityProfile_ProfileType.RuntimeDefault, localhostRef: "" };
    const UN = { profileType: SecurityProfile_ProfileType.Unconfined, localhostRef: "" };
    const LH = {
      profileType: SecurityProfile_ProfileType.Localhost,
      localhostRef: "/var/lib/kubelet/seccomp/profiles/audit.json",
    };
    it.each([
      ["nothing, seccompDefault off", undefined, undefined, false, UN],
      ["nothing, seccompDefault on", undefined, undefined, true, RD],
      ["pod RuntimeDefault", runtimeDefault, undefined, false, RD],
      ["pod Unconfined beats seccompDefault", unconfined, undefined, true, UN],
      ["container beats pod", runtimeDefault, unconfined, true, UN],
      ["container Localhost", unconfined, local, false, LH],
      ["pod Localhost", local, undefined, false, LH],
    ])("%s", (_name, podProfile, containerProfile, seccompDefault, expected) => {
      const { pod, container } = setup(
        podProfile ? { seccompProfile: podProfile } : undefined,
        containerProfile ? { seccompProfile: containerProfile } : undefined,
      );
      expect(
        convertToLinuxContainerSecurityContext(pod, container, { ...options, seccompDefault }).seccomp,
      ).toEqual(expected);
    });

    it("refuses Localhost without a profile name, or one that climbs out of the root", () => {
      for (const profile of [
        { type: "Localhost" as const },
        { type: "Localhost" as const, localhostProfile: "../x" },
      ]) {
        const { pod, container } = setup(undefined, { seccompProfile: profile });
        const error = thrown(() => convertToLinuxContainerSecurityContext(pod, container, options));
        expect(isNodeletError(error, ErrorCode.CreateContainerConfigError)).toBe(true);
      }
      const { pod, container } = setup({ seccompProfile: { type: "Localhost" } });
      expect(thrown(() => convertToLinuxContainerSecurityContext(pod, container, options)).message).toMatch(
        /localhostProfile must be set if seccompProfile type is Localhost\./,
      );
    });
  });
});

describe("verifyRunAsNonRoot", () => {
  const desc = 'pod: "web_prod(u1)", container: app';

  it("passes when runAsNonRoot is unset or false, whatever the user", () => {
    expect(() => verifyRunAsNonRoot(setup().pod, setup().container, undefined)).not.toThrow();
    const { pod, container } = setup({ runAsNonRoot: false, runAsUser: 0 });
    expect(() => verifyRunAsNonRoot(pod, container, { uid: 0 })).not.toThrow();
  });

  it("refuses runAsUser 0", () => {
    const { pod, container } = setup({ runAsNonRoot: true }, { runAsUser: 0 });
    const error = thrown(() => verifyRunAsNonRoot(pod, container, { uid: 1000 }));
    expect(isNodeletError(error, ErrorCode.CreateContainerConfigError)).toBe(true);
    expect(error.message).toBe(`container's runAsUser breaks non-root policy (${desc})`);
  });

  it("trusts a non-zero runAsUser over the image", () => {
    const { pod, container } = setup({ runAsNonRoot: true, runAsUser: 1000 });
    expect(() => verifyRunAsNonRoot(pod, container, { uid: 0 })).not.toThrow();
  });

  it("refuses an image that runs as root, including one with no user", () => {
    const { pod, container } = setup(undefined, { runAsNonRoot: true });
    for (const user of [{ uid: 0 }, { uid: 0n }, {}, undefined]) {
      expect(thrown(() => verifyRunAsNonRoot(pod, container, user)).message).toBe(
        `container has runAsNonRoot and image will run as root (${desc})`,
      );
    }
  });

  it("refuses an image user it cannot check", () => {
    const { pod, container } = setup(undefined, { runAsNonRoot: true });
    expect(thrown(() => verifyRunAsNonRoot(pod, container, { username: "nginx" })).message).toBe(
      `container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root (${desc})`,
    );
    expect(thrown(() => verifyRunAsNonRoot(pod, container, { uid: 2n ** 31n })).message).toMatch(
      /^container has runAsNonRoot and image has an invalid user id \(2147483648\)/,
    );
  });

  it("accepts a non-root image uid", () => {
    const { pod, container } = setup(undefined, { runAsNonRoot: true });
    expect(() => verifyRunAsNonRoot(pod, container, { uid: 65532 })).not.toThrow();
    expect(() => verifyRunAsNonRoot(pod, container, { uid: 101n, username: "nginx" })).not.toThrow();
  });
});
