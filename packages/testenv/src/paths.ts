import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { lstat, mkdir, realpath } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TestEnvError } from "./errors.js";

export const STATE_DIR_ENV = "NODELET_TESTENV_DIR";

// sockaddr_un.sun_path is 108 bytes including the NUL; keep a margin for containerd's ".ttrpc" suffix.
const MAX_SOCKET_PATH = 100;

export interface RegistryPaths {
  dir: string;
  configFile: string;
  dataDir: string;
  htpasswdFile: string;
  logFile: string;
  pidFile: string;
}

/** Every path an environment uses, all derived from its state directory. */
export interface Layout {
  stateDir: string;
  /** sha256 of the state dir path, hex; the source of every per-environment name. */
  hash: string;
  /** First 8 hex chars of `hash`. */
  id: string;
  envFile: string;
  allocationFile: string;
  lockFile: string;
  logDir: string;
  runDir: string;
  socketDir: string;
  /** True when the state dir is too deep for unix sockets and they live under /tmp instead. */
  socketDirIsFallback: boolean;
  criSocket: string;
  ttrpcSocket: string;
  containerd: {
    dir: string;
    configFile: string;
    root: string;
    state: string;
    temp: string;
    optDir: string;
    certsDir: string;
    runcRoot: string;
    crunRoot: string;
    logFile: string;
    pidFile: string;
  };
  cni: { confDir: string; ipamDir: string };
  registries: { plain: RegistryPaths; auth: RegistryPaths };
  images: { dir: string; ociLayout: string; workDir: string; policyFile: string };
}

export function findRepoRoot(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Explicit option, then $NODELET_TESTENV_DIR, then `<repoRoot>/.state/testenv`. The repo root is looked up
 * from this module's own location first, so the answer does not depend on the caller's cwd.
 */
export function resolveStateDir(override?: string): string {
  if (override) return resolve(override);
  const fromEnv = process.env[STATE_DIR_ENV];
  if (fromEnv) return resolve(fromEnv);
  const here = dirname(fileURLToPath(import.meta.url));
  const root = findRepoRoot(here) ?? findRepoRoot(process.cwd());
  if (!root) {
    throw new TestEnvError(
      "NO_REPO_ROOT",
      `cannot find pnpm-workspace.yaml above ${here} or ${process.cwd()}; set ${STATE_DIR_ENV}`,
    );
  }
  return join(root, ".state", "testenv");
}

function registryPaths(stateDir: string, kind: "plain" | "auth"): RegistryPaths {
  const dir = join(stateDir, "registry", kind);
  return {
    dir,
    configFile: join(dir, "config.yml"),
    dataDir: join(dir, "data"),
    htpasswdFile: join(dir, "htpasswd"),
    logFile: join(stateDir, "logs", `registry-${kind}.log`),
    pidFile: join(stateDir, "run", `registry-${kind}.pid`),
  };
}

/** Pure mapping from an absolute, symlink-free state dir to the environment's paths. */
export function layoutFor(stateDir: string): Layout {
  const hash = createHash("sha256").update(stateDir).digest("hex");
  const id = hash.slice(0, 8);
  const runDir = join(stateDir, "run");
  const longest = join(runDir, "containerd.sock.ttrpc");
  const socketDirIsFallback = Buffer.byteLength(longest) > MAX_SOCKET_PATH;
  const socketDir = socketDirIsFallback ? `/tmp/nodelet-${id}` : runDir;
  const cdDir = join(stateDir, "containerd");
  return {
    stateDir,
    hash,
    id,
    envFile: join(stateDir, "env.json"),
    allocationFile: join(stateDir, "allocation.json"),
    lockFile: join(stateDir, "lock"),
    logDir: join(stateDir, "logs"),
    runDir,
    socketDir,
    socketDirIsFallback,
    criSocket: join(socketDir, "containerd.sock"),
    ttrpcSocket: join(socketDir, "containerd.sock.ttrpc"),
    containerd: {
      dir: cdDir,
      configFile: join(cdDir, "config.toml"),
      root: join(cdDir, "root"),
      state: join(cdDir, "state"),
      temp: join(cdDir, "tmp"),
      optDir: join(cdDir, "opt"),
      certsDir: join(cdDir, "certs.d"),
      runcRoot: join(cdDir, "runc"),
      crunRoot: join(cdDir, "crun"),
      logFile: join(stateDir, "logs", "containerd.log"),
      pidFile: join(runDir, "containerd.pid"),
    },
    cni: { confDir: join(stateDir, "cni", "net.d"), ipamDir: join(stateDir, "cni", "ipam") },
    registries: { plain: registryPaths(stateDir, "plain"), auth: registryPaths(stateDir, "auth") },
    images: {
      dir: join(stateDir, "images"),
      ociLayout: join(stateDir, "images", "oci"),
      workDir: join(stateDir, "images", "work"),
      policyFile: join(stateDir, "images", "policy.json"),
    },
  };
}

/** Layout for reading: resolves symlinks when the state dir exists, creates nothing. */
export function existingLayout(override?: string): Layout {
  const dir = resolveStateDir(override);
  return layoutFor(existsSync(dir) ? realpathSync(dir) : dir);
}

/** Layout for `up`: creates the directories first so the hash is taken over the real path. */
export async function createLayout(override?: string): Promise<Layout> {
  const dir = resolveStateDir(override);
  await mkdir(dir, { recursive: true });
  const layout = layoutFor(await realpath(dir));
  if (layout.socketDirIsFallback) await ensurePrivateDir(layout.socketDir);
  const dirs = [
    layout.logDir,
    layout.runDir,
    layout.containerd.root,
    layout.containerd.state,
    layout.containerd.temp,
    layout.containerd.optDir,
    layout.containerd.certsDir,
    layout.containerd.runcRoot,
    layout.containerd.crunRoot,
    layout.cni.confDir,
    layout.cni.ipamDir,
    layout.registries.plain.dataDir,
    layout.registries.auth.dataDir,
    layout.images.workDir,
  ];
  for (const d of dirs) await mkdir(d, { recursive: true, mode: 0o755 });
  return layout;
}

// A shared /tmp lets anyone pre-create our socket dir; refuse one that is not ours.
async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  if (!info.isDirectory() || info.uid !== process.getuid?.() || (info.mode & 0o022) !== 0) {
    throw new TestEnvError("INVALID_STATE", `${dir} is not a private directory owned by this user`);
  }
}
