import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
}

export interface BodyOutcome {
  /** Whether the whole body was written before the connection closed. */
  finished: boolean;
}

export interface HookServer {
  port: number;
  requests: SeenRequest[];
  /** Settles when the response to `path` closes (the client read it all, or hung up). */
  bodyOutcome(path: string): Promise<BodyOutcome>;
  /** Resolves with the first request to `path` once it arrives. */
  waitFor(path: string): Promise<SeenRequest>;
  /** TLS handshakes that reached the server as plain HTTP (answered 400 by Node). */
  clientErrors: number;
  close(): Promise<void>;
}

const BIG = 1024 * 1024;

/**
 * A hook and probe endpoint on 127.0.0.1: "/" 200 "ok", "/status500" ("boom"), "/status404", "/big"
 * (endless, chunked), "/big-declared" (1 GiB Content-Length), "/small" (5 KiB), "/redirect" (302 to
 * /target), "/loop" (302 to itself), "/elsewhere" (302 to another host, body "gone elsewhere"),
 * "/slow" (never answers), "/hangup" (drops the socket).
 */
export async function startHookServer(tls?: { key: Buffer; cert: Buffer }): Promise<HookServer> {
  const requests: SeenRequest[] = [];
  const outcomes = new Map<string, Promise<BodyOutcome>>();
  const outcomeResolvers = new Map<string, (o: BodyOutcome) => void>();
  const waiters = new Map<string, Array<(r: SeenRequest) => void>>();
  const pathOf = (url: string) => url.split("?")[0] ?? url;
  function outcome(path: string): Promise<BodyOutcome> {
    let p = outcomes.get(path);
    if (!p) {
      p = new Promise((resolve) => outcomeResolvers.set(path, resolve));
      outcomes.set(path, p);
    }
    return p;
  }

  const handler: http.RequestListener = (req, res) => {
    const seen = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      rawHeaders: req.rawHeaders,
    };
    requests.push(seen);
    const path = pathOf(seen.url);
    for (const w of waiters.get(path) ?? []) w(seen);
    waiters.delete(path);
    outcome(path);
    res.on("close", () => outcomeResolvers.get(path)?.({ finished: res.writableFinished }));
    res.on("error", () => {});
    switch (path) {
      case "/status500":
        res.writeHead(500).end("boom");
        return;
      case "/status404":
        res.writeHead(404).end("no such page");
        return;
      case "/big":
      case "/big-declared": {
        // Endless (or 1 GiB declared): only a client that stops reading lets the hook finish.
        res.writeHead(200, path === "/big-declared" ? { "content-length": String(1024 * BIG) } : {});
        const chunk = Buffer.alloc(16 * 1024, "x");
        const pump = () => {
          while (!res.destroyed && !res.writableEnded) {
            if (!res.write(chunk)) {
              res.once("drain", pump);
              return;
            }
          }
        };
        pump();
        return;
      }
      case "/small":
        res.writeHead(200).end(Buffer.alloc(5 * 1024, "s"));
        return;
      case "/redirect":
        res.writeHead(302, { location: "/target" }).end("moved");
        return;
      case "/loop":
        res.writeHead(302, { location: "/loop" }).end();
        return;
      case "/elsewhere":
        res.writeHead(302, { location: "http://other.invalid/x" }).end("gone elsewhere");
        return;
      case "/slow":
        return;
      case "/hangup":
        req.socket.destroy();
        return;
      default:
        res.writeHead(200).end("ok");
    }
  };

  const server = tls
    ? https.createServer({ key: tls.key, cert: tls.cert }, handler)
    : http.createServer(handler);
  const state = { clientErrors: 0 };
  server.on("clientError", (_err, socket) => {
    state.clientErrors++;
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    requests,
    bodyOutcome: outcome,
    waitFor(path) {
      const found = requests.find((r) => pathOf(r.url) === path);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => {
        const list = waiters.get(path) ?? [];
        list.push(resolve);
        waiters.set(path, list);
      });
    },
    get clientErrors() {
      return state.clientErrors;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI. */
export function selfSignedCert(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "nodelet-lifecycle-tls-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
