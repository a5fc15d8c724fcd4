// A GET with Go's http.Client behaviour as the kubelet configures it for hooks and probes
// (httpprobe.RedirectChecker(false)): redirects followed on the same host only, 10 at most.
import { ErrorCode, NodeletError } from "@nodelet/runtime-api";
import { Aborted, abortText, errnoCode, errorText } from "./errors.js";
import { goQuote } from "./go-format.js";
import type { HTTPResponse, HTTPTransport } from "./transport.js";

const MAX_REDIRECT_BODY_BYTES = 2 * 1024;
const MAX_REDIRECTS = 10;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/**
 * Go's `*url.Error` text: `Get "<url>": <cause>`. When `signal` has aborted, the cause is the
 * abort's reason (code Cancelled); otherwise code Unknown with `details.errno` when Node gave one.
 */
export function requestError(url: URL, err: unknown, signal: AbortSignal | undefined): NodeletError {
  if (signal?.aborted) {
    return new NodeletError(ErrorCode.Cancelled, `Get ${goQuote(url.href)}: ${abortText(signal)}`, {
      cause: err,
    });
  }
  const errno = errnoCode(err);
  return new NodeletError(ErrorCode.Unknown, `Get ${goQuote(url.href)}: ${errorText(err)}`, {
    cause: err,
    details: errno ? { errno } : {},
  });
}

/** The last response of a GET and the URL it came from. Its body is unread: read or discard it. */
export interface FinalResponse {
  url: URL;
  response: HTTPResponse;
}

/**
 * Sends a GET and follows 301/302/303/307/308 to the same host (10 at most: "stopped after 10
 * redirects"); a redirect to another host is not followed and is the final response, as a 3xx.
 * Rejects (with requestError's message) only when no final response arrived.
 */
export async function getFollowingSameHostRedirects(
  transport: HTTPTransport,
  start: URL,
  headers: ReadonlyArray<readonly [string, string]>,
  signal: AbortSignal | undefined,
): Promise<FinalResponse> {
  let url = start;
  const via: URL[] = [];
  for (;;) {
    if (signal?.aborted) throw requestError(url, new Aborted(signal), signal);
    let response: HTTPResponse;
    try {
      response = await transport(url, headers, signal);
    } catch (err) {
      throw requestError(url, err, signal);
    }
    const location =
      redirectStatuses.has(response.status) && response.location ? response.location : undefined;
    if (location === undefined) return { url, response };
    let next: URL;
    try {
      next = new URL(location, url);
    } catch (err) {
      await response.discard(MAX_REDIRECT_BODY_BYTES);
      throw requestError(
        url,
        new Error(`failed to parse Location header ${goQuote(location)}`, { cause: err }),
        signal,
      );
    }
    // Another host's answer is taken as it is (http.ErrUseLastResponse), not followed.
    if (next.hostname !== (via[0] ?? url).hostname) return { url, response };
    await response.discard(MAX_REDIRECT_BODY_BYTES);
    via.push(url);
    if (via.length >= MAX_REDIRECTS)
      throw requestError(next, new Error("stopped after 10 redirects"), signal);
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw requestError(
        next,
        new Error(`unsupported protocol scheme ${goQuote(next.protocol.slice(0, -1))}`),
        signal,
      );
    }
    url = next;
  }
}
