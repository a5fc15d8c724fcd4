// The agent's plain HTTP answers: a whole body with its length, and no content sniffing.
import type { ServerResponse } from "node:http";

export const TEXT_PLAIN = "text/plain; charset=utf-8";

/** Writes `body` as the whole response (headers only for HEAD); returns `status` for the access log. */
export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  head = false,
): number {
  res.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(body),
    "X-Content-Type-Options": "nosniff",
  });
  res.end(head ? undefined : body);
  return status;
}

/** `sendBody` for a text/plain message. */
export function sendText(res: ServerResponse, status: number, text: string, head = false): number {
  return sendBody(res, status, TEXT_PLAIN, text, head);
}
