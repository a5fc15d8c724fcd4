// The manifest URL's safety rules: what the logs may show of it (never a password or a query
// string's values, which often carry tokens), and redirects that may not go from https to http.
import { ErrorCode, NodeletError } from "@nodelet/runtime-api";

/** The kubelet's Go client follows at most 10 redirects. */
export const MAX_REDIRECTS = 10;

/** The URL as logs and messages show it: user info and query values replaced by `***`. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "<unparsable URL>";
  }
  if (url.username !== "" || url.password !== "") {
    url.username = "***";
    url.password = "";
  }
  const keys = [...url.searchParams.keys()];
  if (keys.length > 0) url.search = keys.map((k) => `${encodeURIComponent(k)}=***`).join("&");
  return url.toString();
}

/**
 * fetch() that follows redirects itself: at most MAX_REDIRECTS, and never from https to plain
 * http (that would send the request, and expose the answer, unencrypted). A refused redirect is
 * NodeletError(InvalidPod) naming the redacted URLs.
 */
export async function fetchWithoutDowngrade(
  fetchFn: typeof globalThis.fetch,
  url: string,
  init: RequestInit,
): Promise<Response> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const response = await fetchFn(current, { ...init, redirect: "manual" });
    const location = response.headers.get("location");
    if (response.status < 300 || response.status > 399 || location === null) return response;
    await response.body?.cancel().catch(() => undefined);
    const next = new URL(location, current);
    if (hop + 1 > MAX_REDIRECTS) {
      throw new NodeletError(
        ErrorCode.InvalidPod,
        `${redactUrl(url)} redirected more than ${MAX_REDIRECTS} times`,
      );
    }
    if (new URL(current).protocol === "https:" && next.protocol !== "https:") {
      throw new NodeletError(
        ErrorCode.InvalidPod,
        `${redactUrl(url)} redirected from https to ${redactUrl(next.toString())}; nodelet does not follow a redirect to plain http`,
      );
    }
    current = next.toString();
  }
}
