import * as http from "node:http";
import * as https from "node:https";

/** One response of a hook request: the status and Location are all the runner looks at. */
export interface HookResponse {
  status: number;
  location: string | undefined;
  /** Reads and drops at most `limit` bytes of the body (none when it declares more), then closes it. */
  discard(limit: number): Promise<void>;
}

/** One GET, no redirects followed. Rejects only when no response arrived. */
export type HookTransport = (
  url: URL,
  headers: ReadonlyArray<readonly [string, string]>,
  signal: AbortSignal | undefined,
) => Promise<HookResponse>;

function declaredLength(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/**
 * node:http / node:https with TLS verification off, as the kubelet's hook client
 * (InsecureSkipVerify). A fresh connection per request: hooks are rare, and nothing lingers.
 */
export function nodeTransport(): HookTransport {
  return (url, headers, signal) =>
    new Promise<HookResponse>((resolve, reject) => {
      const grouped: Record<string, string[]> = {};
      for (const [name, value] of headers) {
        const key = Object.keys(grouped).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
        const values = grouped[key] ?? [];
        values.push(value);
        grouped[key] = values;
      }
      const options: https.RequestOptions = { method: "GET", headers: grouped, agent: false };
      if (signal) options.signal = signal;
      const request =
        url.protocol === "https:"
          ? https.request(url, { ...options, rejectUnauthorized: false })
          : http.request(url, options);
      request.on("error", reject);
      request.once("response", (res) => {
        // Errors after the headers (a reset mid-body, an abort) do not fail the hook.
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
        });
      });
      request.end();
    });
}

/** The same over a fetch implementation (the global one, undici, or a test double). */
export function fetchTransport(fetchImpl: typeof fetch): HookTransport {
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
    };
  };
}
