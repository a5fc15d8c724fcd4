// Relays an exec or attach between the agent's client (WebSocket v5/v4/v4.base64 or SPDY v4) and
// the runtime's streaming URL, always over SPDY upstream: it can close stdin (a v5 client's close
// of stdin becomes EOF for the process, with the output tail and the exit code still delivered).
// The runtime URL (its single-use token) never leaves the agent.

import type { IncomingMessage } from "node:http";
import type { Duplex, Readable } from "node:stream";
import { isStreamingError, StreamingErrorCode } from "../errors.js";
import { type ExecSession, exec } from "../exec.js";
import {
  Channel,
  channelReader,
  type StreamOptions,
  StreamType,
  type TerminalSize,
  WS_V4_BASE64,
  WS_V5,
} from "../protocol.js";
import { SpdySession } from "../spdy/session.js";
import type { SpdyStream } from "../spdy/stream.js";
import { statusForError, statusForExitCode } from "../status.js";
import { ChannelWriter } from "./channel-writer.js";
import { type SessionLimits, watchLimits } from "./limits.js";
import { acceptSpdyUpgrade, acceptWebSocketUpgrade, type Negotiated, rejectUpgrade } from "./negotiate.js";

/** Time a SPDY client has to open its streams (the kubelet's stream creation timeout). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;
const WS_HIGH_WATER = 8 << 20;
const WS_LOW_WATER = 1 << 20;

export interface RelayContext {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  negotiated: Negotiated;
  limits: SessionLimits;
  /** Registers a teardown for the server's close(); returns the unregister function. */
  track(teardown: () => void): () => void;
  onError(err: unknown, what: string): void;
}

/** What the client side must provide for the relay; built for WebSocket or SPDY. */
interface Downstream {
  writeOutput(which: "stdout" | "stderr", chunk: Buffer, resume: () => void): boolean;
  endOutput(which: "stdout" | "stderr"): void;
  /** Sends the status and closes once everything before it has left. */
  finish(status: object): void;
  destroy(): void;
}

export async function relayRemoteCommand(
  ctx: RelayContext,
  upstreamUrl: URL,
  streams: StreamOptions,
  command: readonly string[] | undefined,
): Promise<void> {
  let upstream: ExecSession;
  try {
    upstream = await exec(upstreamUrl, { transport: "spdy", ...streams });
  } catch (err) {
    rejectUpgrade(ctx.socket, 500, `cannot reach the runtime's streaming server: ${(err as Error).message}`);
    return;
  }
  let finished = false;
  let down: Downstream | undefined;
  const limits = watchLimits(ctx.limits, () => teardown());
  const untrack = ctx.track(() => teardown());
  function teardown(): void {
    if (finished) return;
    finished = true;
    limits.stop();
    untrack();
    upstream.close();
    down?.destroy();
  }
  /** Resumes the client's input paused for the runtime's stdin to drain. */
  let resumeInput: (() => void) | undefined;
  const input = {
    stdin(chunk: Buffer, pause: () => void, resume: () => void) {
      limits.touch();
      const stdin = upstream.stdin;
      if (!stdin || stdin.writableEnded) return;
      if (!stdin.write(chunk)) {
        pause();
        resumeInput = resume;
        stdin.once("drain", () => {
          resumeInput = undefined;
          resume();
        });
      }
    },
    stdinEnd() {
      upstream.stdin?.end();
      // A stream being ended emits no 'drain': a client paused on its last chunk would stay
      // paused, and its close frame unread until ws's 30 s close timeout ended the session.
      const resume = resumeInput;
      resumeInput = undefined;
      resume?.();
    },
    resize(size: TerminalSize) {
      limits.touch();
      upstream.resize(size);
    },
    closed() {
      teardown();
    },
  };
  if (ctx.negotiated.transport === "websocket") {
    down = acceptWebSocket(ctx, streams, input);
  } else {
    down = await acceptSpdy(ctx, streams, input);
  }
  if (!down || finished) {
    teardown();
    return;
  }
  const downstream = down;
  const pending: Promise<void>[] = [];
  const relayOutput = (which: "stdout" | "stderr", source: Readable | null) => {
    if (!source) return;
    pending.push(
      new Promise<void>((resolve) => {
        source.on("data", (chunk: Buffer) => {
          limits.touch();
          if (!downstream.writeOutput(which, chunk, () => source.resume())) source.pause();
        });
        source.once("end", () => {
          downstream.endOutput(which);
          resolve();
        });
        source.once("close", resolve);
      }),
    );
  };
  relayOutput("stdout", upstream.stdout);
  relayOutput("stderr", upstream.stderr);
  let status: object;
  try {
    const code = await upstream.exitCode;
    status = statusForExitCode(code, command);
  } catch (err) {
    if (isStreamingError(err, StreamingErrorCode.Aborted)) return;
    status = statusForError((err as Error).message);
  }
  await Promise.all(pending);
  if (finished) return;
  finished = true;
  limits.stop();
  untrack();
  downstream.finish(status);
}

interface Input {
  stdin(chunk: Buffer, pause: () => void, resume: () => void): void;
  stdinEnd(): void;
  resize(size: TerminalSize): void;
  closed(): void;
}

function parseSizes(text: string): TerminalSize[] {
  const sizes: TerminalSize[] = [];
  for (const match of text.matchAll(/\{[^{}]*\}/g)) {
    try {
      const raw = JSON.parse(match[0]) as Record<string, unknown>;
      const width = Number(raw.Width ?? raw.width);
      const height = Number(raw.Height ?? raw.height);
      // Zero sizes are ignored, as the runtime does.
      if (width > 0 && height > 0) sizes.push({ width, height });
    } catch {
      // A malformed resize message is ignored, as the kubelet's decoder loop gives up on it.
    }
  }
  return sizes;
}

function acceptWebSocket(ctx: RelayContext, streams: StreamOptions, input: Input): Downstream {
  const { protocol } = ctx.negotiated;
  const base64 = protocol === WS_V4_BASE64;
  const conn = acceptWebSocketUpgrade(ctx.req, ctx.socket, ctx.head, protocol);
  const writer = new ChannelWriter(conn, { base64 });
  // "Streams ready": an empty message on the lowest output channel, as the kubelet writes it.
  const ready = streams.stdout ? Channel.stdout : streams.stderr ? Channel.stderr : Channel.error;
  writer.write(ready, Buffer.alloc(0));
  let resizeText = "";
  const pause = () => conn.pause();
  const resume = () => conn.resume();
  conn.attach({
    message: channelReader((channel, payload) => {
      if (channel === Channel.stdin) input.stdin(payload, pause, resume);
      else if (channel === Channel.resize) {
        resizeText += payload.toString("utf8");
        for (const size of parseSizes(resizeText)) input.resize(size);
        resizeText = resizeText.slice(resizeText.lastIndexOf("}") + 1);
      } else if (channel === Channel.close && protocol === WS_V5 && payload[0] === Channel.stdin) {
        input.stdinEnd();
      }
    }),
    close() {
      writer.close();
      input.closed();
    },
  });
  return {
    writeOutput(which, chunk, resumeOutput) {
      writer.write(which === "stdout" ? Channel.stdout : Channel.stderr, chunk, () => {
        if (writer.bufferedAmount < WS_LOW_WATER) resumeOutput();
      });
      return writer.bufferedAmount < WS_HIGH_WATER;
    },
    endOutput() {
      // WebSocket channels end with the connection.
    },
    finish(status) {
      writer.write(Channel.error, Buffer.from(JSON.stringify(status)));
      writer.flush();
      conn.close();
    },
    destroy() {
      writer.close();
      conn.terminate();
    },
  };
}

function acceptSpdy(
  ctx: RelayContext,
  streams: StreamOptions,
  input: Input,
): Promise<Downstream | undefined> {
  const { socket, head } = ctx;
  acceptSpdyUpgrade(socket, ctx.negotiated.protocol);
  const session = new SpdySession(socket, { isServer: true });
  if (head.length > 0) socket.unshift(head);
  const expected = new Set<string>([StreamType.error]);
  if (streams.stdin) expected.add(StreamType.stdin);
  if (streams.stdout) expected.add(StreamType.stdout);
  if (streams.stderr) expected.add(StreamType.stderr);
  if (streams.tty) expected.add(StreamType.resize);
  const got = new Map<string, SpdyStream>();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      session.destroy();
      resolve(undefined);
    }, STREAM_CREATION_TIMEOUT_MS);
    timer.unref();
    session.once("close", () => {
      clearTimeout(timer);
      input.closed();
      resolve(undefined);
    });
    session.on("stream", (stream: SpdyStream) => {
      stream.on("error", () => {});
      const type = stream.headers.get("streamtype") ?? "";
      if (!expected.has(type) || got.has(type)) {
        // A stream this session does not use (stderr with a tty): ended at once.
        stream.resume();
        stream.end();
        return;
      }
      got.set(type, stream);
      if (got.size < expected.size) return;
      clearTimeout(timer);
      const stdin = got.get(StreamType.stdin);
      if (stdin) {
        stdin.on("data", (chunk: Buffer) =>
          input.stdin(
            chunk,
            () => stdin.pause(),
            () => stdin.resume(),
          ),
        );
        stdin.once("end", () => input.stdinEnd());
      }
      const resize = got.get(StreamType.resize);
      if (resize) {
        let text = "";
        resize.on("data", (chunk: Buffer) => {
          text += chunk.toString("utf8");
          for (const size of parseSizes(text)) input.resize(size);
          text = text.slice(text.lastIndexOf("}") + 1);
        });
      }
      const error = got.get(StreamType.error) as SpdyStream;
      error.resume();
      const outputs = [got.get(StreamType.stdout), got.get(StreamType.stderr)].filter(
        (s): s is SpdyStream => s !== undefined,
      );
      resolve({
        writeOutput(which, chunk, resume) {
          const target = got.get(which);
          if (!target || target.writableEnded) return true;
          const ok = target.write(chunk);
          if (!ok) target.once("drain", resume);
          return ok;
        },
        endOutput(which) {
          got.get(which)?.end();
        },
        finish(status) {
          // The status goes once the outputs' last bytes and FINs have reached the socket.
          const flushed = outputs.map(
            (s) =>
              new Promise<void>((r) => {
                if (s.writableFinished) r();
                s.once("finish", r);
                s.once("close", r);
              }),
          );
          void Promise.all(flushed).then(() => {
            error.end(Buffer.from(JSON.stringify(status)));
            error.once("finish", () => session.close());
          });
        },
        destroy() {
          session.destroy();
        },
      });
    });
  });
}
