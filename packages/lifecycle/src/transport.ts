import * as http from "node:http";
import * as https from "node:https";

/** One response to a GET: hooks look at the status and Location only, probes read the body too. */
export interface HTTPResponse {
  status: number;
  location: string | undefined;
  /** Reads and drops at most `limit` bytes of the body (none when it declares more), then closes it. Never rejects. */
  discard(limit: number): Promise<void>;
  /**
   * Reads the body up to `limit` bytes (Go's utilio.ReadAtMost), then closes it; `truncated` when
   * there was more. Rejects when the body breaks off or the request's signal aborts while reading.
   */
  read(limit: number): Promise<{ body: Buffer; truncated: boolean }>;
}

/** One GET, no redirects followed. Rejects only when no response arrived. */
export type HTTPTransport = (
  url: URL,
  headers: ReadonlyArray<readonly [string, string]>,
  signal: AbortSignal | undefined,
) => Promise<HTTPResponse>;

function declaredLength(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/** Up to `limit` bytes of `chunks`; whether more came. */
async function readAtMost(
  chunks: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  const parts: Buffer[] = [];
  let read = 0;
  for await (const chunk of chunks) {
    parts.push(Buffer.from(chunk));
    read += chunk.byteLength;
    if (read > limit) break;
  }
  const body = Buffer.concat(parts);
  return read > limit ? { body: body.subarray(0, limit), truncated: true } : { body, truncated: false };
}

/**
 * node:http / node:https with TLS verification off, as the kubelet's hook and probe clients
 * (InsecureSkipVerify). A fresh connection per request, closed afterwards (keep-alive off, as the
 * kubelet's probe transport).
 */
export function nodeTransport(): HTTPTransport {
  return (url, headers, signal) =>
    new Promise<HTTPResponse>((resolve, reject) => {
      const grouped: Record<string, string[]> = {};
      for (const [name, value] of headers) {
        const key = Object.keys(grouped).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
        const values = grouped[key] ?? [];
        values.push(value);
        grouped[key] = values;
      }
      // One value as a string: Node takes Host only so, and sends repeated names from arrays.
      const outgoing: Record<string, string | string[]> = {};
      for (const [name, values] of Object.entries(grouped)) {
        outgoing[name] = values.length === 1 ? (values[0] as string) : values;
      }
      const options: https.RequestOptions = { method: "GET", headers: outgoing, agent: false };
      if (signal) options.signal = signal;
      const request =
        url.protocol === "https:"
          ? https.request(url, { ...options, rejectUnauthorized: false })
          : http.request(url, options);
      request.on("error", reject);
      request.once("response", (res) => {
        // Errors after the headers (a reset mid-body, an abort) reach read() through the stream,
        // and are ignored by discard().
        res.on("error", () => {});
        request.on("error", () => {});
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location,
          async discard(limit) {
            const length = declaredLength(res.headers["content-length"]);
            try {
              if (length !== undefined && length > limit) return;
              let read = 0;
              for await (const chunk of res) {
                read += (chunk as Buffer).length;
                if (read >= limit) break;
              }
            } catch {
              // The kubelet ignores errors while discarding the body.
            } finally {
              res.destroy();
            }
          },
          async read(limit) {
            try {
              return await readAtMost(res, limit);
            } finally {
              res.destroy();
            }
          },
        });
      });
      request.end();
    });
}

/** The same over a fetch implementation (the global one, undici, or a test double). */
export function fetchTransport(fetchImpl: typeof fetch): HTTPTransport {
  return async (url, headers, signal) => {
    const h = new Headers();
    for (const [name, value] of headers) h.append(name, value);
    const init: RequestInit = { method: "GET", headers: h, redirect: "manual" };
    if (signal) init.signal = signal;
    const res = await fetchImpl(url, init);
    return {
      status: res.status,
      location: res.headers.get("location") ?? undefined,
      async discard(limit) {
        const body = res.body;
        if (!body) return;
        const length = declaredLength(res.headers.get("content-length"));
        if (length !== undefined && length > limit) {
          await body.cancel().catch(() => {});
          return;
        }
        const reader = body.getReader();
        try {
          let read = 0;
          while (read < limit) {
            const { done, value } = await reader.read();
            if (done) break;
            read += value.byteLength;
          }
        } catch {
          // Ignored, as above.
        } finally {
          await reader.cancel().catch(() => {});
        }
      },
      async read(limit) {
        const body = res.body;
        if (!body) return { body: Buffer.alloc(0), truncated: false };
        const reader = body.getReader();
        const chunks: AsyncIterable<Uint8Array> = {
          async *[Symbol.asyncIterator]() {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) return;
              yield value;
            }
          },
        };
        try {
          return await readAtMost(chunks, limit);
        } finally {
          await reader.cancel().catch(() => {});
        }
      },
    };
  };
}
