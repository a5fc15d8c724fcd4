// The agent's side of /containerLogs: which pod and container instance (the kubelet's
// validateContainerLogStatus in pkg/kubelet/kubelet_pods.go), then the runtime's getContainerLogs.

import { type KubeGenericRuntimeManager, logContainerId } from "@nodelet/kuberuntime";
import { createLogManager, type LogManager, type LogRuntimeService } from "@nodelet/logs";
import { type Clock, ErrorCode, type Logger, NodeletError, type V1Pod } from "@nodelet/runtime-api";
import type { Registry } from "prom-client";
import type { NodeletConfig } from "./config.js";
import {
  type ContainerLogsRoute,
  type ContainerLogsSource,
  createContainerLogsRoute,
} from "./container-logs-route.js";

export interface AgentLogs {
  /** The log manager, rotating already (stop() it with the agent); kuberuntime's logManager. */
  manager: LogManager;
  /** The /containerLogs route over the agent's pods and runtime. */
  route(pods: () => V1Pod[], runtime: AgentLogsSourceOptions["runtime"]): ContainerLogsRoute;
}

/** The agent's logs: the log manager with the config's containerLog* fields, started, and the route. */
export function createAgentLogs(options: {
  config: Pick<
    NodeletConfig,
    | "containerLogMaxSize"
    | "containerLogMaxFiles"
    | "containerLogMaxWorkers"
    | "containerLogMonitorIntervalMs"
    | "containerLogsDir"
  >;
  runtimeService: LogRuntimeService;
  clock: Clock;
  logger: Logger;
  registry: Registry;
}): AgentLogs {
  const { config } = options;
  const manager = createLogManager({
    runtimeService: options.runtimeService,
    maxSizeBytes: config.containerLogMaxSize,
    maxFiles: config.containerLogMaxFiles,
    maxWorkers: config.containerLogMaxWorkers,
    monitorIntervalMs: config.containerLogMonitorIntervalMs,
    legacyLogDirectory: config.containerLogsDir,
    clock: options.clock,
    logger: options.logger,
    registry: options.registry,
  });
  manager.start();
  return {
    manager,
    route: (pods, runtime) => createContainerLogsRoute(createAgentLogsSource({ pods, runtime })),
  };
}

export interface AgentLogsSourceOptions {
  /** The pods the agent runs. */
  pods: () => V1Pod[];
  runtime: Pick<KubeGenericRuntimeManager, "getPodStatus" | "getContainerLogs">;
}

export function createAgentLogsSource(options: AgentLogsSourceOptions): ContainerLogsSource {
  return {
    async open(namespace, podName, containerName, logOptions) {
      const pod = options
        .pods()
        .find((p) => p.metadata.name === podName && (p.metadata.namespace ?? "default") === namespace);
      if (pod === undefined) {
        throw new NodeletError(ErrorCode.NotFound, `pod "${namespace}/${podName}" not found`, {
          details: { namespace, pod: podName },
        });
      }
      const spec = pod.spec;
      const names = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c) => c.name);
      if (!names.includes(containerName)) {
        throw new NodeletError(
          ErrorCode.NotFound,
          `container "${containerName}" not found in pod "${namespace}/${podName}" (it has ${names.join(", ")})`,
          { details: { namespace, pod: podName, container: containerName } },
        );
      }
      const status = await options.runtime.getPodStatus(pod.metadata.uid ?? "", podName, namespace);
      const containerId = logContainerId(status, containerName, logOptions.previous === true, pod);
      return (out, signal) =>
        options.runtime.getContainerLogs(pod, containerId, logOptions, out, out, { signal });
    },
  };
}
