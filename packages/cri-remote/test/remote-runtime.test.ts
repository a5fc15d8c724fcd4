import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import {
  CommandExitError,
  ErrorCode,
  isRegistryUnauthorized,
  NodeletError,
  UnsupportedRuntimeApiVersionError,
} from "@nodelet/runtime-api";
import { afterEach, describe, expect, it } from "vitest";
import { createRemoteImageService, createRemoteRuntimeService } from "../src/index.js";
import { type FakeServer, grpcError, HANG, startFakeServer, v1Version } from "./support/fake-runtime.js";

const servers: FakeServer[] = [];
async function fake(options: Parameters<typeof startFakeServer>[0]): Promise<FakeServer> {
  const s = await startFakeServer(options);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function rejection(p: Promise<unknown>): Promise<NodeletError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(NodeletError);
    return err as NodeletError;
  }
  throw new Error("expected a rejection");
}

const tmp = () => mkdtempSync(join(tmpdir(), "nodelet-cri-"));

describe("endpoints", () => {
  it("rejects an unsupported scheme with a hint", async () => {
    const err = await rejection(createRemoteRuntimeService("http://127.0.0.1:1234"));
    expect(err.code).toBe(ErrorCode.InvalidEndpoint);
    expect(err.message).toContain('unsupported scheme "http"');
    expect(err.message).toContain("unix:///");
  });

  it("rejects an endpoint without a scheme and a relative unix path", async () => {
    expect((await rejection(createRemoteRuntimeService("/run/containerd.sock"))).code).toBe(
      ErrorCode.InvalidEndpoint,
    );
    expect((await rejection(createRemoteRuntimeService("unix://relative.sock"))).code).toBe(
      ErrorCode.InvalidEndpoint,
    );
    expect((await rejection(createRemoteRuntimeService("tcp://nohost"))).code).toBe(
      ErrorCode.InvalidEndpoint,
    );
  });

  it("reports a missing socket as RuntimeUnavailable", async () => {
    const err = await rejection(createRemoteRuntimeService(`unix://${tmp()}/none.sock`));
    expect(err.code).toBe(ErrorCode.RuntimeUnavailable);
    expect(err.message).toContain("no container runtime socket at");
  });

  it("reports a path that is not a socket as InvalidEndpoint", async () => {
    const file = join(tmp(), "file.sock");
    writeFileSync(file, "");
    const err = await rejection(createRemoteRuntimeService(`unix://${file}`));
    expect(err.code).toBe(ErrorCode.InvalidEndpoint);
    expect(err.message).toContain("is not a unix socket");
  });

  it("reports a dead socket (nobody listening) as RuntimeUnavailable", async () => {
    const path = join(tmp(), "dead.sock");
    // Bind without listening, then exit: the socket file stays and connecting is refused.
    execFileSync("python3", [
      "-c",
      `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(path)})`,
    ]);
    const err = await rejection(createRemoteRuntimeService(`unix://${path}`, { connectTimeoutMs: 3000 }));
    expect(err.code).toBe(ErrorCode.RuntimeUnavailable);
    expect(err.message).toMatch(/stopped or still starting|cannot reach/);
  });

  it("reports a socket that does not speak gRPC", async () => {
    const path = join(tmp(), "http.sock");
    const server = createServer((sock) => sock.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
    await new Promise<void>((r) => server.listen(path, r));
    try {
      const err = await rejection(createRemoteRuntimeService(`unix://${path}`, { connectTimeoutMs: 3000 }));
      expect(err.code).toBe(ErrorCode.NotCriRuntime);
      expect(err.message).toContain("does not speak gRPC");
    } finally {
      server.close();
    }
  });

  it("reports a gRPC server without the CRI service as NotCriRuntime", async () => {
    const s = await fake({ withRuntimeService: false, image: {} });
    const err = await rejection(createRemoteRuntimeService(s.endpoint));
    expect(err.code).toBe(ErrorCode.NotCriRuntime);
    expect(err.message).toContain("does not serve the CRI RuntimeService");
  });
});

describe("connect-time version check", () => {
  it("accepts a v1 runtime", async () => {
    const s = await fake({ runtime: { version: () => v1Version } });
    const rt = await createRemoteRuntimeService(s.endpoint);
    expect((await rt.version("0.1.0")).runtimeName).toBe("fake");
    rt.close();
  });

  it("rejects another runtime_api_version, naming what the runtime answered", async () => {
    const s = await fake({ runtime: { version: () => ({ ...v1Version, runtimeApiVersion: "v1alpha2" }) } });
    const err = await rejection(createRemoteRuntimeService(s.endpoint));
    expect(err).toBeInstanceOf(UnsupportedRuntimeApiVersionError);
    expect(err.code).toBe(ErrorCode.UnsupportedRuntimeApiVersion);
    expect(err.message).toContain('"v1alpha2"');
  });

  it("rejects a version other than 0.1.0", async () => {
    const s = await fake({ runtime: { version: () => ({ ...v1Version, version: "0.2.0" }) } });
    expect((await rejection(createRemoteRuntimeService(s.endpoint))).code).toBe(
      ErrorCode.UnsupportedRuntimeApiVersion,
    );
  });

  it("rejects an incomplete Version answer", async () => {
    const s = await fake({ runtime: { version: () => ({ ...v1Version, runtimeName: "" }) } });
    const err = await rejection(createRemoteRuntimeService(s.endpoint));
    expect(err.code).toBe(ErrorCode.InvalidResponse);
    expect(err.message).toContain("runtimeName");
  });
});

describe("calls", () => {
  async function runtimeWith(handlers: Record<string, (req: unknown) => unknown>, requestTimeoutMs?: number) {
    const s = await fake({ runtime: { version: () => v1Version, ...handlers } });
    const rt = await createRemoteRuntimeService(s.endpoint, requestTimeoutMs ? { requestTimeoutMs } : {});
    return rt;
  }

  it("maps NotFound, and keeps it apart from Unavailable and DeadlineExceeded", async () => {
    const rt = await runtimeWith(
      {
        containerStatus: () => {
          throw grpcError(status.NOT_FOUND, 'container "abc" not found');
        },
        listContainers: () => HANG,
      },
      200,
    );
    const nf = await rejection(rt.containerStatus("abc", false));
    expect(nf.code).toBe(ErrorCode.NotFound);
    expect(nf.message).toContain('container "abc" not found');
    const started = Date.now();
    const de = await rejection(rt.listContainers());
    expect(de.code).toBe(ErrorCode.DeadlineExceeded);
    expect(Date.now() - started).toBeLessThan(5000); // it does not hang past the deadline
    rt.close();
  });

  it("cancels a call with an AbortSignal, before and during the call", async () => {
    const rt = await runtimeWith({ listPodSandbox: () => HANG });
    const early = new AbortController();
    early.abort();
    expect((await rejection(rt.listPodSandbox(undefined, { signal: early.signal }))).code).toBe(
      ErrorCode.Cancelled,
    );
    const late = new AbortController();
    const pending = rt.listPodSandbox(undefined, { signal: late.signal });
    setTimeout(() => late.abort(), 20);
    expect((await rejection(pending)).code).toBe(ErrorCode.Cancelled);
    rt.close();
  });

  it("refuses an answer larger than 16 MiB with ResourceExhausted", async () => {
    const big = "x".repeat(1024 * 1024);
    const containers = Array.from({ length: 17 }, (_, i) => ({
      id: `c${i}`,
      podSandboxId: "s",
      labels: { big },
      createdAt: 1n,
    }));
    const rt = await runtimeWith({ listContainers: () => ({ containers }) });
    const err = await rejection(rt.listContainers());
    expect(err.code).toBe(ErrorCode.ResourceExhausted);
    expect(err.message).toContain("larger than");
    rt.close();
  });

  it("validates answers like the kubelet", async () => {
    const rt = await runtimeWith({
      runPodSandbox: () => ({ podSandboxId: "" }),
      containerStatus: () => ({
        status: { id: "c1", metadata: { name: "app" }, createdAt: 5n, image: { image: "busybox" } },
      }),
      status: () => ({ status: { conditions: [{ type: "RuntimeReady", status: true }] } }),
      exec: () => ({ url: "" }),
    });
    const sandbox = await rejection(rt.runPodSandbox({} as never, ""));
    expect(sandbox.code).toBe(ErrorCode.InvalidResponse);
    expect((await rejection(rt.containerStatus("c1", false))).message).toContain("imageRef");
    expect((await rejection(rt.status(false))).message).toContain("NetworkReady");
    expect((await rejection(rt.exec({ containerId: "c1", cmd: ["sh"] }))).message).toContain("streaming URL");
    rt.close();
  });

  it("turns a non-zero exit of ExecSync into CommandExitError and a deadline into CommandTimedOut", async () => {
    const rt = await runtimeWith(
      {
        execSync: (req) => {
          const { cmd } = req as { cmd: string[] };
          if (cmd[0] === "hang") return HANG;
          return { stdout: Buffer.from("out"), stderr: Buffer.from("err"), exitCode: 3 };
        },
      },
      100,
    );
    const exit = await rejection(rt.execSync("c1", ["false"], 0));
    expect(exit).toBeInstanceOf(CommandExitError);
    expect((exit as CommandExitError).exitCode).toBe(3);
    const timedOut = await rejection(rt.execSync("c1", ["hang"], 1));
    expect(timedOut.code).toBe(ErrorCode.CommandTimedOut);
    expect(timedOut.message).toContain("timed out after 1s");
    rt.close();
  });

  it("reports an unimplemented stream as Unimplemented while iterating", async () => {
    const rt = await runtimeWith({});
    const iterate = async () => {
      for await (const _ of rt.getContainerEvents()) break;
    };
    const err = await rejection(iterate());
    expect(err.code).toBe(ErrorCode.Unimplemented);
    expect(err.message).toContain("GetContainerEvents is not implemented");
    rt.close();
  });

  it("rejects calls after close", async () => {
    const rt = await runtimeWith({});
    rt.close();
    expect((await rejection(rt.version("0.1.0"))).code).toBe(ErrorCode.RuntimeUnavailable);
  });
});

describe("image service", () => {
  it("keeps the runtime's plain message for PullImage failures and flags auth failures", async () => {
    const s = await fake({
      withRuntimeService: false,
      image: {
        imageFsInfo: () => ({ imageFilesystems: [], containerFilesystems: [] }),
        pullImage: () => {
          throw grpcError(
            status.UNKNOWN,
            'failed to pull and unpack image "127.0.0.1:5001/busybox:1.36": unexpected status: 401 Unauthorized',
          );
        },
      },
    });
    const images = await createRemoteImageService(s.endpoint);
    const err = await rejection(
      images.pullImage({ image: "127.0.0.1:5001/busybox:1.36" } as never, undefined, undefined),
    );
    expect(err.code).toBe(ErrorCode.Unknown);
    expect(err.message).toMatch(/^failed to pull and unpack image/);
    expect(isRegistryUnauthorized(err)).toBe(true);
    images.close();
  });

  it("does not flag a pull failure that is not about credentials", async () => {
    const s = await fake({
      withRuntimeService: false,
      image: {
        imageFsInfo: () => ({ imageFilesystems: [], containerFilesystems: [] }),
        pullImage: () => {
          throw grpcError(status.UNKNOWN, 'failed to resolve reference "127.0.0.1:5001/none:1": not found');
        },
      },
    });
    const images = await createRemoteImageService(s.endpoint);
    const err = await rejection(
      images.pullImage({ image: "127.0.0.1:5001/none:1" } as never, undefined, undefined),
    );
    expect(err.code).toBe(ErrorCode.Unknown);
    expect(isRegistryUnauthorized(err)).toBe(false);
    images.close();
  });

  it("checks the image service with ImageFsInfo at connect time", async () => {
    const s = await fake({ runtime: { version: () => v1Version } });
    const err = await rejection(createRemoteImageService(s.endpoint));
    expect(err.code).toBe(ErrorCode.NotCriRuntime);
    expect(err.message).toContain("ImageService");
  });
});
