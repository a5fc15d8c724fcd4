// What the manager's parts share: the kubeGenericRuntimeManager struct's fields
// (pkg/kubelet/kuberuntime/kuberuntime_manager.go), passed to the plain functions of
// container-start.ts, container-kill.ts and sandbox.ts instead of methods on one large class.
import {
  type Clock,
  type ContainerType,
  containerObjectReference,
  type EventType,
  type HandlerRunner,
  type ImageManager,
  type ImageManagerService,
  podObjectReference,
  type RuntimeService,
  type V1Container,
  type V1Pod,
} from "@nodelet/runtime-api";
import type { StartMetrics } from "./metrics.js";
import type { Mounter } from "./mounter.js";
import type { KubeGenericRuntimeManagerOptions } from "./setup.js";
import type { StatusMemo } from "./status-memo.js";

export interface RuntimeContext {
  readonly runtimeService: RuntimeService;
  readonly imageService: ImageManagerService;
  readonly runtimeName: string;
  /** The options, keyring resolved. */
  readonly options: KubeGenericRuntimeManagerOptions;
  readonly clock: Clock;
  readonly podLogsDirectory: string;
  readonly cgroupV1: boolean;
  readonly mounter: Mounter;
  readonly imageManager: ImageManager;
  readonly handlerRunner: HandlerRunner;
  readonly metrics: StartMetrics | undefined;
  /** Statuses readPodStatus need not read again (status-memo.ts). */
  readonly statusMemo: StatusMemo;
}

/**
 * An event about the pod, or about one of its containers (field path by its list in the spec, or
 * by `containerType` when the caller knows it).
 */
export function recordEvent(
  ctx: RuntimeContext,
  pod: V1Pod,
  container: V1Container | undefined,
  type: EventType,
  reason: string,
  text: string,
  containerType?: ContainerType,
): void {
  const object = container
    ? containerObjectReference(pod, container, containerType)
    : podObjectReference(pod);
  ctx.options.eventRecorder?.event(object, type, reason, text);
}
