// What a killed pod leaves mounted on the host: its subPath bind mounts
// (<podDir>/volume-subpaths/...) and its Memory emptyDir tmpfs mounts. The kubelet's volume
// manager unmounts them once the pod's containers are gone (CleanSubPaths, emptyDir TearDown).
import { errorMessage } from "@nodelet/runtime-api";
import { unmountAllUnder } from "./mounter.js";
import type { RuntimeContext } from "./runtime-context.js";
import { podDirectory } from "./volumes.js";

/**
 * Unmounts every mount below the pod's directory. Failures are logged, not thrown: the pod is
 * already stopped, and the next killPod of the same UID tries again.
 */
export async function unmountPodVolumes(ctx: RuntimeContext, podUid: string): Promise<void> {
  let podDir: string;
  try {
    podDir = podDirectory(ctx.options.rootDirectory, podUid);
  } catch {
    return; // a UID unusable in a path never had a directory (makeMounts refuses it)
  }
  try {
    await unmountAllUnder(ctx.mounter, podDir);
  } catch (error) {
    ctx.options.logger?.warn(
      { podUid, podDir, err: errorMessage(error) },
      "cannot unmount the pod's subPath or Memory emptyDir mounts",
    );
  }
}
