// Turning what a transport or a runner throws into the text of the kubelet's messages.

import { errnoCode, errorChain, errorChainMessage } from "@nodelet/runtime-api";

// The error's message and its causes' (errorText), and the first Node error code in the cause
// chain (errnoCode), come from runtime-api.
export { errnoCode, errorChainMessage as errorText } from "@nodelet/runtime-api";

const plainHTTPCodes = new Set(["ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_PACKET_LENGTH_TOO_LONG"]);
const plainHTTPMessage =
  /server gave HTTP response to HTTPS client|wrong version number|packet length too long/i;

/**
 * Whether an HTTPS request failed because the server answered in plain HTTP: Go's "server gave
 * HTTP response to HTTPS client", which OpenSSL reports as a TLS record with the wrong version
 * (EPROTO / ERR_SSL_WRONG_VERSION_NUMBER) when the server sends "HTTP/1.1 400" to a ClientHello.
 */
export function isPlainHTTPAnswer(err: unknown): boolean {
  for (const e of errorChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && plainHTTPCodes.has(code)) return true;
    const message = e instanceof Error ? e.message : typeof e === "string" ? e : "";
    if (plainHTTPMessage.test(message)) return true;
  }
  return false;
}

export function abortText(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.message !== "") return reason.message;
  if (reason !== undefined && !(reason instanceof Error)) return String(reason);
  return "This operation was aborted";
}

/** Rejected by raceAbort when the signal fires first. */
export class Aborted extends Error {
  constructor(signal: AbortSignal) {
    super(abortText(signal), { cause: signal.reason });
    this.name = "Aborted";
  }
}

/** Settles like `promise`, or rejects with Aborted as soon as `signal` fires. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(new Aborted(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(new Aborted(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

// What Go's net package says for the errno values a dial meets.
const goDialTexts: Record<string, string> = {
  ECONNREFUSED: "connect: connection refused",
  ECONNRESET: "connect: connection reset by peer",
  EHOSTUNREACH: "connect: no route to host",
  ENETUNREACH: "connect: network is unreachable",
  EADDRNOTAVAIL: "connect: cannot assign requested address",
  ETIMEDOUT: "i/o timeout",
};

/** The tail of Go's `dial tcp <addr>: <tail>` for a failed connect; Node's text when Go's is not known. */
export function goDialErrorText(err: unknown): string {
  const code = errnoCode(err);
  return (code !== undefined ? goDialTexts[code] : undefined) ?? errorChainMessage(err);
}
