// The agent's side of /exec, /attach and /portForward: which pod and running container a request
// names (the kubelet's GetExec/GetAttach/GetPortForward in pkg/kubelet/kubelet_pods.go), then the
// runtime's streaming URL from kuberuntime. The endpoints themselves live in @nodelet/streaming.

import type { KubeGenericRuntimeManager } from "@nodelet/kuberuntime";
import {
  ErrorCode,
  findContainerStatusByName,
  type Logger,
  NodeletError,
  type V1Pod,
} from "@nodelet/runtime-api";
import { createStreamingServer, type StreamingServer, type StreamingTargets } from "@nodelet/streaming";

type StreamingRuntime = Pick<
  KubeGenericRuntimeManager,
  "getPodStatus" | "getExec" | "getAttach" | "getPortForward"
>;

export interface AgentStreamingOptions {
  /** The pods the agent runs. */
  pods: () => V1Pod[];
  runtime: StreamingRuntime;
  logger: Logger;
  /** The kubelet's streamingConnectionIdleTimeout (default 4 h). */
  idleTimeoutMs?: number | undefined;
}

function findPod(pods: () => V1Pod[], namespace: string, name: string): V1Pod {
  const pod = pods().find(
    (p) => p.metadata.name === name && (p.metadata.namespace ?? "default") === namespace,
  );
  if (pod === undefined) {
    throw new NodeletError(ErrorCode.NotFound, `pod "${namespace}/${name}" not found`, {
      details: { namespace, pod: name },
    });
  }
  return pod;
}

export function createAgentStreamingTargets(options: AgentStreamingOptions): StreamingTargets {
  const { pods, runtime } = options;
  async function runningContainer(namespace: string, podName: string, container: string) {
    const pod = findPod(pods, namespace, podName);
    const status = await runtime.getPodStatus(pod.metadata.uid ?? "", podName, namespace);
    const found = findContainerStatusByName(status, container);
    if (found === undefined || found.state !== "running") {
      throw new NodeletError(
        ErrorCode.NotFound,
        `container "${container}" not found in pod "${namespace}/${podName}"${found ? ` (it is ${found.state})` : ""}`,
        { details: { namespace, pod: podName, container } },
      );
    }
    return found.id;
  }
  return {
    async exec(target, command, streams) {
      return runtime.getExec(
        await runningContainer(target.namespace, target.pod, target.container),
        command,
        streams,
      );
    },
    async attach(target, streams) {
      return runtime.getAttach(
        await runningContainer(target.namespace, target.pod, target.container),
        streams,
      );
    },
    async portForward(target, ports) {
      const pod = findPod(pods, target.namespace, target.pod);
      return runtime.getPortForward(target.pod, target.namespace, pod.metadata.uid ?? "", ports);
    },
  };
}

/** The streaming endpoints over the agent's pods and runtime. */
export function createAgentStreaming(options: AgentStreamingOptions): StreamingServer {
  return createStreamingServer({
    targets: createAgentStreamingTargets(options),
    idleTimeoutMs: options.idleTimeoutMs,
    onError: (err, what) => options.logger.warn({ err }, `${what} failed`),
  });
}
