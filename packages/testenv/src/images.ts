import { chmod, copyFile, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage, TestEnvError } from "./errors.js";
import { runChecked } from "./exec.js";
import type { Logger } from "./log.js";
import type { Layout } from "./paths.js";
import { PAUSE_C } from "./pause-source.js";
import { type RegistryInstance, registryAddress, remoteDigest } from "./registry.js";

/** Bump when the content of the built images changes, so existing caches are rebuilt. */
export const IMAGE_RECIPE = 1;
export const BENCH_IMAGE_COUNT = 10;

const IMAGE_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const BUSYBOX_APPLETS = [
  "sh",
  "ash",
  "sleep",
  "echo",
  "cat",
  "id",
  "true",
  "false",
  "ls",
  "seq",
  "nc",
  "httpd",
  "wget",
  "env",
  "hostname",
  "mkdir",
  "touch",
  "printf",
  "kill",
  "ps",
  "date",
  "head",
  "tail",
  "wc",
  "grep",
  "test",
  "[",
  "yes",
  "uname",
  "ip",
  "rm",
  "cp",
  "mv",
  "ln",
  "pwd",
  "sed",
  "tr",
  "cut",
  "sort",
  "uniq",
  "stat",
  "chmod",
  "tee",
  "xargs",
  "find",
  "dd",
  "timeout",
  "whoami",
  "du",
  "df",
  "free",
  "nslookup",
  "ping",
  "ifconfig",
  "md5sum",
  "sha256sum",
  "base64",
  "mount",
  "umount",
  "top",
  "usleep",
  "nproc",
  "dirname",
  "basename",
];

export function layoutTags(): string[] {
  return ["pause", "busybox", ...Array.from({ length: BENCH_IMAGE_COUNT }, (_, i) => `bench-${i}`)];
}

/** layout tag -> manifest digest, read from the OCI layout's index.json. */
export async function layoutDigests(ociLayout: string): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  try {
    const index = JSON.parse(await readFile(join(ociLayout, "index.json"), "utf8")) as {
      manifests?: Array<{ digest: string; annotations?: Record<string, string> }>;
    };
    for (const m of index.manifests ?? []) {
      const tag = m.annotations?.["org.opencontainers.image.ref.name"];
      if (tag) digests.set(tag, m.digest);
    }
  } catch {
    // no layout yet
  }
  return digests;
}

async function umoci(args: string[]): Promise<void> {
  await runChecked("umoci", args);
}

/** unpack -> edit rootfs -> repack, in a throwaway bundle dir. */
async function editImage(
  ref: string,
  bundle: string,
  edit: (rootfs: string) => Promise<void>,
): Promise<void> {
  await rm(bundle, { recursive: true, force: true });
  await umoci(["unpack", "--rootless", "--image", ref, bundle]);
  await edit(join(bundle, "rootfs"));
  await umoci(["repack", "--image", ref, bundle]);
  await rm(bundle, { recursive: true, force: true });
}

async function buildPause(oci: string, work: string): Promise<void> {
  const src = join(work, "pause.c");
  const bin = join(work, "pause");
  await writeFile(src, PAUSE_C);
  await runChecked("gcc", ["-static", "-Os", "-s", "-o", bin, src]);
  const ref = `${oci}:pause`;
  await umoci(["new", "--image", ref]);
  await editImage(ref, join(work, "pause-bundle"), async (rootfs) => {
    await copyFile(bin, join(rootfs, "pause"));
    await chmod(join(rootfs, "pause"), 0o755);
  });
  await umoci(["config", "--image", ref, "--config.entrypoint", "/pause", "--config.env", IMAGE_PATH_ENV]);
}

async function availableApplets(): Promise<Set<string>> {
  const result = await runChecked("/bin/busybox", ["--list"]);
  return new Set(result.stdout.split("\n").filter(Boolean));
}

async function populateBusybox(rootfs: string): Promise<void> {
  for (const dir of [
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "etc",
    "root",
    "var",
    "home",
    "proc",
    "sys",
    "dev",
  ]) {
    await mkdir(join(rootfs, dir), { recursive: true, mode: 0o755 });
  }
  await mkdir(join(rootfs, "tmp"), { recursive: true });
  await chmod(join(rootfs, "tmp"), 0o1777);
  await chmod(join(rootfs, "root"), 0o700);
  await copyFile("/bin/busybox", join(rootfs, "bin", "busybox"));
  await chmod(join(rootfs, "bin", "busybox"), 0o755);
  const applets = await availableApplets();
  for (const applet of BUSYBOX_APPLETS) {
    if (applets.has(applet)) await symlink("busybox", join(rootfs, "bin", applet));
  }
  // Scripts with `#!/usr/bin/env sh` are common.
  await symlink("/bin/busybox", join(rootfs, "usr", "bin", "env"));
  await writeFile(
    join(rootfs, "etc", "passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  );
  await writeFile(join(rootfs, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
}

async function buildBusybox(oci: string, work: string): Promise<void> {
  const ref = `${oci}:busybox`;
  await umoci(["new", "--image", ref]);
  await editImage(ref, join(work, "busybox-bundle"), populateBusybox);
  await umoci(["config", "--image", ref, "--config.cmd", "sh", "--config.env", IMAGE_PATH_ENV]);
}

/** busybox plus one small layer with a distinct file, so every bench image has its own digest. */
async function buildBench(oci: string, work: string, i: number): Promise<void> {
  const tag = `bench-${i}`;
  await umoci(["tag", "--image", `${oci}:busybox`, tag]);
  await editImage(`${oci}:${tag}`, join(work, `${tag}-bundle`), async (rootfs) => {
    await mkdir(join(rootfs, "bench"), { recursive: true });
    await writeFile(join(rootfs, "bench", "id"), `nodelet bench image ${i}\n`);
  });
}

/**
 * Builds the OCI layout with every test image unless it is already complete. A partial layout
 * (interrupted build) is discarded, because bench images derive from busybox.
 */
export async function ensureImageLayout(layout: Layout, log: Logger): Promise<Map<string, string>> {
  const oci = ociLayoutDir(layout);
  let digests = await layoutDigests(oci);
  if (layoutTags().every((t) => digests.has(t))) return digests;
  log.info("building test images (pause, busybox, bench/img-0..9)");
  const work = layout.images.workDir;
  try {
    await rm(oci, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    await umoci(["init", "--layout", oci]);
    await buildPause(oci, work);
    await buildBusybox(oci, work);
    for (let i = 0; i < BENCH_IMAGE_COUNT; i++) await buildBench(oci, work, i);
    await umoci(["gc", "--layout", oci]);
  } catch (error) {
    throw new TestEnvError("IMAGE_BUILD_FAILED", `building test images failed: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  digests = await layoutDigests(oci);
  return digests;
}

export function ociLayoutDir(layout: Layout): string {
  return `${layout.images.ociLayout}-v${IMAGE_RECIPE}`;
}

export interface PushTarget {
  registry: RegistryInstance;
  repo: string;
  tag: string;
  layoutTag: string;
}

export function imageRef(target: PushTarget): string {
  return `${registryAddress(target.registry)}/${target.repo}:${target.tag}`;
}

async function ensurePolicy(file: string): Promise<void> {
  // Our own signature policy, so skopeo does not depend on /etc/containers/policy.json existing.
  await writeFile(file, `${JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] })}\n`);
}

/** Pushes each target whose registry tag is missing or points at a different digest. */
export async function pushImages(
  layout: Layout,
  digests: ReadonlyMap<string, string>,
  targets: readonly PushTarget[],
  log: Logger,
): Promise<void> {
  const oci = ociLayoutDir(layout);
  await ensurePolicy(layout.images.policyFile);
  for (const target of targets) {
    const want = digests.get(target.layoutTag);
    const have = await remoteDigest(target.registry, target.repo, target.tag);
    if (want !== undefined && have === want) continue;
    log.info(`pushing ${imageRef(target)}`);
    const creds = target.registry.credentials;
    await runChecked("skopeo", [
      "--policy",
      layout.images.policyFile,
      "copy",
      "--quiet",
      "--dest-tls-verify=false",
      ...(creds ? ["--dest-creds", `${creds.username}:${creds.password}`] : []),
      `oci:${oci}:${target.layoutTag}`,
      `docker://${imageRef(target)}`,
    ]);
  }
}
