import {
  type Clock,
  CommandExitError,
  type CommandRunner,
  type ContainerID,
  ErrorCode,
  type EventRecorder,
  type HandlerRunner,
  NodeletError,
  podObjectReference,
  type SignalOptions,
  systemClock,
  type V1Container,
  type V1ExecAction,
  type V1HTTPGetAction,
  type V1LifecycleHandler,
  type V1Pod,
} from "@nodelet/runtime-api";
import type { Registry } from "prom-client";
import { Aborted, errorText, isPlainHTTPAnswer, raceAbort } from "./errors.js";
import { goQuote, goStringSlice } from "./go-format.js";
import { getFollowingSameHostRedirects } from "./http-get.js";
import {
  buildHookURL,
  DEFAULT_KUBELET_VERSION,
  lifecycleUserAgent,
  podDescription,
  resolveHTTPGetTarget,
} from "./http-target.js";
import { type LifecycleHandlerMetrics, lifecycleHandlerMetrics } from "./metrics.js";
import { fetchTransport, type HTTPTransport, nodeTransport } from "./transport.js";

export interface HandlerRunnerOptions {
  /** Runs exec hooks (with no timeout, as the kubelet does). */
  commandRunner: CommandRunner;
  /** The pod's IPs, first one used, for httpGet hooks without a host (the kubelet asks GetPodStatus). */
  podIPs: (pod: V1Pod) => Promise<readonly string[]> | readonly string[];
  /** For the User-Agent `kube-lifecycle/<major>.<minor>`; default "1.31". */
  kubeletVersion?: string | undefined;
  /**
   * Sends httpGet hooks through this fetch instead of node:http(s). The default skips TLS
   * verification as the kubelet does; a fetch of your own decides that itself.
   */
  fetch?: typeof fetch | undefined;
  /** Times sleep hooks; default the system clock (which takes waits beyond 24.8 days in steps). */
  clock?: Clock | undefined;
  /** Receives the Warning `LifecycleHTTPFallback`. */
  eventRecorder?: EventRecorder | undefined;
  /** Where the kubelet's lifecycle metrics are registered (once per registry). */
  registry?: Registry | undefined;
}

/** Body bytes read and dropped from a hook's response (the kubelet's maxRespBodyLength). */
export const MAX_HOOK_RESPONSE_BODY_BYTES = 10 * 1024;
type HandlerKind = "exec" | "httpGet" | "sleep";

function invalidHandler(reason: string): NodeletError {
  return new NodeletError(ErrorCode.InvalidArgument, `Cannot run handler: invalid handler: ${reason}`, {
    details: { reason },
  });
}

/** Which action the handler holds; exactly one of exec, httpGet and sleep, well-formed. */
function classify(handler: V1LifecycleHandler): HandlerKind {
  if (handler === null || typeof handler !== "object") throw invalidHandler("not an object");
  const set = (["exec", "httpGet", "sleep", "tcpSocket"] as const).filter(
    (k) => handler[k] !== undefined && handler[k] !== null,
  );
  if (set.includes("tcpSocket")) {
    throw invalidHandler("tcpSocket is not supported for lifecycle hooks; use exec, httpGet or sleep");
  }
  if (set.length === 0) throw invalidHandler("none of exec, httpGet or sleep is set");
  if (set.length > 1)
    throw invalidHandler(`only one of exec, httpGet or sleep may be set, got ${set.join(", ")}`);
  const kind = set[0] as HandlerKind;
  const action: unknown = handler[kind];
  if (typeof action !== "object") throw invalidHandler(`${kind} must be an object`);
  if (kind === "exec") {
    const command = (action as V1ExecAction).command;
    if (!Array.isArray(command) || command.length === 0 || command.some((c) => typeof c !== "string")) {
      throw invalidHandler("exec.command must be a non-empty list of strings");
    }
  }
  if (kind === "sleep") {
    const seconds: unknown = (action as { seconds?: unknown }).seconds;
    if (typeof seconds !== "number" || !Number.isSafeInteger(seconds) || seconds < 0) {
      throw invalidHandler(`sleep.seconds must be a non-negative integer, got ${String(seconds)}`);
    }
  }
  return kind;
}

/**
 * The kubelet's lifecycle HandlerRunner (pkg/kubelet/lifecycle/handlers.go): runs a postStart or
 * preStop handler. Exec resolves with the command's output; httpGet and sleep with "". A failure
 * rejects with a NodeletError whose message is the kubelet's event message for the hook.
 */
export function createHandlerRunner(options: HandlerRunnerOptions): HandlerRunner {
  const { commandRunner, podIPs, eventRecorder } = options;
  const userAgent = lifecycleUserAgent(options.kubeletVersion ?? DEFAULT_KUBELET_VERSION);
  const transport: HTTPTransport = options.fetch ? fetchTransport(options.fetch) : nodeTransport();
  const clock = options.clock ?? systemClock;
  const metrics: LifecycleHandlerMetrics | undefined = options.registry
    ? lifecycleHandlerMetrics(options.registry)
    : undefined;

  function hookFailure(
    code: ErrorCode,
    message: string,
    cause: unknown,
    details: Record<string, unknown>,
  ): NodeletError {
    return new NodeletError(code, message, { cause, details });
  }

  async function runExec(
    containerId: ContainerID,
    pod: V1Pod,
    container: V1Container,
    action: V1ExecAction,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const command = action.command as string[];
    try {
      const output = await raceAbort(
        signal?.aborted
          ? Promise.reject(new Aborted(signal))
          : commandRunner.runInContainer(containerId, command, 0),
        signal,
      );
      return output.toString("utf8");
    } catch (err) {
      const aborted = err instanceof Aborted;
      const output =
        err instanceof CommandExitError ? Buffer.concat([err.stdout, err.stderr]) : Buffer.alloc(0);
      const code = aborted ? ErrorCode.Cancelled : err instanceof NodeletError ? err.code : ErrorCode.Unknown;
      const details: Record<string, unknown> = {
        handler: "exec",
        container: container.name,
        pod: podDescription(pod),
      };
      if (err instanceof CommandExitError) details.exitCode = err.exitCode;
      throw hookFailure(
        code,
        `Exec lifecycle hook (${goStringSlice(command)}) for Container ${goQuote(container.name)} in Pod ` +
          `${goQuote(podDescription(pod))} failed - error: ${errorText(err)}, message: ${goQuote(output)}`,
        err,
        details,
      );
    }
  }

  /** One GET with Go's client behaviour: same-host redirects followed (10 at most), status ignored. */
  async function get(
    url: URL,
    headers: ReadonlyArray<readonly [string, string]>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const { response } = await getFollowingSameHostRedirects(transport, url, headers, signal);
    await response.discard(MAX_HOOK_RESPONSE_BODY_BYTES);
  }

  async function runHTTPGet(
    pod: V1Pod,
    container: V1Container,
    action: V1HTTPGetAction,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    let ips: readonly string[] = [];
    if (!action.host) {
      try {
        ips = await podIPs(pod);
      } catch (err) {
        throw NodeletError.from(err, ErrorCode.Unknown);
      }
    }
    const target = resolveHTTPGetTarget(pod, container, action, ips, { userAgent });
    try {
      await get(target.url, target.headers, signal);
    } catch (err) {
      if (target.scheme !== "https" || signal?.aborted || !isPlainHTTPAnswer(err)) throw err;
      // The server speaks plain HTTP: once more over http, without credentials meant for TLS.
      const url = buildHookURL("http", target.hostPort, target.path);
      const headers = target.headers.filter(([name]) => name !== "Authorization");
      try {
        await get(url, headers, signal);
      } catch {
        throw err; // as the kubelet: the HTTPS error is the one reported
      }
      metrics?.httpFallbacks.inc();
      eventRecorder?.event(
        podObjectReference(pod),
        "Warning",
        "LifecycleHTTPFallback",
        `request to HTTPS lifecycle hook ${target.hostPort} got HTTP response, retry with HTTP succeeded`,
      );
    }
  }

  async function runSleep(
    pod: V1Pod,
    container: V1Container,
    seconds: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    try {
      await raceAbort(
        signal?.aborted ? Promise.reject(new Aborted(signal)) : clock.sleep(seconds * 1000, signal),
        signal,
      );
    } catch (err) {
      const prefix =
        `Sleep lifecycle hook (${seconds}) for Container ${goQuote(container.name)} in Pod ` +
        `${goQuote(podDescription(pod))} failed - error: `;
      const details = { handler: "sleep", container: container.name, pod: podDescription(pod) };
      if (signal?.aborted) {
        metrics?.sleepTerminated.inc();
        throw hookFailure(
          ErrorCode.Cancelled,
          `${prefix}container terminated before sleep hook finished`,
          err,
          details,
        );
      }
      throw hookFailure(ErrorCode.Internal, prefix + errorText(err), err, details);
    }
  }

  return {
    async run(
      containerId: ContainerID,
      pod: V1Pod,
      container: V1Container,
      handler: V1LifecycleHandler,
      runOptions: SignalOptions = {},
    ): Promise<string> {
      const signal = runOptions.signal ?? undefined;
      const kind = classify(handler);
      if (kind === "exec") {
        return runExec(containerId, pod, container, handler.exec as V1ExecAction, signal);
      }
      if (kind === "sleep") {
        await runSleep(pod, container, handler.sleep?.seconds as number, signal);
        return "";
      }
      const action = handler.httpGet as V1HTTPGetAction;
      try {
        await runHTTPGet(pod, container, action, signal);
        return "";
      } catch (err) {
        const inner = NodeletError.from(err, ErrorCode.Unknown);
        throw hookFailure(
          inner.code,
          `HTTP lifecycle hook (${action.path ?? ""}) for Container ${goQuote(container.name)} in Pod ` +
            `${goQuote(podDescription(pod))} failed - error: ${inner.message}`,
          inner,
          { ...inner.details, handler: "httpGet", container: container.name, pod: podDescription(pod) },
        );
      }
    },
  };
}
