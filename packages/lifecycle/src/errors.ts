// Turning what a transport or a runner throws into the text of the kubelet's messages.

/** The error's message, then its causes' (Node's fetch says only "fetch failed" at the top). */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const text = (current instanceof Error ? current.message : String(current)).trim();
    if (text !== "" && !parts.some((p) => p.includes(text))) parts.push(text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ") || "unknown error";
}

function* chain(err: unknown): Generator<unknown> {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    yield current;
    current = current instanceof Error ? current.cause : undefined;
  }
}

/** The first Node error code (ECONNREFUSED, EPROTO, ERR_SSL_...) in the cause chain. */
export function errnoCode(err: unknown): string | undefined {
  for (const e of chain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z]+$|^ERR_/.test(code)) return code;
  }
  return undefined;
}

const plainHTTPCodes = new Set(["ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_PACKET_LENGTH_TOO_LONG"]);
const plainHTTPMessage =
  /server gave HTTP response to HTTPS client|wrong version number|packet length too long/i;

/**
 * Whether an HTTPS request failed because the server answered in plain HTTP: Go's "server gave
 * HTTP response to HTTPS client", which OpenSSL reports as a TLS record with the wrong version
 * (EPROTO / ERR_SSL_WRONG_VERSION_NUMBER) when the server sends "HTTP/1.1 400" to a ClientHello.
 */
export function isPlainHTTPAnswer(err: unknown): boolean {
  for (const e of chain(err)) {
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
  return (code !== undefined ? goDialTexts[code] : undefined) ?? errorText(err);
}
