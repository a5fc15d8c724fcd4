import { readFile } from "node:fs/promises";
import { errorMessage, TestEnvError } from "./errors.js";
import { existingLayout } from "./paths.js";
import { isRunning } from "./proc.js";

/** What `up` started, as recorded in `<stateDir>/env.json`. */
export interface TestEnv {
  stateDir: string;
  /** CRI endpoint as the kubelet spells it: `unix:///abs/path/containerd.sock`. */
  criEndpoint: string;
  /** The same socket as a plain path. */
  criSocket: string;
  /** Directory holding the sockets: `<stateDir>/run`, or `/tmp/nodelet-<id>` when that path is too long. */
  socketDir: string;
  containerdPid: number;
  containerdLog: string;
  /** `host:port` of the two registries on loopback. */
  registries: { plain: string; auth: string };
  /** Basic-auth credentials of the `auth` registry. */
  auth: { username: string; password: string };
  images: {
    pause: string;
    busybox: string;
    busyboxLatest: string;
    /** busybox:1.36 in the auth registry (same content as `busybox`); pulling needs `auth`. */
    authBusybox: string;
    /** 10 distinct small images in the plain registry, `bench/img-N:1`. */
    bench: string[];
  };
  cni: { network: string; bridge: string; subnet: string };
  streamingPort: number;
  snapshotter: "overlayfs" | "native";
  /** CRI runtime handlers (RuntimeClass handlers) configured besides the default. */
  runtimeHandlers: string[];
}

export const NOT_UP_MESSAGE = "testenv is not up: run `pnpm testenv up`";

export interface ReadOptions {
  stateDir?: string | undefined;
}

/**
 * Reads env.json. Throws NOT_UP when it is missing or its containerd is gone, so tests that need the
 * environment fail loudly instead of being skipped.
 */
export async function readTestEnv(options: ReadOptions = {}): Promise<TestEnv> {
  const layout = existingLayout(options.stateDir);
  let text: string;
  try {
    text = await readFile(layout.envFile, "utf8");
  } catch {
    throw new TestEnvError("NOT_UP", `${NOT_UP_MESSAGE} (no ${layout.envFile})`);
  }
  let env: TestEnv;
  try {
    env = JSON.parse(text) as TestEnv;
  } catch (error) {
    throw new TestEnvError(
      "NOT_UP",
      `${NOT_UP_MESSAGE} (${layout.envFile} is unreadable: ${errorMessage(error)})`,
    );
  }
  if (!(await isRunning(env.containerdPid, layout.containerd.configFile))) {
    throw new TestEnvError(
      "NOT_UP",
      `${NOT_UP_MESSAGE} (containerd pid ${env.containerdPid} is not running)`,
    );
  }
  return env;
}
