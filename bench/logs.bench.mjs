// @nodelet/logs (issue 9's rows): a full read of a 1 GiB CRI log against a bare Node read+parse of
// the same file (read in 1 MiB blocks, split at newlines, the CRI header located, the content
// written out), tailLines=100 on a 1 GiB log against the same on a 1 MiB log (goal: the same time),
// and /containerLogs through the agent's HTTP server (its route, the reader, the response) against
// the library call writing to nowhere.
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { readLogs } from "@nodelet/logs";
import { createAgentServer, createContainerLogsRoute, createLogger } from "nodelet";
import { latencyRow, sized, throughputRow } from "./harness.mjs";

const MiB = 1024 * 1024;

/** A CRI log of about `bytes`, 100-byte lines, mostly stdout, a partial line now and then. */
function writeLog(path, bytes) {
  const fd = openSync(path, "w");
  const pad = "x".repeat(50);
  let written = 0;
  let i = 0;
  const base = Date.parse("2026-12-02T17:00:00Z");
  while (written < bytes) {
    const lines = [];
    for (let k = 0; k < 10_000; k++, i++) {
      const t = new Date(base + Math.floor(i / 1000))
        .toISOString()
        .replace("Z", `${String(i % 1000).padStart(3, "0")}123Z`);
      const stream = i % 10 === 0 ? "stderr" : "stdout";
      const tag = i % 50 === 0 ? "P" : "F";
      lines.push(`${t} ${stream} ${tag} line ${String(i).padStart(9, "0")} ${pad}\n`);
    }
    const chunk = Buffer.from(lines.join(""));
    writeSync(fd, chunk);
    written += chunk.length;
  }
  closeSync(fd);
}

const nowhere = () =>
  new Writable({
    highWaterMark: 4 * MiB,
    write(_chunk, _enc, cb) {
      cb();
    },
  });

/** The floor: read, split, find the three header fields, write the content; no joining, no options. */
function bareReadParse(path) {
  return new Promise((resolve, reject) => {
    const out = nowhere();
    let carry;
    const stream = createReadStream(path, { highWaterMark: MiB });
    stream.on("data", (block) => {
      const buf = carry ? Buffer.concat([carry, block]) : block;
      const parts = [];
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0) break;
        const sp1 = buf.indexOf(32, start);
        const sp2 = buf.indexOf(32, sp1 + 1);
        const sp3 = buf.indexOf(32, sp2 + 1);
        if (sp3 > 0 && sp3 < nl) parts.push(buf.subarray(sp3 + 1, nl + 1));
        start = nl + 1;
      }
      carry = start < buf.length ? Buffer.from(buf.subarray(start)) : undefined;
      out.write(Buffer.concat(parts));
    });
    stream.on("end", resolve);
    stream.on("error", reject);
  });
}

function httpGet(port, path) {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path }, (res) => {
      let bytes = 0;
      res.on("data", (c) => {
        bytes += c.length;
      });
      res.on("end", () =>
        res.statusCode === 200 ? resolve(bytes) : reject(new Error(`status ${res.statusCode}`)),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

export async function logsSuite() {
  const dir = mkdtempSync(join(tmpdir(), "nodelet-bench-logs-"));
  const big = join(dir, "big.log");
  const small = join(dir, "small.log");
  const mid = join(dir, "mid.log");
  const bigBytes = sized(1024 * MiB, 16 * MiB);
  writeLog(big, bigBytes);
  writeLog(small, MiB);
  writeLog(mid, sized(64 * MiB, 4 * MiB));
  const rows = [];
  try {
    rows.push(
      await throughputRow(`logs: full read of a ${bigBytes / MiB} MiB CRI log (MiB/s) vs bare read+parse`, {
        items: bigBytes / MiB,
        rounds: sized(3, 1),
        ours: () => readLogs(big, nowhere(), nowhere()),
        bare: () => bareReadParse(big),
      }),
    );
    rows.push(
      await latencyRow(`logs: tailLines=100 on ${bigBytes / MiB} MiB vs on 1 MiB`, {
        iterations: sized(200, 5),
        ours: () => readLogs(big, nowhere(), nowhere(), { tailLines: 100 }),
        bare: () => readLogs(small, nowhere(), nowhere(), { tailLines: 100 }),
      }),
    );
    // The agent's HTTP server with the /containerLogs route over a source that reads `mid`.
    const route = createContainerLogsRoute({
      open: async (_ns, _pod, _container, options) => (out, signal) =>
        readLogs(mid, out, out, {
          tailLines: options.tailLines,
          limitBytes: options.limitBytes,
          timestamps: options.timestamps,
          signal,
        }).then(() => undefined),
    });
    const server = createAgentServer({
      address: "127.0.0.1",
      port: 0,
      containerLogs: route,
      logger: createLogger({ verbosity: 0, destination: nowhere() }),
      view: {
        pods: () => [],
        runningPods: async () => [],
        healthChecks: () => [],
        registry: { metrics: async () => "", contentType: "text/plain" },
      },
    });
    const { port } = await server.listen();
    try {
      rows.push(
        await latencyRow(`logs: /containerLogs full (${sized(64, 4)} MiB) through the agent vs readLogs`, {
          iterations: sized(10, 2),
          warmup: 1,
          ours: () => httpGet(port, "/containerLogs/default/p/c"),
          bare: () => readLogs(mid, nowhere(), nowhere()),
        }),
      );
      rows.push(
        await latencyRow("logs: /containerLogs?tailLines=100 through the agent vs readLogs", {
          iterations: sized(200, 5),
          ours: () => httpGet(port, "/containerLogs/default/p/c?tailLines=100"),
          bare: () => readLogs(mid, nowhere(), nowhere(), { tailLines: 100 }),
        }),
      );
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
