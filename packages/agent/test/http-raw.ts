import { connect } from "node:net";

/** Sends raw bytes to 127.0.0.1:`port`; resolves with all the server wrote once it closes. */
export function raw(port: number, data: string, waitMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${waitMs} ms; got ${Buffer.concat(chunks).toString("latin1")}`));
    }, waitMs);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
    socket.write(data);
  });
}
