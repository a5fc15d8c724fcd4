// Reads server-sent events (the agent's /watch) from a fetch body: used by `nodelet get -w` in Node
// and by the dashboard in the browser (fetch, not EventSource, so the bearer token travels in the
// Authorization header). Follows the HTML standard's event-stream parsing: `event:`, `data:`
// (several joined with "\n"), `id:`, `retry:`, comment lines starting with ":", a blank line ending
// the event; CR, LF and CRLF line ends. No Node-only API here.

export interface SseFrame {
  /** The `event:` field; "message" when absent. */
  event: string;
  data: string;
  id?: string;
}

/** Incremental parser: push decoded text, get complete frames; `retry` hints go to onRetry. */
export function createSseParser(onRetry?: (ms: number) => void): { push(text: string): SseFrame[] } {
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  return {
    push(text) {
      buffer += text;
      const frames: SseFrame[] = [];
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        // A lone CR at the end may be the first half of CRLF: wait for more.
        if (!match || (match[0] === "\r" && match.index === buffer.length - 1)) break;
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === "") {
          if (data.length > 0) {
            frames.push({
              event: event || "message",
              data: data.join("\n"),
              ...(id !== undefined ? { id } : {}),
            });
          }
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        else if (field === "id") id = value;
        else if (field === "retry" && /^\d+$/.test(value)) onRetry?.(Number(value));
      }
      return frames;
    },
  };
}

/** The frames of a response body, as they arrive; ends when the body ends. */
export async function* readSseFrames(
  body: ReadableStream<Uint8Array>,
  onRetry?: (ms: number) => void,
): AsyncGenerator<SseFrame> {
  const parser = createSseParser(onRetry);
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    yield* parser.push(decoder.decode());
  } finally {
    // A consumer that stops early (break, abort) must not leave the connection open.
    await reader.cancel().catch(() => undefined);
  }
}
