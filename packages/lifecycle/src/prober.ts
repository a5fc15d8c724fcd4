import {
  type Clock,
  CommandExitError,
  type CommandRunner,
  type ContainerID,
  containerObjectReference,
  ErrorCode,
  type EventRecorder,
  type EventType,
  isNodeletError,
  NodeletError,
  type ProbeResult,
  type SignalOptions,
  systemClock,
  type V1Container,
  type V1HTTPGetAction,
  type V1Pod,
  type V1Probe,
} from "@nodelet/runtime-api";
import type { Registry } from "prom-client";
import { Aborted, abortText, errorText, raceAbort } from "./errors.js";
import { expandCommandOnlyStatic } from "./expansion.js";
import { goQuote } from "./go-format.js";
import { checkGRPCHealth } from "./grpc-health.js";
import { getFollowingSameHostRedirects } from "./http-get.js";
import {
  DEFAULT_KUBELET_VERSION,
  podDescription,
  probeUserAgent,
  resolveContainerPort,
  resolveHTTPGetTarget,
} from "./http-target.js";
import { type ProberMetrics, proberMetrics } from "./metrics.js";
import { dialTCP } from "./tcp-dial.js";
import { nodeTransport } from "./transport.js";

export type ProbeType = "liveness" | "readiness" | "startup";

/** What the prober needs to know of the container beyond its spec. */
export interface ProbeStatus {
  containerId: ContainerID;
}

/** The result of one probe call. */
export interface ProbeOutcome {
  /** Success or Failure (a warning counts as Success, an error as Failure). */
  result: ProbeResult;
  /** What the probe said: the exec output, the HTTP body or failure text, the gRPC message. */
  output: string;
  /**
   * Set when the probe could not be run, even after MAX_PROBE_RETRIES attempts (an exec that could
   * not start, an unresolvable port, no pod IP...). The result is then Failure, and a probe manager
   * discards it as the kubelet's worker does: it counts towards no threshold.
   */
  error?: NodeletError | undefined;
}

export interface Prober {
  /**
   * Probes the container once with `container`'s probe of that type (Success when it has none).
   * Rejects only with a Cancelled NodeletError when `options.signal` aborts first.
   */
  probe(
    probeType: ProbeType,
    pod: V1Pod,
    status: ProbeStatus,
    container: V1Container,
    options?: SignalOptions,
  ): Promise<ProbeOutcome>;
  /** Drops the metric series of one (pod, container, probe type), as the kubelet does when its probe worker exits. */
  forgetMetrics?(probeType: ProbeType, pod: V1Pod, containerName: string): void;
}

export interface ProberOptions {
  /** Runs exec probes (kuberuntime's runs them with ExecSync). */
  commandRunner: CommandRunner;
  /** The pod's IPs, first one used: the host of httpGet and tcpSocket probes without one, and of gRPC probes. */
  podIPs: (pod: V1Pod) => Promise<readonly string[]> | readonly string[];
  /** For the User-Agent `kube-probe/<major>.<minor>`; default "1.31". */
  kubeletVersion?: string | undefined;
  /** Receives Warning `Unhealthy` and `ProbeWarning`. */
  eventRecorder?: EventRecorder | undefined;
  /** Where `prober_probe_total` and `prober_probe_duration_seconds` are registered (once per registry). */
  registry?: Registry | undefined;
  /** Measures probe durations; default the system clock. */
  clock?: Clock | undefined;
}

/** Attempts of a probe that errors, within one call (the kubelet's maxProbeRetries). */
export const MAX_PROBE_RETRIES = 3;
/** Exec output and HTTP body kept for a probe's output (the kubelet's maxReadLength / maxRespBodyLength). */
export const MAX_PROBE_OUTPUT_BYTES = 10 * 1024;

export const PROBE_DEFAULTS = {
  initialDelaySeconds: 0,
  timeoutSeconds: 1,
  periodSeconds: 10,
  successThreshold: 1,
  failureThreshold: 3,
} as const;

/** The probe's field, or its API default when unset or not a positive number (Go's defaulting of 0). */
export function probeSetting(
  spec: V1Probe,
  field: "timeoutSeconds" | "periodSeconds" | "successThreshold" | "failureThreshold",
): number {
  const value = spec[field];
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : PROBE_DEFAULTS[field];
}

const typeNames: Record<ProbeType, string> = {
  liveness: "Liveness",
  readiness: "Readiness",
  startup: "Startup",
};

/** The kubelet's probeType.String(): "Liveness", "Readiness", "Startup" (in events and metric labels). */
export function probeTypeName(probeType: ProbeType): string {
  return typeNames[probeType];
}

export function probeSpecFor(container: V1Container, probeType: ProbeType): V1Probe | undefined {
  switch (probeType) {
    case "liveness":
      return container.livenessProbe;
    case "readiness":
      return container.readinessProbe;
    case "startup":
      return container.startupProbe;
  }
}

/** pkg/probe's Result: what one attempt gave, before the prober maps it to a ProbeResult. */
type AttemptState = "success" | "warning" | "failure" | "unknown";

interface Attempt {
  state: AttemptState;
  output: string;
  error?: unknown;
}

const HEADERS_TIMEOUT = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
const BODY_TIMEOUT = "context deadline exceeded (Client.Timeout or context cancellation while reading body)";

function cancelled(signal: AbortSignal, cause?: unknown): NodeletError {
  return new NodeletError(ErrorCode.Cancelled, `probe cancelled: ${abortText(signal)}`, { cause });
}

function capOutput(output: Buffer): string {
  return output.subarray(0, MAX_PROBE_OUTPUT_BYTES).toString("utf8");
}

/**
 * The kubelet's prober (pkg/kubelet/prober/prober.go with pkg/probe/{exec,http,tcp,grpc}): runs a
 * container's liveness, readiness or startup probe once, retrying errors, and records the
 * `Unhealthy` / `ProbeWarning` events and the prober metrics.
 */
export function createProber(options: ProberOptions): Prober {
  const { commandRunner, podIPs, eventRecorder } = options;
  const clock = options.clock ?? systemClock;
  const userAgent = probeUserAgent(options.kubeletVersion ?? DEFAULT_KUBELET_VERSION);
  const transport = nodeTransport();
  const metrics: ProberMetrics | undefined = options.registry ? proberMetrics(options.registry) : undefined;

  async function firstPodIP(pod: V1Pod): Promise<string> {
    const ips = await podIPs(pod);
    const ip = ips[0] ?? "";
    if (ip === "") {
      throw new NodeletError(ErrorCode.FailedPrecondition, `pod ${goQuote(podDescription(pod))} has no IP`);
    }
    return ip;
  }

  async function runExec(
    spec: V1Probe,
    container: V1Container,
    containerId: ContainerID,
    timeoutSeconds: number,
    signal: AbortSignal | undefined,
  ): Promise<Attempt> {
    const command = expandCommandOnlyStatic(spec.exec?.command ?? [], container.env);
    if (command.length === 0) {
      return { state: "unknown", output: "", error: new Error("exec probe has no command") };
    }
    try {
      const output = await raceAbort(
        commandRunner.runInContainer(containerId, command, timeoutSeconds),
        signal,
      );
      return { state: "success", output: capOutput(output) };
    } catch (err) {
      if (err instanceof Aborted) throw err;
      if (err instanceof CommandExitError) {
        const output = capOutput(Buffer.concat([err.stdout, err.stderr]));
        return { state: err.exitCode === 0 ? "success" : "failure", output };
      }
      // The ExecProbeTimeout behaviour: a timed-out command fails the probe, its message the output.
      if (isNodeletError(err, ErrorCode.CommandTimedOut)) return { state: "failure", output: err.message };
      return { state: "unknown", output: "", error: err };
    }
  }

  async function runHTTP(
    action: V1HTTPGetAction,
    pod: V1Pod,
    container: V1Container,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Attempt> {
    let target: ReturnType<typeof resolveHTTPGetTarget>;
    try {
      const ips = action.host ? [] : await podIPs(pod);
      target = resolveHTTPGetTarget(pod, container, action, ips, { userAgent });
    } catch (err) {
      return { state: "unknown", output: "", error: err };
    }
    // http.Client.Timeout: one deadline for the redirects and the body.
    const deadline = new AbortController();
    let phase: "headers" | "body" = "headers";
    const timer = setTimeout(
      () => deadline.abort(new Error(phase === "headers" ? HEADERS_TIMEOUT : BODY_TIMEOUT)),
      timeoutMs,
    );
    const requestSignal = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
    try {
      let final: Awaited<ReturnType<typeof getFollowingSameHostRedirects>>;
      try {
        final = await getFollowingSameHostRedirects(transport, target.url, target.headers, requestSignal);
      } catch (err) {
        if (signal?.aborted) throw new Aborted(signal);
        // Transport errors and timeouts are failures, with Go's `Get "<url>": <cause>` as the output.
        return { state: "failure", output: NodeletError.from(err).message };
      }
      phase = "body";
      let body: Buffer;
      try {
        ({ body } = await final.response.read(MAX_PROBE_OUTPUT_BYTES));
      } catch (err) {
        if (signal?.aborted) throw new Aborted(signal);
        const text = deadline.signal.aborted ? BODY_TIMEOUT : errorText(err);
        return { state: "failure", output: "", error: new Error(text, { cause: err }) };
      }
      const status = final.response.status;
      const text = body.toString("utf8");
      if (status >= 200 && status < 400) {
        if (status >= 300) {
          return { state: "warning", output: `Probe terminated redirects, Response body: ${text}` };
        }
        return { state: "success", output: text };
      }
      // The kubelet leaves the body out of the failure (kubernetes#99425).
      return { state: "failure", output: `HTTP probe failed with statuscode: ${status}` };
    } finally {
      clearTimeout(timer);
    }
  }

  async function runTCP(
    spec: V1Probe,
    pod: V1Pod,
    container: V1Container,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Attempt> {
    const action = spec.tcpSocket;
    let host: string;
    let port: number;
    try {
      port = resolveContainerPort(action?.port, container, "tcpSocket.port");
      host = action?.host || (await firstPodIP(pod));
    } catch (err) {
      return { state: "unknown", output: "", error: err };
    }
    const dialed = await dialTCP(host, port, timeoutMs, signal);
    return { state: dialed.connected ? "success" : "failure", output: dialed.output };
  }

  async function runGRPC(
    spec: V1Probe,
    pod: V1Pod,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Attempt> {
    const port = spec.grpc?.port;
    let host: string;
    try {
      if (typeof port !== "number" || !Number.isInteger(port) || port <= 0 || port >= 65536) {
        throw new NodeletError(ErrorCode.InvalidArgument, `invalid port number: ${String(port)}`);
      }
      host = await firstPodIP(pod);
    } catch (err) {
      return { state: "unknown", output: "", error: err };
    }
    const checked = await checkGRPCHealth({
      host,
      port,
      service: spec.grpc?.service ?? "",
      timeoutMs,
      userAgent,
      signal,
    });
    return { state: checked.healthy ? "success" : "failure", output: checked.output };
  }

  function runProbe(
    spec: V1Probe,
    pod: V1Pod,
    container: V1Container,
    containerId: ContainerID,
    signal: AbortSignal | undefined,
  ): Promise<Attempt> {
    const timeoutSeconds = probeSetting(spec, "timeoutSeconds");
    const timeoutMs = timeoutSeconds * 1000;
    if (spec.exec) return runExec(spec, container, containerId, timeoutSeconds, signal);
    if (spec.httpGet) return runHTTP(spec.httpGet, pod, container, timeoutMs, signal);
    if (spec.tcpSocket) return runTCP(spec, pod, container, timeoutMs, signal);
    if (spec.grpc) return runGRPC(spec, pod, timeoutMs, signal);
    return Promise.resolve({
      state: "unknown",
      output: "",
      error: new Error(`missing probe handler for ${podDescription(pod)}:${container.name}`),
    });
  }

  function record(
    probeType: ProbeType,
    pod: V1Pod,
    container: V1Container,
    type: EventType,
    reason: string,
    message: string,
  ): void {
    eventRecorder?.event(
      containerObjectReference(pod, container),
      type,
      reason,
      `${probeTypeName(probeType)} ${message}`,
    );
  }

  function labels(probeType: ProbeType, pod: V1Pod, containerName: string) {
    return {
      probe_type: probeTypeName(probeType),
      container: containerName,
      pod: pod.metadata?.name ?? "",
      namespace: pod.metadata?.namespace ?? "",
    };
  }

  function count(
    probeType: ProbeType,
    pod: V1Pod,
    container: V1Container,
    result: "successful" | "failed",
    seconds: number,
  ): void {
    if (!metrics) return;
    const base = labels(probeType, pod, container.name);
    metrics.probeTotal.inc({ ...base, result, pod_uid: pod.metadata?.uid ?? "" });
    if (result === "successful") metrics.probeDuration.observe(base, seconds);
  }

  return {
    async probe(probeType, pod, status, container, probeOptions = {}) {
      const signal = probeOptions.signal ?? undefined;
      if (signal?.aborted) throw cancelled(signal);
      const spec = probeSpecFor(container, probeType);
      if (!spec) return { result: "Success", output: "" };
      const start = clock.now();
      let attempt: Attempt = { state: "unknown", output: "" };
      try {
        for (let i = 0; i < MAX_PROBE_RETRIES; i++) {
          attempt = await runProbe(spec, pod, container, status.containerId, signal);
          if (attempt.error === undefined) break;
        }
      } catch (err) {
        if (signal?.aborted) throw cancelled(signal, err);
        attempt = { state: "unknown", output: "", error: err };
      }
      if (signal?.aborted) throw cancelled(signal);
      const seconds = Math.max(0, clock.now() - start) / 1000;
      if (attempt.error !== undefined) {
        const error = NodeletError.from(attempt.error, ErrorCode.Unknown);
        record(
          probeType,
          pod,
          container,
          "Warning",
          "Unhealthy",
          `probe errored and resulted in ${attempt.state} state: ${error.message}`,
        );
        return { result: "Failure", output: attempt.output, error };
      }
      switch (attempt.state) {
        case "success":
          count(probeType, pod, container, "successful", seconds);
          return { result: "Success", output: attempt.output };
        case "warning":
          record(probeType, pod, container, "Warning", "ProbeWarning", `probe warning: ${attempt.output}`);
          count(probeType, pod, container, "successful", seconds);
          return { result: "Success", output: attempt.output };
        case "failure":
          record(probeType, pod, container, "Warning", "Unhealthy", `probe failed: ${attempt.output}`);
          count(probeType, pod, container, "failed", seconds);
          return { result: "Failure", output: attempt.output };
        default:
          // probe.Unknown without an error: a Failure, without an event.
          count(probeType, pod, container, "failed", seconds);
          return { result: "Failure", output: attempt.output };
      }
    },

    forgetMetrics(probeType, pod, containerName) {
      if (!metrics) return;
      const base = labels(probeType, pod, containerName);
      for (const result of ["successful", "failed", "unknown"]) {
        metrics.probeTotal.remove({ ...base, result, pod_uid: pod.metadata?.uid ?? "" });
      }
      metrics.probeDuration.remove(base);
    },
  };
}
