import { connect } from "node:net";
import { Aborted, goDialErrorText } from "./errors.js";
import { joinHostPort } from "./http-target.js";

/** What the kubelet's tcp prober reports: connected, or Go's dial error text. */
export interface DialOutcome {
  connected: boolean;
  /** "" when connected; else `dial tcp <host:port>: <reason>` (e.g. `connect: connection refused`). */
  output: string;
}

/**
 * The kubelet's tcpprobe.DoTCPProbe: opens a TCP connection to host:port within `timeoutMs` and
 * closes it at once. Rejects only with Aborted when `signal` aborts first.
 */
export function dialTCP(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal | undefined,
): Promise<DialOutcome> {
  const addr = joinHostPort(host, port);
  if (signal?.aborted) return Promise.reject(new Aborted(signal));
  return new Promise<DialOutcome>((resolve, reject) => {
    const socket = connect({ host, port });
    let settled = false;
    const finish = (outcome: DialOutcome | Aborted) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      if (outcome instanceof Aborted) reject(outcome);
      else resolve(outcome);
    };
    const onAbort = () => finish(new Aborted(signal as AbortSignal));
    const timer = setTimeout(
      () => finish({ connected: false, output: `dial tcp ${addr}: i/o timeout` }),
      timeoutMs,
    );
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => finish({ connected: true, output: "" }));
    socket.on("error", (err) =>
      finish({ connected: false, output: `dial tcp ${addr}: ${goDialErrorText(err)}` }),
    );
  });
}
