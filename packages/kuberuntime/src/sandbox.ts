// Pod sandboxes: creation with its metrics, the config for a pod, the port-forward lookup.
// Follows pkg/kubelet/kuberuntime/kuberuntime_sandbox.go (createPodSandbox,
// generatePodSandboxConfig, GetPortForward).
import { mkdir } from "node:fs/promises";
import type { PodSandboxConfig } from "@nodelet/cri-api";
import { ErrorCode, NodeletError, type V1Pod } from "@nodelet/runtime-api";
import type { RuntimeContext } from "./runtime-context.js";
import { readPodStatus } from "./runtime-status.js";
import { generatePodSandboxConfig, type SandboxConfigOptions } from "./sandbox-config.js";

export function sandboxConfigFor(ctx: RuntimeContext, pod: V1Pod, attempt: number): PodSandboxConfig {
  return generatePodSandboxConfig(pod, attempt, {
    podLogsDir: ctx.podLogsDirectory,
    seccompDefault: ctx.options.seccompDefault ?? false,
    ...(ctx.options.nodeName ? { nodeName: ctx.options.nodeName } : {}),
    ...dnsOptions(ctx),
  });
}

/** The kubelet's clusterDNS, clusterDomain and resolvConf, as the sandbox config reads them. */
function dnsOptions(ctx: RuntimeContext): Partial<SandboxConfigOptions> {
  const o = ctx.options;
  return {
    ...(o.clusterDNS === undefined ? {} : { clusterDNS: o.clusterDNS }),
    ...(o.clusterDomain === undefined ? {} : { clusterDomain: o.clusterDomain }),
    ...(o.resolvConf === undefined ? {} : { hostResolvConf: o.resolvConf }),
  };
}

/**
 * Creates the pod's log directory, then RunPodSandbox with the pod's runtime handler; returns its
 * id and the config it was made with, which the pod's containers are then created with.
 */
export async function createPodSandbox(
  ctx: RuntimeContext,
  pod: V1Pod,
  attempt: number,
): Promise<{ id: string; config: PodSandboxConfig }> {
  const config = sandboxConfigFor(ctx, pod, attempt);
  await mkdir(config.logDirectory, { recursive: true, mode: 0o755 });
  const resolver = ctx.options.runtimeClassResolver;
  const handler = resolver
    ? await resolver.lookupRuntimeHandler(pod.spec.runtimeClassName)
    : (pod.spec.runtimeClassName ?? "");
  const stop = ctx.metrics?.runPodSandboxDuration.startTimer({ runtime_handler: handler });
  try {
    return { id: await ctx.runtimeService.runPodSandbox(config, handler), config };
  } catch (err) {
    ctx.metrics?.runPodSandboxErrors.inc({ runtime_handler: handler });
    throw err;
  } finally {
    stop?.();
  }
}

/** The streaming URL for port-forwarding into the pod's newest sandbox. */
export async function getPortForward(
  ctx: RuntimeContext,
  podName: string,
  podNamespace: string,
  podUid: string,
  ports: readonly number[],
): Promise<URL> {
  const status = await readPodStatus(
    ctx.runtimeService,
    ctx.runtimeName,
    ctx.clock,
    podUid,
    podName,
    podNamespace,
    ctx.statusMemo,
  );
  const newest = status.sandboxStatuses[0];
  if (!newest) {
    throw new NodeletError(
      ErrorCode.NotFound,
      `failed to find sandboxID for pod ${podName}_${podNamespace}(${podUid})`,
    );
  }
  const res = await ctx.runtimeService.portForward({ podSandboxId: newest.id, port: [...ports] });
  return new URL(res.url);
}
