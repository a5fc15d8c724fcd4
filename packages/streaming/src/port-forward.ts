// Port-forward client: over SPDY (portforward.k8s.io) any number of connections to any ports share
// one session, each a pair of streams (error, data) named by `port` and `requestID` headers; over
// WebSocket (v4.channel.k8s.io) one connection per port listed in the URL or CRI request.
//
// A connection's outcome is decided only when both its error stream and its data stream have
// ended (or the session has), whichever comes first: the runtime may end the data stream before
// the error stream's message is read.

import { createServer, type Server, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { type ConnectOptions, connectSpdy, connectWebSocket } from "./connect.js";
import { StreamingError, StreamingErrorCode } from "./errors.js";
import {
  channelReader,
  SPDY_PORTFORWARD,
  StreamType,
  sendOnChannel,
  WS_V4,
  WS_V4_BASE64,
} from "./protocol.js";
import type { SpdySession } from "./spdy/session.js";

export interface PortForwardOptions extends ConnectOptions {
  /** Default "spdy" (many connections, half-close); "websocket" gives one connection per listed port. */
  transport?: "spdy" | "websocket" | undefined;
  /**
   * WebSocket only: the ports the URL (or CRI request) lists, in order; connection i uses channels
   * 2i and 2i+1. Without it, a port is known once its channel's first message (the port) arrived.
   */
  ports?: readonly number[] | undefined;
}

export interface PortForwardConnection {
  readonly port: number;
  /** Bytes to and from the port; end() half-closes the upload (SPDY only). */
  readonly stream: Duplex;
  /** Resolves once the connection is over without error; rejects with PortForwardFailed. */
  readonly done: Promise<void>;
}

export interface PortForwardSession {
  readonly protocol: string;
  readonly transport: "spdy" | "websocket";
  /** A new connection to `port` inside the pod. */
  connect(port: number): PortForwardConnection;
  /** Resolves when the session has ended. */
  readonly closed: Promise<void>;
  close(): void;
}

function checkPort(port: number, field = "port"): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new StreamingError(
      StreamingErrorCode.InvalidArgument,
      `${field}: ${String(port)} is not a port (1-65535)`,
      {
        details: { field },
      },
    );
  }
}

/** Opens a port-forward session on a port-forward URL (the runtime's, or an agent's /portForward). */
export async function portForward(
  url: string | URL,
  options: PortForwardOptions = {},
): Promise<PortForwardSession> {
  const transport = options.transport ?? "spdy";
  if (transport === "websocket") return overWebSocket(url, options);
  if (transport !== "spdy") {
    throw new StreamingError(
      StreamingErrorCode.InvalidArgument,
      `transport: ${String(transport)} is not spdy or websocket`,
      {
        details: { field: "transport" },
      },
    );
  }
  const { session, protocol } = await connectSpdy(url, [SPDY_PORTFORWARD], options);
  const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
  const onAbort = () => session.destroy();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  void closed.then(() => options.signal?.removeEventListener("abort", onAbort));
  let nextRequest = 0;
  return {
    protocol,
    transport: "spdy",
    connect(port) {
      checkPort(port);
      return connectSpdyPair(session, port, String(nextRequest++));
    },
    closed,
    close: () => session.close(),
  };
}

function connectSpdyPair(session: SpdySession, port: number, requestId: string): PortForwardConnection {
  const headers = (type: string) =>
    [
      ["streamType", type],
      ["port", String(port)],
      ["requestID", requestId],
    ] as const;
  // We never write on the error stream: half-close it at once, as kubectl does.
  const error = session.openStream(headers(StreamType.error), { fin: true });
  const data = session.openStream(headers(StreamType.data));
  // Nothing is sent before the server has accepted the stream.
  data.cork();
  void data.whenReplied().then(
    () => data.uncork(),
    () => data.uncork(),
  );
  const message: Buffer[] = [];
  error.on("data", (c: Buffer) => message.push(c));
  error.on("error", () => {});
  data.on("error", () => {});
  const errorEnded = new Promise<void>((resolve) => error.once("end", resolve));
  const dataEnded = new Promise<void>((resolve) => {
    if (data.remoteEnded) resolve();
    else data.once("remoteEnd", resolve);
  });
  const done = Promise.all([errorEnded, dataEnded]).then(() => {
    const text = Buffer.concat(message).toString("utf8").trim();
    if (text !== "") {
      throw new StreamingError(StreamingErrorCode.PortForwardFailed, text, { details: { port } });
    }
    if (data.aborted && session.closeError) {
      throw new StreamingError(
        StreamingErrorCode.ConnectionLost,
        `port ${port}: ${session.closeError.message}`,
        {
          cause: session.closeError,
          details: { port },
        },
      );
    }
  });
  done.catch(() => {});
  error.resume();
  return { port, stream: data, done };
}

async function overWebSocket(url: string | URL, options: PortForwardOptions): Promise<PortForwardSession> {
  const conn = await connectWebSocket(url, [WS_V4, WS_V4_BASE64], options);
  const { protocol } = conn;
  const base64 = protocol === WS_V4_BASE64;
  interface Pair {
    port: number | undefined;
    /** The first 2 bytes of each channel are the port (little-endian); what was read of them. */
    prefix: { data: Buffer; error: Buffer };
    data: Duplex;
    errorParts: Buffer[];
    used: boolean;
    settle?: () => void;
    done: Promise<void>;
  }
  const pairs: Pair[] = [];
  const pairFor = (index: number): Pair => {
    let pair = pairs[index];
    if (!pair) {
      const data = new Duplex({
        read: () => conn.resume(),
        write(chunk: Buffer, _enc, cb) {
          sendOnChannel(conn, base64, index * 2, [chunk], () => cb());
        },
        final(cb) {
          // The WebSocket protocol has no per-port half-close: the upload simply stops.
          cb();
        },
      });
      data.on("error", () => {});
      let settle!: () => void;
      const ended = new Promise<void>((resolve) => {
        settle = resolve;
      });
      const created: Pair = {
        port: undefined,
        prefix: { data: Buffer.alloc(0), error: Buffer.alloc(0) },
        data,
        errorParts: [],
        used: false,
        settle,
        done: ended.then(() => {
          const text = Buffer.concat(created.errorParts).toString("utf8").trim();
          if (text !== "")
            throw new StreamingError(StreamingErrorCode.PortForwardFailed, text, {
              details: { port: created.port },
            });
        }),
      };
      created.done.catch(() => {});
      pairs[index] = created;
      pair = created;
    }
    return pair;
  };
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  conn.attach({
    message: channelReader((channel, received) => {
      let payload = received;
      const pair = pairFor(channel >> 1);
      const isError = channel % 2 === 1;
      const which = isError ? "error" : "data";
      const prefix = pair.prefix[which];
      if (prefix.length < 2) {
        const head = Buffer.concat([prefix, payload.subarray(0, 2 - prefix.length)]);
        pair.prefix[which] = head;
        payload = payload.subarray(2 - prefix.length);
        if (head.length === 2) pair.port = head.readUInt16LE(0);
      }
      if (payload.length === 0) return;
      if (isError) pair.errorParts.push(payload);
      else if (!pair.data.push(payload)) conn.pause();
    }),
    close() {
      for (const pair of pairs) {
        pair.data.push(null);
        pair.settle?.();
      }
      resolveClosed();
    },
  });
  const onAbort = () => conn.terminate();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  void closed.then(() => options.signal?.removeEventListener("abort", onAbort));
  return {
    protocol,
    transport: "websocket",
    connect(port) {
      checkPort(port);
      const listed = options.ports?.indexOf(port) ?? -1;
      const pair = listed >= 0 ? pairFor(listed) : pairs.find((p) => p.port === port && !p.used);
      if (!pair || pair.used) {
        throw new StreamingError(
          StreamingErrorCode.InvalidArgument,
          `port: ${port} is not an unused port of this WebSocket session (one connection per listed port)`,
          { details: { field: "port" } },
        );
      }
      pair.used = true;
      return { port, stream: pair.data, done: pair.done };
    },
    closed,
    close: () => conn.close(),
  };
}

export interface ForwardedPort {
  /** The local port bound (useful with localPort 0). */
  readonly localPort: number;
  readonly address: string;
  close(): Promise<void>;
}

export interface ForwardPortOptions {
  /** Local port; 0 picks a free one. */
  localPort: number;
  remotePort: number;
  /** Local address to listen on (default 127.0.0.1). */
  address?: string | undefined;
  /** Told about each connection's failure (e.g. nothing listens on the remote port). */
  onError?: ((err: Error) => void) | undefined;
}

/** Listens locally and forwards each accepted TCP connection to `remotePort` over `session`, like kubectl port-forward. */
export async function forwardPort(
  session: PortForwardSession,
  options: ForwardPortOptions,
): Promise<ForwardedPort> {
  checkPort(options.remotePort, "remotePort");
  if (options.localPort !== 0) checkPort(options.localPort, "localPort");
  const address = options.address ?? "127.0.0.1";
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    let conn: PortForwardConnection;
    try {
      conn = session.connect(options.remotePort);
    } catch (err) {
      options.onError?.(err as Error);
      socket.destroy();
      return;
    }
    socket.pipe(conn.stream);
    conn.stream.pipe(socket);
    socket.on("error", () => conn.stream.destroy());
    conn.done.then(
      () => socket.end(),
      (err: Error) => {
        options.onError?.(err);
        socket.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(
        new StreamingError(
          StreamingErrorCode.InvalidArgument,
          `localPort: cannot listen on ${address}:${options.localPort}: ${err.message}`,
          {
            cause: err,
            details: { field: "localPort" },
          },
        ),
      ),
    );
    server.listen({ host: address, port: options.localPort }, () => resolve());
  });
  const bound = server.address() as { port: number; address: string };
  void session.closed.then(() => server.close());
  return {
    localPort: bound.port,
    address: bound.address,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
