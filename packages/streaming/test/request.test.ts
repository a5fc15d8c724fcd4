import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { exitCodeFromStatus, isStreamingError, StreamingErrorCode } from "../src/index.js";
import { negotiate } from "../src/server/negotiate.js";
import { parseStreamingRequest, StreamingHttpError } from "../src/server/request.js";

const parse = (path: string) => parseStreamingRequest(new URL(path, "http://agent"));
const httpError = (fn: () => unknown): StreamingHttpError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof StreamingHttpError) return err;
    throw err;
  }
  throw new Error("no error");
};

describe("the endpoints' paths and parameters", () => {
  it("parses exec with the kubelet's parameter names and the stdin/stdout/stderr aliases", () => {
    expect(
      parse("/exec/ns/pod/c?command=sh&command=-c&command=echo%20hi&input=1&output=true&error=1"),
    ).toEqual({
      kind: "exec",
      target: { namespace: "ns", pod: "pod", container: "c" },
      command: ["sh", "-c", "echo hi"],
      stdin: true,
      stdout: true,
      stderr: true,
      tty: false,
    });
    expect(parse("/exec/ns/pod/c?command=ls&stdout=1&stderr=1")).toMatchObject({
      stdout: true,
      stderr: true,
    });
  });

  it("turns a flag on only for 1 or true, and drops stderr with a tty", () => {
    expect(parse("/attach/ns/pod/c?output=1&tty=false&error=0")).toMatchObject({ tty: false, stderr: false });
    expect(parse("/attach/ns/pod/c?output=1&error=1&tty=1")).toMatchObject({
      tty: true,
      stderr: false,
      stdout: true,
    });
  });

  it("answers 400 naming what is missing", () => {
    expect(httpError(() => parse("/exec/ns/pod/c?output=1")).message).toMatch(/command/);
    expect(httpError(() => parse("/exec/ns/pod/c?command=ls")).message).toMatch(/stdin, stdout, stderr/);
    expect(httpError(() => parse("/portForward/ns/pod?port=http")).message).toMatch(/port: "http"/);
    expect(httpError(() => parse("/portForward/ns/pod?port=70000")).status).toBe(400);
  });

  it("answers 404 for a path that is not an endpoint", () => {
    expect(httpError(() => parse("/exec/ns/pod")).status).toBe(404);
    expect(httpError(() => parse("/portForward/ns")).status).toBe(404);
  });

  it("parses port-forward with its ports", () => {
    expect(parse("/portForward/ns/pod?port=80&port=8080")).toEqual({
      kind: "portForward",
      target: { namespace: "ns", pod: "pod" },
      ports: [80, 8080],
    });
  });
});

describe("protocol negotiation", () => {
  const req = (headers: Record<string, string | string[]>, method = "GET") =>
    ({ headers, method }) as unknown as IncomingMessage;
  /** A valid WebSocket handshake's own headers. */
  const handshake = { "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" };
  const spdy = ["v4.channel.k8s.io"];
  const ws = ["v5.channel.k8s.io", "v4.channel.k8s.io", "v4.base64.channel.k8s.io"];

  it("picks the first protocol in the client's list that the agent speaks", () => {
    expect(
      negotiate(
        req({
          upgrade: "websocket",
          "sec-websocket-protocol": "v4.base64.channel.k8s.io, v5.channel.k8s.io",
          ...handshake,
        }),
        spdy,
        ws,
      ),
    ).toEqual({ transport: "websocket", protocol: "v4.base64.channel.k8s.io" });
    expect(
      negotiate(
        req({ upgrade: "SPDY/3.1", "x-stream-protocol-version": ["v5.channel.k8s.io", "v4.channel.k8s.io"] }),
        spdy,
        ws,
      ),
    ).toEqual({ transport: "spdy", protocol: "v4.channel.k8s.io" });
  });

  it("answers 403 with the accepted versions, 400 without a version or an upgrade", () => {
    const refused = httpError(() =>
      negotiate(req({ upgrade: "SPDY/3.1", "x-stream-protocol-version": "v9" }), spdy, ws),
    );
    expect(refused.status).toBe(403);
    expect(refused.headers["X-Accepted-Stream-Protocol-Versions"]).toBe("v4.channel.k8s.io");
    expect(httpError(() => negotiate(req({ upgrade: "SPDY/3.1" }), spdy, ws)).status).toBe(400);
    expect(httpError(() => negotiate(req({}), spdy, ws)).message).toMatch(/Upgrade request required/);
    expect(
      httpError(() =>
        negotiate(req({ upgrade: "websocket", "sec-websocket-protocol": "chat", ...handshake }), spdy, ws),
      ).status,
    ).toBe(403);
  });

  it("checks the WebSocket handshake itself before anything else", () => {
    const offer = { upgrade: "websocket", "sec-websocket-protocol": "v5.channel.k8s.io" };
    const post = httpError(() => negotiate(req({ ...offer, ...handshake }, "POST"), spdy, ws));
    expect(post.status).toBe(405);
    expect(post.headers.Allow).toBe("GET");
    const version = httpError(() =>
      negotiate(req({ ...offer, ...handshake, "sec-websocket-version": "8" }), spdy, ws),
    );
    expect(version.status).toBe(426);
    expect(version.headers["Sec-WebSocket-Version"]).toBe("13");
    expect(version.message).toMatch(/Sec-WebSocket-Version "8" is not supported: use 13/);
    for (const key of ["", "short==", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZR=="]) {
      const bad = httpError(() =>
        negotiate(req({ ...offer, ...handshake, "sec-websocket-key": key }), spdy, ws),
      );
      expect(bad.status).toBe(400);
      expect(bad.message).toMatch(/Sec-WebSocket-Key must be 16 bytes in base64/);
    }
  });
});

describe("the status channel", () => {
  it("reads Success, NonZeroExitCode and other failures", () => {
    expect(exitCodeFromStatus('{"metadata":{},"status":"Success"}')).toBe(0);
    expect(
      exitCodeFromStatus(
        JSON.stringify({
          status: "Failure",
          reason: "NonZeroExitCode",
          details: { causes: [{ reason: "ExitCode", message: "3" }] },
        }),
      ),
    ).toBe(3);
    let err: unknown;
    try {
      exitCodeFromStatus(
        JSON.stringify({ status: "Failure", reason: "InternalError", message: "no such file" }),
      );
    } catch (e) {
      err = e;
    }
    expect(isStreamingError(err, StreamingErrorCode.ExecFailed)).toBe(true);
    expect((err as Error).message).toBe("no such file");
    expect(() => exitCodeFromStatus("command terminated with non-zero exit code")).toThrow(/non-zero/);
  });
});
