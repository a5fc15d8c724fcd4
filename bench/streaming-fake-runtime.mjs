// A worker thread for bench/streaming.bench.mjs: a stand-in for the runtime's SPDY streaming server
// (v4.channel.k8s.io) whose every exec writes `size` bytes to stdout in `frame`-byte DATA frames
// as fast as the reader takes them, then the Success status. It isolates the agent's relay from
// containerd, whose own copying takes most of the machine in the rows against the real runtime.
import { createServer } from "node:http";
import { parentPort, workerData } from "node:worker_threads";
import { SpdySession } from "@nodelet/streaming";

const { size, frame } = workerData;
const payload = Buffer.alloc(frame, 7);
const status = Buffer.from(
  JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success" }),
);
const server = createServer((_req, res) => res.writeHead(400).end());
server.on("upgrade", (_req, socket) => {
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n" +
      "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n",
  );
  socket.setNoDelay(true);
  const session = new SpdySession(socket, { isServer: true });
  const streams = new Map();
  session.on("stream", (stream) => {
    stream.on("error", () => {});
    streams.set(stream.headers.get("streamtype"), stream);
    if (!["error", "stdout", "stderr"].every((t) => streams.has(t))) return;
    const out = streams.get("stdout");
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(frame, size - sent);
        sent += n;
        if (!out.write(n === frame ? payload : payload.subarray(0, n))) {
          out.once("drain", pump);
          return;
        }
      }
      out.end();
      streams.get("stderr").end();
      // The status after the output has left, as the runtime does.
      out.once("finish", () => {
        const error = streams.get("error");
        error.end(status);
        error.once("finish", () => session.close());
      });
    };
    pump();
  });
});
server.listen(0, "127.0.0.1", () => parentPort.postMessage(server.address().port));
