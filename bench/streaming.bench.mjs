// streaming (issue 11's rows): exec stdout (50 MiB) and stdin upload through our client against a
// bare protocol client on the same kind of runtime URL (raw `ws`, v4.channel.k8s.io); the same
// through the agent's relay (createStreamingServer, what the agent mounts) against our client
// straight at the runtime; the relay alone in front of a stand-in runtime (v5 client against SPDY
// client); and an exec of `true` (RPC, connect, status) against ExecSync. Each throughput row has
// a CPU row beside it (this process's CPU per run, see rateRows).

import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { ContainerConfig, ImageSpec, PodSandboxConfig } from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import { createStreamingServer, exec } from "@nodelet/streaming";
import WebSocket from "ws";
import { latencyRow, quick, sized, summarize } from "./harness.mjs";

const MiB = 1024 * 1024;

/**
 * MiB/s of `fn` for each side, rounds alternating; ratio = bare/ours (≤ 1 is good), `target` the
 * bound. The runtime (containerd, its shim, `cat`) takes most of the 2 cores and other work on the
 * machine moves its share, so the rates of one round swing by 2x; the second row is this process's
 * CPU per run (user + system, all threads: our client, for the agent rows the relay too, and for
 * the relay-alone row the stand-in runtime's worker), which load moves less and which shows what
 * our side costs.
 */
async function rateRows(name, { ours, bare, mib, rounds = 8, target }) {
  if (quick) rounds = 1;
  const rates = { ours: [], bare: [] };
  const cpu = { ours: [], bare: [] };
  for (let i = 0; i < rounds; i++) {
    for (const which of i % 2 === 0 ? ["ours", "bare"] : ["bare", "ours"]) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await (which === "ours" ? ours : bare)();
      rates[which].push((mib * 1000) / (performance.now() - t0));
      const c = process.cpuUsage(c0);
      cpu[which].push((c.user + c.system) / 1000);
    }
  }
  const o = summarize(rates.ours);
  const b = summarize(rates.bare);
  const oc = summarize(cpu.ours);
  const bc = summarize(cpu.bare);
  return [
    { name, unit: "MiB/s", ours: o, bare: b, ratio: b.median / o.median, target },
    {
      name: `${name}: CPU of this process`,
      unit: "ms/run",
      ours: oc,
      bare: bc,
      ratio: oc.median / bc.median,
      target: null,
    },
  ];
}

/** A bare v4.channel.k8s.io WebSocket exec: stdin (optional, 256 KiB messages), counts stdout, waits for close. */
function bareWs(url, stdin) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, "ws"), ["v4.channel.k8s.io"], { perMessageDeflate: false });
    let bytes = 0;
    let status = "";
    ws.on("message", (data) => {
      if (data[0] === 1) bytes += data.length - 1;
      else if (data[0] === 3) status += data.subarray(1).toString();
    });
    ws.on("open", () => {
      if (!stdin) return;
      let off = 0;
      const pump = () => {
        while (off < stdin.length && ws.bufferedAmount < 4 * MiB) {
          const piece = stdin.subarray(off, off + 256 * 1024);
          off += piece.length;
          ws.send(Buffer.concat([Buffer.from([0]), piece]));
        }
        if (off < stdin.length) setTimeout(pump, 1);
      };
      pump();
    });
    ws.on("close", () =>
      status.includes("Success") ? resolve(bytes) : reject(new Error(`bare exec: ${status}`)),
    );
    ws.on("error", reject);
  });
}

async function drain(session, stdin) {
  if (stdin) session.stdin.end(stdin);
  let bytes = 0;
  session.stdout.on("data", (c) => {
    bytes += c.length;
  });
  session.stderr?.resume();
  const code = await session.exitCode;
  if (code !== 0) throw new Error(`exit code ${code}`);
  return bytes;
}

export async function streamingSuite(env) {
  const runtime = await createRemoteRuntimeService(env.criEndpoint);
  const images = await createRemoteImageService(env.criEndpoint);
  const image = env.images.busybox;
  await images.pullImage(ImageSpec.fromPartial({ image }), undefined, undefined);
  const name = `bench-streaming-${process.pid}`;
  const sandboxConfig = PodSandboxConfig.fromPartial({
    metadata: { name, uid: name, namespace: "bench", attempt: 0 },
    logDirectory: mkdtempSync(join(tmpdir(), "nodelet-bench-streaming-")),
  });
  const sandboxId = await runtime.runPodSandbox(sandboxConfig, "");
  const containerId = await runtime.createContainer(
    sandboxId,
    ContainerConfig.fromPartial({
      metadata: { name: "app", attempt: 0 },
      image: { image },
      command: ["sleep", "3600"],
      logPath: "app.log",
    }),
    sandboxConfig,
  );
  await runtime.startContainer(containerId);
  const size = sized(50 * MiB, 4 * MiB);
  const mib = size / MiB;
  await runtime.execSync(containerId, ["sh", "-c", `head -c ${size} /dev/urandom > /tmp/blob`], 60);
  const upload = Buffer.alloc(size, 7);
  const urlFor = async (cmd, stdin) =>
    (await runtime.exec({ containerId, cmd, stdin, stdout: true, stderr: true, tty: false })).url;

  // The agent's relay in this process, its targets straight to the runtime (no pod lookup).
  const streaming = createStreamingServer({
    targets: {
      exec: async (_t, cmd, s) => new URL((await runtime.exec({ containerId, cmd: [...cmd], ...s })).url),
      attach: async () => {
        throw new Error("unused");
      },
      portForward: async () => {
        throw new Error("unused");
      },
    },
  });
  const server = createServer((req, res) => streaming.handleRequest(req, res));
  server.on("upgrade", (req, socket, head) => streaming.handleUpgrade(req, socket, head));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const agentBase = `http://127.0.0.1:${server.address().port}/exec/bench/${name}/app`;
  const agentUrl = (cmd, stdin) =>
    `${agentBase}?${[...cmd.map((c) => `command=${encodeURIComponent(c)}`), "output=1", "error=1", ...(stdin ? ["input=1"] : [])].join("&")}`;

  // The relay alone: the same createStreamingServer in front of a stand-in runtime in a worker
  // thread (streaming-fake-runtime.mjs), so the row shows what the relay's client side costs.
  const fakeSize = sized(100 * MiB, 4 * MiB);
  const fakeMib = fakeSize / MiB;
  const fake = new Worker(new URL("./streaming-fake-runtime.mjs", import.meta.url), {
    // containerd's DATA frames for a `cat` averaged ~14 KiB here.
    workerData: { size: fakeSize, frame: 14 * 1024 },
  });
  const fakePort = await new Promise((resolve, reject) => {
    fake.once("message", resolve);
    fake.once("error", reject);
  });
  const fakeStreaming = createStreamingServer({
    targets: {
      exec: async () => new URL(`http://127.0.0.1:${fakePort}/exec`),
      attach: async () => {
        throw new Error("unused");
      },
      portForward: async () => {
        throw new Error("unused");
      },
    },
  });
  const fakeServer = createServer((req, res) => fakeStreaming.handleRequest(req, res));
  fakeServer.on("upgrade", (req, socket, head) => fakeStreaming.handleUpgrade(req, socket, head));
  await new Promise((r) => fakeServer.listen(0, "127.0.0.1", r));
  const fakeAgentUrl = `http://127.0.0.1:${fakeServer.address().port}/exec/bench/fake/app?command=cat&output=1&error=1`;

  const cat = ["cat", "/tmp/blob"];
  // The commands print their count: an upload whose command writes nothing at all loses its status
  // to containerd closing the SPDY connection early (../shared/notes/streaming.md).
  const wc = ["wc", "-c"];
  const headWc = ["sh", "-c", `head -c ${size} | wc -c`];
  const rows = [];
  try {
    rows.push(
      ...(await rateRows(`exec stdout ${mib} MiB: our client (WebSocket) vs bare ws`, {
        mib,
        target: 1 / 0.9,
        ours: async () => drain(await exec(await urlFor(cat, false), { transport: "websocket" })),
        bare: async () => bareWs(await urlFor(cat, false)),
      })),
      ...(await rateRows(`exec stdout ${mib} MiB: our client (SPDY) vs bare ws`, {
        mib,
        target: 1 / 0.9,
        ours: async () => drain(await exec(await urlFor(cat, false), { transport: "spdy" })),
        bare: async () => bareWs(await urlFor(cat, false)),
      })),
      ...(await rateRows(`exec stdin ${mib} MiB: our client (SPDY, EOF) vs bare ws (head -c)`, {
        mib,
        target: 1 / 0.9,
        ours: async () =>
          drain(await exec(await urlFor(wc, true), { stdin: true, transport: "spdy" }), upload),
        bare: async () => bareWs(await urlFor(headWc, true), upload),
      })),
      ...(await rateRows(`exec stdout ${mib} MiB: through the agent (v5) vs direct (SPDY)`, {
        mib,
        target: 1 / 0.8,
        ours: async () => drain(await exec(agentUrl(cat, false), { transport: "websocket" })),
        bare: async () => drain(await exec(await urlFor(cat, false), { transport: "spdy" })),
      })),
      ...(await rateRows(`exec stdout ${mib} MiB: through the agent (SPDY) vs direct (SPDY)`, {
        mib,
        target: 1 / 0.8,
        ours: async () => drain(await exec(agentUrl(cat, false), { transport: "spdy" })),
        bare: async () => drain(await exec(await urlFor(cat, false), { transport: "spdy" })),
      })),
      ...(await rateRows(
        `relay alone: ${fakeMib} MiB from a stand-in runtime, to a v5 client vs to a SPDY client`,
        {
          mib: fakeMib,
          target: 1 / 0.9,
          ours: async () => drain(await exec(fakeAgentUrl, { transport: "websocket" })),
          bare: async () => drain(await exec(fakeAgentUrl, { transport: "spdy" })),
        },
      )),
      ...(await rateRows(`exec stdin ${mib} MiB: through the agent (SPDY) vs direct (SPDY)`, {
        mib,
        target: 1 / 0.8,
        ours: async () => drain(await exec(agentUrl(wc, true), { stdin: true, transport: "spdy" }), upload),
        bare: async () =>
          drain(await exec(await urlFor(wc, true), { stdin: true, transport: "spdy" }), upload),
      })),
      ...(await rateRows(`exec stdin ${mib} MiB: through the agent (v5) vs direct (SPDY)`, {
        mib,
        target: 1 / 0.8,
        ours: async () =>
          drain(await exec(agentUrl(wc, true), { stdin: true, transport: "websocket" }), upload),
        bare: async () =>
          drain(await exec(await urlFor(wc, true), { stdin: true, transport: "spdy" }), upload),
      })),
    );
    const latency = await latencyRow("exec `true` round trip (RPC + connect + status) vs ExecSync", {
      iterations: 20,
      warmup: 3,
      ours: async () => drain(await exec(await urlFor(["true"], false))),
      bare: async () => runtime.execSync(containerId, ["true"], 10),
    });
    rows.push({ ...latency, target: null });
  } finally {
    streaming.close();
    server.close();
    fakeStreaming.close();
    fakeServer.close();
    await fake.terminate();
    await runtime.stopPodSandbox(sandboxId);
    await runtime.removePodSandbox(sandboxId);
    runtime.close?.();
    images.close?.();
  }
  return rows;
}

// `node bench/streaming.bench.mjs` runs this suite alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { readTestEnv } = await import("@nodelet/testenv");
  const { printTable } = await import("./harness.mjs");
  printTable(await streamingSuite(await readTestEnv()));
}
