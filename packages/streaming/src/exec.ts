// exec and attach clients: one session per call over SPDY/3.1 or WebSocket (v5, v4, v4.base64),
// Node streams in and out, TTY resize, AbortSignal, and `exitCode`, which settles only once the
// status has arrived and every output stream has ended, in whatever order those happen.

import { Readable, Writable } from "node:stream";
import { type ConnectOptions, connectSpdy, connectWebSocket } from "./connect.js";
import { StreamingError, StreamingErrorCode } from "./errors.js";
import {
  Channel,
  channelReader,
  resizeMessage,
  SPDY_REMOTECOMMAND_V4,
  type StreamOptions,
  StreamType,
  sendOnChannel,
  type TerminalSize,
  WEBSOCKET_PROTOCOLS,
  WS_V4_BASE64,
  WS_V5,
} from "./protocol.js";
import type { SpdyStream } from "./spdy/stream.js";
import { exitCodeFromStatus } from "./status.js";
import type { WebSocketConnection } from "./websocket/connection.js";

/** Bytes of stdin the WebSocket client lets wait for the socket before it waits too. */
const SEND_WINDOW = 4 << 20;

export type Transport = "spdy" | "websocket";

export interface ExecOptions extends ConnectOptions {
  /** Send stdin (default false). */
  stdin?: boolean | undefined;
  /** Receive stdout (default true). */
  stdout?: boolean | undefined;
  /** Receive stderr (default true, false with tty: a terminal has one output). */
  stderr?: boolean | undefined;
  tty?: boolean | undefined;
  /**
   * Default: "spdy" when stdin is sent (it can signal EOF to any server), "websocket" otherwise.
   * WebSocket offers v5.channel.k8s.io, v4.channel.k8s.io, v4.base64.channel.k8s.io in that order.
   */
  transport?: Transport | undefined;
  /** Sent right after connecting when tty is set. */
  initialSize?: TerminalSize | undefined;
}

export interface ExecSession {
  /** The negotiated protocol, e.g. "v4.channel.k8s.io" or "v5.channel.k8s.io". */
  readonly protocol: string;
  readonly transport: Transport;
  /** end() is EOF for the process (SPDY half-close, WebSocket v5 close); on v4 it fails with StdinCloseUnsupported. */
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  resize(size: TerminalSize): void;
  /**
   * The command's exit code (0 for attach's Success). Rejects with a StreamingError: ExecFailed
   * (the runtime's message), ConnectionLost (no status: the output may be truncated), Aborted.
   */
  readonly exitCode: Promise<number>;
  /** Drops the connection; a pending exitCode rejects with Aborted. */
  close(): void;
}

function resolveStreams(options: ExecOptions): StreamOptions {
  const tty = options.tty === true;
  const streams = {
    stdin: options.stdin === true,
    stdout: options.stdout !== false,
    stderr: options.stderr === undefined ? !tty : options.stderr && !tty,
    tty,
  };
  if (!streams.stdin && !streams.stdout && !streams.stderr) {
    throw new StreamingError(
      StreamingErrorCode.InvalidArgument,
      "at least one of stdin, stdout or stderr is required",
      {
        details: { field: "stdin/stdout/stderr" },
      },
    );
  }
  return streams;
}

/** Collects the outcome; settles once the status is final and every output has ended. */
class Outcome {
  readonly promise: Promise<number>;
  #resolve!: (code: number) => void;
  #reject!: (err: Error) => void;
  #pendingOutputs: number;
  #status: { code?: number; err?: Error } | undefined;
  #settled = false;
  onSettled: () => void = () => {};

  constructor(outputs: number) {
    this.#pendingOutputs = outputs;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A caller that only awaits the streams must not crash on an unobserved rejection.
    this.promise.catch(() => {});
  }

  outputEnded(): void {
    this.#pendingOutputs--;
    this.#check();
  }

  statusFrom(raw: Buffer | undefined): void {
    if (this.#status) return;
    if (raw === undefined) {
      this.#status = {
        err: new StreamingError(
          StreamingErrorCode.ConnectionLost,
          "the connection ended before the exit status arrived; the output may be truncated",
        ),
      };
    } else {
      try {
        this.#status = { code: exitCodeFromStatus(raw) };
      } catch (err) {
        this.#status = { err: err as Error };
      }
    }
    this.#check();
  }

  fail(err: Error): void {
    if (this.#settled) return;
    this.#status = { err };
    this.#pendingOutputs = 0;
    this.#check();
  }

  #check(): void {
    if (this.#settled || !this.#status || this.#pendingOutputs > 0) return;
    this.#settled = true;
    if (this.#status.err) this.#reject(this.#status.err);
    else this.#resolve(this.#status.code as number);
    this.onSettled();
  }
}

function abortedError(signal: AbortSignal): StreamingError {
  return new StreamingError(StreamingErrorCode.Aborted, "the streaming session was aborted", {
    cause: signal.reason,
  });
}

/** Runs a command through an exec URL (the runtime's, or an agent's /exec with the command in the query). */
export function exec(url: string | URL, options: ExecOptions = {}): Promise<ExecSession> {
  return openRemoteCommand(url, options);
}

/** Attaches to a running container through an attach URL; exitCode resolves 0 when the attach ends. */
export function attach(url: string | URL, options: ExecOptions = {}): Promise<ExecSession> {
  return openRemoteCommand(url, options);
}

async function openRemoteCommand(url: string | URL, options: ExecOptions): Promise<ExecSession> {
  const streams = resolveStreams(options);
  const transport = options.transport ?? (streams.stdin ? "spdy" : "websocket");
  if (transport !== "spdy" && transport !== "websocket") {
    throw new StreamingError(
      StreamingErrorCode.InvalidArgument,
      `transport: ${String(transport)} is not spdy or websocket`,
      {
        details: { field: "transport" },
      },
    );
  }
  const session =
    transport === "spdy" ? await overSpdy(url, streams, options) : await overWebSocket(url, streams, options);
  if (streams.tty && options.initialSize) session.resize(options.initialSize);
  return session;
}

async function overSpdy(
  url: string | URL,
  streams: StreamOptions,
  options: ExecOptions,
): Promise<ExecSession> {
  const { session, protocol } = await connectSpdy(url, [SPDY_REMOTECOMMAND_V4], options);
  const open = (type: string) => session.openStream([["streamType", type]]);
  // The server starts the process once exactly these streams exist (error first, like kubectl).
  const error = open(StreamType.error);
  const stdin = streams.stdin ? open(StreamType.stdin) : null;
  const stdout = streams.stdout ? open(StreamType.stdout) : null;
  const stderr = streams.stderr ? open(StreamType.stderr) : null;
  const resize = streams.tty ? open(StreamType.resize) : null;
  const all = [error, stdin, stdout, stderr, resize].filter((s): s is SpdyStream => s !== null);
  const { signal } = options;
  try {
    // No stdin before every stream is accepted: early stdin deadlocked containerd (notes gotcha 9).
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(abortedError(signal as AbortSignal));
      signal?.addEventListener("abort", onAbort, { once: true });
      Promise.all(all.map((s) => s.whenReplied())).then(
        () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        (err: Error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(
            new StreamingError(
              StreamingErrorCode.ConnectionLost,
              `the server did not accept the streams: ${err.message}`,
              { cause: err },
            ),
          );
        },
      );
    });
  } catch (err) {
    session.destroy();
    throw err;
  }

  const outputs = [stdout, stderr].filter((s): s is SpdyStream => s !== null);
  const outcome = new Outcome(outputs.length);
  for (const s of outputs) {
    if (s.remoteEnded) outcome.outputEnded();
    else s.once("remoteEnd", () => outcome.outputEnded());
    s.on("error", () => {});
  }
  const statusParts: Buffer[] = [];
  error.on("data", (c: Buffer) => statusParts.push(c));
  error.on("error", () => {});
  // 'end' comes after every received chunk has been read; `aborted` says the session died first.
  error.once("end", () =>
    outcome.statusFrom(statusParts.length > 0 || !error.aborted ? Buffer.concat(statusParts) : undefined),
  );
  error.resume();
  const onAbort = () => {
    outcome.fail(abortedError(signal as AbortSignal));
    session.destroy();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  outcome.onSettled = () => {
    signal?.removeEventListener("abort", onAbort);
    session.close();
  };
  return {
    protocol,
    transport: "spdy",
    stdin,
    stdout,
    stderr,
    resize(size) {
      if (resize && !resize.writableEnded) resize.write(resizeMessage(size));
    },
    exitCode: outcome.promise,
    close() {
      outcome.fail(
        new StreamingError(StreamingErrorCode.Aborted, "the streaming session was closed by the client"),
      );
      session.destroy();
    },
  };
}

/** A readable fed by WebSocket messages; back-pressure pauses the socket. */
function outputReadable(conn: WebSocketConnection): Readable {
  return new Readable({ highWaterMark: 1 << 20, read: () => conn.resume() });
}

async function overWebSocket(
  url: string | URL,
  streams: StreamOptions,
  options: ExecOptions,
): Promise<ExecSession> {
  const conn = await connectWebSocket(url, WEBSOCKET_PROTOCOLS, options);
  const { protocol } = conn;
  const base64 = protocol === WS_V4_BASE64;
  const send = (channel: number, data: Buffer, cb?: () => void) =>
    sendOnChannel(conn, base64, channel, [data], cb);
  const stdout = streams.stdout ? outputReadable(conn) : null;
  const stderr = streams.stderr ? outputReadable(conn) : null;
  const outputs = [stdout, stderr].filter((s): s is Readable => s !== null);
  const outcome = new Outcome(outputs.length);
  for (const s of outputs) s.once("end", () => {});
  const statusParts: Buffer[] = [];
  let closed = false;
  const pushOut = (target: Readable | null, data: Buffer) => {
    if (target && !target.push(data)) conn.pause();
  };
  conn.attach({
    message: channelReader((channel, payload) => {
      if (channel === Channel.stdout) pushOut(stdout, payload);
      else if (channel === Channel.stderr) pushOut(stderr, payload);
      else if (channel === Channel.error) statusParts.push(payload);
    }),
    close() {
      closed = true;
      for (const s of outputs) {
        s.push(null);
        outcome.outputEnded();
      }
      outcome.statusFrom(statusParts.length > 0 ? Buffer.concat(statusParts) : undefined);
    },
  });
  const chunkSize = 256 * 1024;
  const stdin = streams.stdin
    ? new Writable({
        highWaterMark: 1 << 20,
        write(chunk: Buffer, _enc, callback) {
          if (closed) {
            callback();
            return;
          }
          // x/net/websocket refuses messages over 32 MiB: send in bounded pieces, and no more than
          // SEND_WINDOW ahead of the socket, so a large chunk is not masked into copies all at once.
          let off = 0;
          const next = () => {
            while (off < chunk.length) {
              if (closed || !conn.isOpen) {
                callback();
                return;
              }
              const piece = chunk.subarray(off, off + chunkSize);
              off += piece.length;
              if (off >= chunk.length) send(Channel.stdin, piece, () => callback());
              else if (conn.bufferedAmount >= SEND_WINDOW) send(Channel.stdin, piece, next);
              else {
                send(Channel.stdin, piece);
                continue;
              }
              return;
            }
            callback(); // an empty chunk
          };
          next();
        },
        final(callback) {
          if (closed) {
            callback();
            return;
          }
          if (protocol === WS_V5) {
            send(Channel.close, Buffer.from([Channel.stdin]), () => callback());
            return;
          }
          callback(
            new StreamingError(
              StreamingErrorCode.StdinCloseUnsupported,
              `${protocol} cannot close stdin: the process gets no EOF (use SPDY or a v5 server); the session stays open`,
              { details: { protocol } },
            ),
          );
        },
      })
    : null;
  const { signal } = options;
  const onAbort = () => {
    outcome.fail(abortedError(signal as AbortSignal));
    conn.terminate();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  outcome.onSettled = () => {
    signal?.removeEventListener("abort", onAbort);
    conn.close();
  };
  return {
    protocol,
    transport: "websocket",
    stdin,
    stdout,
    stderr,
    resize(size) {
      if (streams.tty && conn.isOpen) send(Channel.resize, resizeMessage(size));
    },
    exitCode: outcome.promise,
    close() {
      outcome.fail(
        new StreamingError(StreamingErrorCode.Aborted, "the streaming session was closed by the client"),
      );
      conn.terminate();
    },
  };
}
