import { existsSync } from "node:fs";
import { rmdir } from "node:fs/promises";
import { loadAllocation } from "./allocation.js";
import { killShims, stopContainerd } from "./containerd.js";
import { TestEnvError } from "./errors.js";
import { withLock } from "./lock.js";
import { type Logger, silentLogger } from "./log.js";
import { unmountAllUnder } from "./mounts.js";
import { deleteBridge, forgetLeases } from "./network.js";
import { existingLayout } from "./paths.js";
import { removeFile } from "./proc.js";
import { stopRegistry } from "./registry.js";

export interface DownOptions {
  stateDir?: string | undefined;
  log?: Logger | undefined;
}

/**
 * Stops what `up` started (by recorded pid only), kills this environment's shims and their
 * containers, unmounts everything under the state dir and deletes the bridge. Image caches stay.
 */
export async function down(options: DownOptions = {}): Promise<void> {
  if (process.getuid?.() !== 0) throw new TestEnvError("NOT_ROOT", "testenv down needs root");
  const log = options.log ?? silentLogger;
  const layout = existingLayout(options.stateDir);
  if (!existsSync(layout.stateDir)) return;
  await withLock(
    layout.lockFile,
    async () => {
      // env.json goes first: from here on readTestEnv() must report "not up".
      await removeFile(layout.envFile);
      await stopContainerd(layout, log);
      const sandboxIds = await killShims(layout, log);
      await stopRegistry(layout.registries.plain, "plain registry", log);
      await stopRegistry(layout.registries.auth, "auth registry", log);
      await unmountAllUnder(layout.stateDir, log);
      // The /tmp fallback socket dir is empty now; drop it so it does not outlive the state dir.
      if (layout.socketDirIsFallback) await rmdir(layout.socketDir).catch(() => undefined);
      const allocation = await loadAllocation(layout);
      if (allocation) {
        await deleteBridge(allocation.cni.bridge, log);
        await forgetLeases(layout.cni.ipamDir, allocation.cni.network, sandboxIds);
      }
    },
    { log },
  );
}
