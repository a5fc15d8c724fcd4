import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { TestEnvError } from "./errors.js";
import { commandExists, run, runChecked, toolEnv } from "./exec.js";
import type { Logger } from "./log.js";

/** Debian packages the environment needs; CI machines start without them. */
export const DEBIAN_PACKAGES = [
  "containerd",
  "runc",
  "crun",
  "containernetworking-plugins",
  "docker-registry",
  "apache2-utils",
  "busybox-static",
  "gcc",
  "libc6-dev",
  "skopeo",
  "umoci",
  "iproute2",
  "iptables",
  // The agent's dashboard tests drive Debian's Chromium with playwright-core (no browser download).
  "chromium",
  // Self-signed certificates for the TLS tests of the streaming clients.
  "openssl",
] as const;

const REQUIRED_COMMANDS = [
  "containerd",
  "ctr",
  "containerd-shim-runc-v2",
  "runc",
  "crun",
  "docker-registry",
  "htpasswd",
  "gcc",
  "skopeo",
  "umoci",
  "ip",
  "iptables",
  "mount",
  "umount",
  "chromium",
  "openssl",
];

const REQUIRED_FILES = [
  "/usr/lib/cni/bridge",
  "/usr/lib/cni/host-local",
  "/usr/lib/cni/portmap",
  "/usr/lib/cni/loopback",
  "/bin/busybox",
];

async function missingPackages(): Promise<string[]> {
  // One dpkg-query for all packages; unknown ones are reported on stderr and simply absent from stdout.
  const result = await run("dpkg-query", [
    "-W",
    "-f",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} syntax
    "${Package}\\t${db:Status-Abbrev}\\n",
    ...DEBIAN_PACKAGES,
  ]);
  const installed = new Set(
    result.stdout
      .split("\n")
      .map((line) => line.split("\t"))
      .filter(([, status]) => status?.startsWith("ii"))
      .map(([name]) => name),
  );
  return DEBIAN_PACKAGES.filter((p) => !installed.has(p));
}

async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const cmd of REQUIRED_COMMANDS) if (!(await commandExists(cmd))) missing.push(cmd);
  for (const file of REQUIRED_FILES) if (!existsSync(file)) missing.push(file);
  return missing;
}

// Package maintainer scripts would start the distro's own docker-registry service on :5000; a
// policy-rc.d that answers 101 ("action forbidden") keeps them from starting anything.
const POLICY_RC_D = "/usr/sbin/policy-rc.d";

async function aptInstall(packages: string[], log: Logger): Promise<void> {
  const env = toolEnv({ DEBIAN_FRONTEND: "noninteractive" });
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy) await writeFile(POLICY_RC_D, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  try {
    log.info("apt-get update");
    await runChecked("apt-get", ["update"], { env, timeoutMs: 10 * 60_000 });
    log.info(`apt-get install -y ${packages.join(" ")}`);
    await runChecked("apt-get", ["install", "-y", ...packages], { env, timeoutMs: 20 * 60_000 });
  } finally {
    if (ownPolicy) await rm(POLICY_RC_D, { force: true });
  }
}

/** Installs whatever is missing; does not touch apt at all when everything is present. */
export async function ensurePackages(log: Logger): Promise<void> {
  const hasDpkg = await commandExists("dpkg-query");
  const missing = hasDpkg ? await missingPackages() : [];
  if (missing.length > 0) await aptInstall(missing, log);
  const stillMissing = await missingTools();
  if (stillMissing.length > 0) {
    throw new TestEnvError(
      "PACKAGES_MISSING",
      `missing after install: ${stillMissing.join(", ")} (needs Debian packages: ${DEBIAN_PACKAGES.join(" ")})`,
    );
  }
}
