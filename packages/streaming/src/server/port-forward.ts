// Relays port-forward between the agent's client and the runtime, over one upstream SPDY session
// (portforward.k8s.io): any number of connections, each a stream pair upstream.
// - SPDY clients open (error, data) pairs named by `port` and `requestID`, like kubectl.
// - WebSocket clients (v4.channel.k8s.io, v4.base64) get one connection per `?port=`, channels 2i
//   (data) and 2i+1 (error); the first message on each is the port, 2 bytes little-endian.

import { type PortForwardSession, portForward } from "../port-forward.js";
import { channelReader, SPDY_PORTFORWARD, StreamType, sendOnChannel, WS_V4_BASE64 } from "../protocol.js";
import { SpdySession } from "../spdy/session.js";
import type { SpdyStream } from "../spdy/stream.js";
import { watchLimits } from "./limits.js";
import { acceptSpdyUpgrade, acceptWebSocketUpgrade, rejectUpgrade } from "./negotiate.js";
import type { RelayContext } from "./remote-command.js";

export async function relayPortForward(
  ctx: RelayContext,
  upstreamUrl: URL,
  ports: readonly number[],
): Promise<void> {
  let upstream: PortForwardSession;
  try {
    upstream = await portForward(upstreamUrl, { transport: "spdy" });
  } catch (err) {
    rejectUpgrade(ctx.socket, 500, `cannot reach the runtime's streaming server: ${(err as Error).message}`);
    return;
  }
  let finished = false;
  let closeDown = () => {};
  const limits = watchLimits(ctx.limits, () => teardown());
  const untrack = ctx.track(() => teardown());
  function teardown(): void {
    if (finished) return;
    finished = true;
    limits.stop();
    untrack();
    upstream.close();
    closeDown();
  }
  void upstream.closed.then(() => teardown());
  if (ctx.negotiated.transport === "spdy") {
    acceptSpdyUpgrade(ctx.socket, SPDY_PORTFORWARD);
    const session = new SpdySession(ctx.socket, { isServer: true });
    if (ctx.head.length > 0) ctx.socket.unshift(ctx.head);
    closeDown = () => session.destroy();
    session.once("close", () => teardown());
    const halves = new Map<string, { error?: SpdyStream; data?: SpdyStream }>();
    session.on("stream", (stream: SpdyStream) => {
      stream.on("error", () => {});
      const type = stream.headers.get("streamtype");
      const port = Number(stream.headers.get("port"));
      const key = stream.headers.get("requestid") ?? String(stream.id);
      if (
        (type !== StreamType.error && type !== StreamType.data) ||
        !Number.isInteger(port) ||
        port < 1 ||
        port > 65535
      ) {
        stream.reset(1);
        return;
      }
      const pair = halves.get(key) ?? {};
      pair[type] = stream;
      halves.set(key, pair);
      if (!pair.error || !pair.data) return;
      halves.delete(key);
      relayPair(pair.error, pair.data, port);
    });
    const relayPair = (error: SpdyStream, data: SpdyStream, port: number) => {
      error.resume();
      let conn: ReturnType<PortForwardSession["connect"]>;
      try {
        conn = upstream.connect(port);
      } catch (err) {
        error.end(`error forwarding port ${port}: ${(err as Error).message}`);
        data.end();
        return;
      }
      data.on("data", () => limits.touch());
      conn.stream.on("data", () => limits.touch());
      data.pipe(conn.stream);
      conn.stream.pipe(data);
      conn.done.then(
        () => error.end(),
        (err: Error) => {
          error.end(err.message);
          data.end();
        },
      );
    };
    return;
  }

  // WebSocket: every listed port is connected at once, as the kubelet does.
  const base64 = ctx.negotiated.protocol === WS_V4_BASE64;
  const conn = acceptWebSocketUpgrade(ctx.req, ctx.socket, ctx.head, ctx.negotiated.protocol);
  closeDown = () => conn.terminate();
  const send = (channel: number, data: Buffer, cb?: () => void) => {
    if (conn.isOpen) sendOnChannel(conn, base64, channel, [data], cb);
  };
  const conns = ports.map((port, i) => {
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16LE(port);
    send(2 * i, prefix);
    send(2 * i + 1, prefix);
    const upstreamConn = upstream.connect(port);
    upstreamConn.stream.on("data", (chunk: Buffer) => {
      limits.touch();
      send(2 * i, chunk, () => {
        if (conn.bufferedAmount < 1 << 20) upstreamConn.stream.resume();
      });
      if (conn.bufferedAmount >= 8 << 20) upstreamConn.stream.pause();
    });
    const done = upstreamConn.done.then(
      () => {},
      (err: Error) => send(2 * i + 1, Buffer.from(err.message)),
    );
    return { conn: upstreamConn, done };
  });
  conn.attach({
    message: channelReader((channel, payload) => {
      const target = channel % 2 === 0 ? conns[channel / 2] : undefined;
      if (!target) return;
      limits.touch();
      if (!target.conn.stream.write(payload)) {
        conn.pause();
        target.conn.stream.once("drain", () => conn.resume());
      }
    }),
    close: () => teardown(),
  });
  // The WebSocket closes once every port's connection is over.
  void Promise.all(conns.map((c) => c.done)).then(() => {
    if (finished) return;
    finished = true;
    limits.stop();
    untrack();
    upstream.close();
    conn.close();
  });
}
