import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import { chmod, mkdir, stat, writeFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { Mount, MountPropagation } from "@nodelet/cri-api";
import {
  ErrorCode,
  errorMessage,
  NodeletError,
  parseQuantity,
  type V1Container,
  type V1HostPathVolumeSource,
  type V1Pod,
  type V1Volume,
  type V1VolumeMount,
} from "@nodelet/runtime-api";
import { DEFAULT_TERMINATION_MESSAGE_PATH } from "./labels.js";
import type { Mounter } from "./mounter.js";
import { mountSafeSubPath, SubPathError, subPathTarget } from "./subpath.js";

/** Where the kubelet's emptyDir plugin keeps its directories, under the pod directory. */
const EMPTY_DIR_PLUGIN_DIR = "kubernetes.io~empty-dir";

/**
 * Refuses a name that, used as one path segment, would leave the directory it is joined to:
 * empty, `.`, `..`, or anything with a `/` or a NUL.
 */
export function assertSafePathSegment(value: string, what: string, code: ErrorCode): void {
  if (value === "" || value === "." || value === ".." || value.includes("/") || value.includes("\0")) {
    throw new NodeletError(
      code,
      `${what} ${JSON.stringify(value)} cannot be used in a path: it must be non-empty, not "." or "..", and contain no "/"`,
      { details: { [what]: value } },
    );
  }
}

/** `<rootDir>/pods/<uid>`, the kubelet's pod directory. */
export function podDirectory(rootDir: string, podUid: string): string {
  assertSafePathSegment(podUid, "pod uid", ErrorCode.InvalidPod);
  return join(rootDir, "pods", podUid);
}

export interface MountOptions {
  /** The kubelet root directory (/var/lib/kubelet). */
  rootDir: string;
  /** The pod's directory, `<rootDir>/pods/<uid>` (see podDirectory). */
  podDir: string;
  /** Makes the subPath bind mounts and the Memory emptyDir tmpfs. */
  mounter: Mounter;
  /** The node's allocatable memory: the largest a Memory emptyDir may be. */
  nodeAllocatableMemoryBytes: number;
}

/**
 * The container's volume mounts, as the kubelet's makeMounts for the two volume types nodelet
 * supports. emptyDir volumes are created under `<podDir>/volumes/kubernetes.io~empty-dir/<name>`
 * with mode 0777 (a tmpfs for medium Memory); hostPath volumes are created or checked according to
 * their type; a subPath is opened inside the volume without following symlinks and bind-mounted
 * (see subpath.ts). Every failure is a CreateContainerConfigError naming the container and the volume.
 */
export async function makeMounts(
  pod: V1Pod,
  container: V1Container,
  options: MountOptions,
): Promise<Mount[]> {
  const fail = (message: string, volume?: string) => configError(container, message, volume);
  assertSafePathSegment(pod.metadata.uid ?? "", "pod uid", ErrorCode.CreateContainerConfigError);
  const within = relative(resolve(options.rootDir), resolve(options.podDir));
  if (within === "" || within.startsWith("..") || isAbsolute(within)) {
    throw fail(`pod directory ${options.podDir} is not inside the root directory ${options.rootDir}`);
  }

  const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v] as const));
  const prepared = new Map<string, Promise<string>>();
  const mounts: Mount[] = [];
  for (const [index, volumeMount] of (container.volumeMounts ?? []).entries()) {
    const volume = volumes.get(volumeMount.name);
    if (volume === undefined) {
      throw fail(`cannot find volume "${volumeMount.name}" to mount into container "${container.name}"`);
    }
    let setUp = prepared.get(volume.name);
    if (setUp === undefined) {
      setUp = setUpVolume(pod, volume, options, fail);
      prepared.set(volume.name, setUp);
    }
    let hostPath = await setUp;
    if (volumeMount.subPath) {
      const target = subPathTarget(options.podDir, volume.name, container.name, index);
      hostPath = await prepareSubPath(hostPath, target, volumeMount, options.mounter, fail);
    }
    mounts.push(
      Mount.fromPartial({
        containerPath: volumeMount.mountPath,
        hostPath,
        readonly: volumeMount.readOnly ?? false,
        selinuxRelabel: false,
        propagation: translateMountPropagation(volumeMount, container, fail),
      }),
    );
  }
  return mounts;
}

type Fail = (message: string, volume?: string) => NodeletError;

async function setUpVolume(pod: V1Pod, volume: V1Volume, options: MountOptions, fail: Fail): Promise<string> {
  if (volume.emptyDir !== undefined) {
    assertSafePathSegment(volume.name, "volume name", ErrorCode.CreateContainerConfigError);
    const pluginDir = join(options.podDir, "volumes", EMPTY_DIR_PLUGIN_DIR);
    const dir = join(pluginDir, volume.name);
    try {
      await mkdir(pluginDir, { recursive: true, mode: 0o750 });
      await mkdir(dir, { recursive: true, mode: 0o777 });
      if (volume.emptyDir.medium === "Memory") await mountMemoryEmptyDir(pod, volume, dir, options);
      // mkdir's mode passes through the umask; the emptyDir plugin insists on 0777.
      await chmod(dir, 0o777);
    } catch (error) {
      throw fail(`cannot set up emptyDir directory ${dir}: ${errorMessage(error)}`, volume.name);
    }
    return dir;
  }
  if (volume.hostPath !== undefined) {
    await checkHostPath(volume.hostPath, volume.name, fail);
    return volume.hostPath.path;
  }
  throw fail("has no supported source: nodelet supports emptyDir and hostPath volumes", volume.name);
}

// pkg/volume/hostpath checkTypeInternal: the *OrCreate types create what is missing (directories
// 0755, files 0644, parents of a file not created); the others only check.
async function checkHostPath(source: V1HostPathVolumeSource, volume: string, fail: Fail): Promise<void> {
  const path = source.path;
  if (!isAbsolute(path) || path.split("/").includes("..")) {
    throw fail(`hostPath ${JSON.stringify(path)} must be an absolute path without ".."`, volume);
  }
  const type = source.type ?? "";
  if (type === "") return;
  const failed = (what: string) => fail(`hostPath type check failed: ${path} is not ${what}`, volume);
  let info = await statOrUndefined(path, volume, fail);
  switch (type) {
    case "DirectoryOrCreate":
      if (info === undefined) {
        await mkdir(path, { recursive: true, mode: 0o755 }).catch((error: Error) => {
          throw fail(`cannot create hostPath directory ${path}: ${error.message}`, volume);
        });
        return;
      }
      if (!info.isDirectory()) throw failed("a directory");
      return;
    case "Directory":
      if (info === undefined || !info.isDirectory()) throw failed("a directory");
      return;
    case "FileOrCreate":
      if (info === undefined) {
        await writeFile(path, "", { flag: "a", mode: 0o644 }).catch((error: Error) => {
          throw fail(`cannot create hostPath file ${path}: ${error.message}`, volume);
        });
        info = await statOrUndefined(path, volume, fail);
      }
      if (info === undefined || !isFileType(info)) throw failed("a file");
      return;
    case "File":
      if (info === undefined || !isFileType(info)) throw failed("a file");
      return;
    case "Socket":
      if (info === undefined || !info.isSocket()) throw failed("a socket file");
      return;
    case "CharDevice":
      if (info === undefined || !info.isCharacterDevice()) throw failed("a character device");
      return;
    case "BlockDevice":
      if (info === undefined || !info.isBlockDevice()) throw failed("a block device");
      return;
    default:
      throw fail(`${JSON.stringify(type)} is an invalid hostPath type`, volume);
  }
}

// hostutil.GetFileType reports "File" for anything that is not a directory, socket or device.
function isFileType(info: Stats): boolean {
  return !info.isDirectory() && !info.isSocket() && !info.isCharacterDevice() && !info.isBlockDevice();
}

async function statOrUndefined(path: string, volume: string, fail: Fail): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fail(`cannot inspect hostPath ${path}: ${(error as Error).message}`, volume);
  }
}

// The kubelet refuses absolute subPaths and ".." components, creates a missing subPath with the
// volume's mode, and bind-mounts what it opened without following symlinks (see subpath.ts).
async function prepareSubPath(
  volumePath: string,
  target: string,
  volumeMount: V1VolumeMount,
  mounter: Mounter,
  fail: Fail,
): Promise<string> {
  const subPath = volumeMount.subPath as string;
  try {
    return await mountSafeSubPath({ volumePath, subPath, target, mounter });
  } catch (error) {
    if (error instanceof SubPathError)
      throw fail(`failed to prepare subPath: ${error.message}`, volumeMount.name);
    throw fail(
      `failed to prepare subPath ${JSON.stringify(subPath)}: ${errorMessage(error)}`,
      volumeMount.name,
    );
  }
}

// emptyDir medium Memory: a tmpfs (mode 0777 set by the caller), sized as the kubelet's
// calculateEmptyDirMemorySize: the smallest of the node's allocatable memory, the pod's memory
// limit (the sum of its containers' limits) and the volume's sizeLimit. Mounted once per pod.
async function mountMemoryEmptyDir(pod: V1Pod, volume: V1Volume, dir: string, options: MountOptions) {
  const mounted = await options.mounter.mountPointsUnder(dir);
  if (mounted.some((m) => m.path === dir && m.fsType === "tmpfs")) return;
  let size = options.nodeAllocatableMemoryBytes;
  let podLimit = 0;
  for (const c of pod.spec.containers) {
    const limit = c.resources?.limits?.memory;
    if (limit !== undefined) podLimit += parseQuantity(limit);
  }
  if (podLimit > 0) size = Math.min(size, podLimit);
  const sizeLimit = volume.emptyDir?.sizeLimit;
  if (sizeLimit !== undefined && parseQuantity(sizeLimit) > 0)
    size = Math.min(size, parseQuantity(sizeLimit));
  await options.mounter.mountTmpfs(dir, size > 0 ? Math.ceil(size) : undefined);
}

function translateMountPropagation(
  volumeMount: V1VolumeMount,
  container: V1Container,
  fail: Fail,
): MountPropagation {
  switch (volumeMount.mountPropagation) {
    case undefined:
    case "None":
      return MountPropagation.PROPAGATION_PRIVATE;
    case "HostToContainer":
      return MountPropagation.PROPAGATION_HOST_TO_CONTAINER;
    case "Bidirectional":
      if (container.securityContext?.privileged !== true) {
        throw fail(
          "Bidirectional mount propagation is available only to privileged containers",
          volumeMount.name,
        );
      }
      return MountPropagation.PROPAGATION_BIDIRECTIONAL;
    default:
      throw fail(
        `invalid MountPropagation mode: ${JSON.stringify(volumeMount.mountPropagation)}`,
        volumeMount.name,
      );
  }
}

export interface TerminationMessageFileOptions {
  /** 8 hex digits naming the file; random by default. */
  randomHex?: () => string;
}

/**
 * Creates the termination-message file `<podDir>/containers/<name>/<8 hex>` with mode 0666 (set
 * after creation, whatever the umask) and returns its bind mount at `path` (default
 * /dev/termination-log). Each container instance gets a new file. A failure rejects with
 * CreateContainerConfigError; generateContainerConfig logs it and goes on without the mount, as the
 * kubelet does.
 */
export async function makeTerminationMessageFile(
  podDir: string,
  containerName: string,
  path: string,
  options: TerminationMessageFileOptions = {},
): Promise<Mount> {
  assertSafePathSegment(containerName, "container name", ErrorCode.CreateContainerConfigError);
  const id = (options.randomHex ?? (() => randomBytes(4).toString("hex")))();
  assertSafePathSegment(id, "termination message file name", ErrorCode.CreateContainerConfigError);
  const dir = join(podDir, "containers", containerName);
  const file = join(dir, id);
  try {
    await mkdir(dir, { recursive: true, mode: 0o750 });
    await writeFile(file, "", { mode: 0o666 });
    await chmod(file, 0o666);
  } catch (error) {
    throw new NodeletError(
      ErrorCode.CreateContainerConfigError,
      `container "${containerName}": terminationMessagePath: cannot create ${file}: ${(error as Error).message}`,
      { cause: error, details: { container: containerName, field: "terminationMessagePath" } },
    );
  }
  return Mount.fromPartial({
    hostPath: file,
    containerPath: path || DEFAULT_TERMINATION_MESSAGE_PATH,
    readonly: false,
    selinuxRelabel: false,
  });
}

function configError(container: V1Container, message: string, volume?: string): NodeletError {
  const where = volume === undefined ? "" : `volume "${volume}": `;
  return new NodeletError(
    ErrorCode.CreateContainerConfigError,
    `container "${container.name}": ${where}${message}`,
    {
      details: {
        container: container.name,
        field: "volumeMounts",
        ...(volume === undefined ? {} : { volume }),
      },
    },
  );
}
