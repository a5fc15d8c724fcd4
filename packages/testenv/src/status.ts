import { existsSync } from "node:fs";
import { loadAllocation } from "./allocation.js";
import { containerdPid, criReadiness } from "./containerd.js";
import { existingLayout } from "./paths.js";
import { readPid } from "./proc.js";
import { runningRegistry } from "./registry.js";
import { registryInstances } from "./up.js";

export interface ComponentStatus {
  name: "containerd" | "registry-plain" | "registry-auth" | "env.json";
  running: boolean;
  pid?: number;
  detail: string;
}

export interface StatusReport {
  stateDir: string;
  criEndpoint: string;
  allUp: boolean;
  components: ComponentStatus[];
}

export interface StatusOptions {
  stateDir?: string | undefined;
}

function component(
  name: ComponentStatus["name"],
  pid: number | undefined,
  running: boolean,
  detail: string,
): ComponentStatus {
  return pid === undefined ? { name, running, detail } : { name, running, pid, detail };
}

/** Checks each component by pid file plus a live probe (CRI Status, registry /v2/). */
export async function status(options: StatusOptions = {}): Promise<StatusReport> {
  const layout = existingLayout(options.stateDir);
  const components: ComponentStatus[] = [];

  const cdPid = await containerdPid(layout);
  const notReady = cdPid === undefined ? "not running" : await criReadiness(layout);
  components.push(
    component("containerd", cdPid, notReady === undefined, notReady ?? `CRI ready on ${layout.criSocket}`),
  );

  const allocation = await loadAllocation(layout);
  if (allocation) {
    for (const instance of Object.values(registryInstances(layout, allocation))) {
      const pid = await runningRegistry(instance);
      const recorded = pid ?? (await readPid(instance.paths.pidFile));
      components.push(
        component(
          `registry-${instance.kind}`,
          recorded,
          pid !== undefined,
          pid !== undefined ? `answering on 127.0.0.1:${instance.port}` : "not running or not answering",
        ),
      );
    }
  } else {
    components.push(component("registry-plain", undefined, false, "never started"));
    components.push(component("registry-auth", undefined, false, "never started"));
  }

  const hasEnv = existsSync(layout.envFile);
  components.push(component("env.json", undefined, hasEnv, hasEnv ? layout.envFile : "missing"));

  return {
    stateDir: layout.stateDir,
    criEndpoint: `unix://${layout.criSocket}`,
    allUp: components.every((c) => c.running),
    components,
  };
}
