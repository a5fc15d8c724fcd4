import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  AgentApiError,
  AgentUnreachableError,
  apiPath,
  ClientUsageError,
  createAgentClient,
  readClientToken,
} from "../src/client/api-client.js";
import { runClientVerb } from "../src/client/index.js";
import { parseSince } from "../src/client/logs.js";

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks).toString("utf8");
}

type Handler = (url: URL, init: RequestInit | undefined) => Response | Promise<Response>;

async function run(argv: string[], handler: Handler = () => new Response("", { status: 500 })) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = collect(stdout);
  const err = collect(stderr);
  const requests: { url: URL; auth: string | undefined }[] = [];
  const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = (init?.headers ?? {}) as Record<string, string>;
    requests.push({ url, auth: headers.authorization });
    return handler(url, init);
  }) as typeof fetch;
  const code = await runClientVerb(argv, {
    stdout,
    stderr,
    stdin: new PassThrough(),
    signal: new AbortController().signal,
    fetch: fakeFetch,
  });
  return { code, stdout: out(), stderr: err(), requests };
}

const pods = (containers: string[]) =>
  Response.json({
    kind: "PodList",
    items: [
      {
        metadata: { name: "web", namespace: "default" },
        spec: { containers: containers.map((name) => ({ name })) },
      },
    ],
  });

describe("client verb dispatch", () => {
  it("leaves the agent's own command lines alone", async () => {
    expect((await run([])).code).toBeUndefined();
    expect((await run(["--port", "10250"])).code).toBeUndefined();
    expect((await run(["--help"])).code).toBeUndefined();
    expect((await run(["not-a-verb"])).code).toBeUndefined();
  });

  it("lists the verbs with `help` and shows a verb's help", async () => {
    const all = await run(["help"]);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain("logs");
    const one = await run(["help", "logs"]);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain("--since-time");
    expect((await run(["help", "nope"])).code).toBe(2);
    const flag = await run(["logs", "--help"]);
    expect(flag.code).toBe(0);
    expect(flag.stdout).toContain("--token-file");
  });

  it("exits 2 on bad usage, naming the problem", async () => {
    const missing = await run(["logs"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("pod");
    const tail = await run(["logs", "web", "--tail", "abc"]);
    expect(tail.code).toBe(2);
    expect(tail.stderr).toContain("--tail");
    const since = await run(["logs", "web", "--since", "yesterday"]);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain("--since");
    const both = await run([
      "logs",
      "web",
      "-c",
      "c",
      "--since",
      "5m",
      "--since-time",
      "2026-12-02T17:42:19Z",
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--since-time");
    const server = await run(["logs", "web", "-c", "c", "--server", "ftp://x"]);
    expect(server.code).toBe(2);
    expect(server.stderr).toContain("--server");
    const unknown = await run(["logs", "web", "--bogus"]);
    expect(unknown.code).toBe(2);
  });

  it("exits 2 for a token file that cannot be used, naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nodelet-client-"));
    const absent = await run(["logs", "web", "-c", "c", "--token-file", join(dir, "absent")]);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain(join(dir, "absent"));
    await expect(readClientToken(dir)).rejects.toBeInstanceOf(ClientUsageError);
    writeFileSync(join(dir, "empty"), "\n");
    await expect(readClientToken(join(dir, "empty"))).rejects.toThrow(/is empty/);
    writeFileSync(join(dir, "big"), "x".repeat(70_000));
    await expect(readClientToken(join(dir, "big"))).rejects.toBeInstanceOf(ClientUsageError);
  });

  it("sends the token, picks the only container and prints the body", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nodelet-client-"));
    writeFileSync(join(dir, "token"), "s3cret\n");
    const result = await run(
      [
        "logs",
        "web",
        "--tail",
        "2",
        "--timestamps",
        "--token-file",
        join(dir, "token"),
        "--server",
        "http://h:1",
      ],
      (url) => (url.pathname === "/pods" ? pods(["app"]) : new Response("a\nb\n")),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("a\nb\n");
    const logs = result.requests[1];
    expect(logs?.url.pathname).toBe("/containerLogs/default/web/app");
    expect(logs?.url.searchParams.get("tailLines")).toBe("2");
    expect(logs?.url.searchParams.get("timestamps")).toBe("true");
    expect(logs?.url.searchParams.has("follow")).toBe(false);
    expect(logs?.auth).toBe("Bearer s3cret");
  });

  it("lists the containers when the pod has several and -c is missing", async () => {
    const result = await run(["logs", "web"], () => pods(["app", "sidecar"]));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("app, sidecar");
  });

  it("exits 1 with the agent's message on an error answer, and when unreachable", async () => {
    const notFound = await run(
      ["logs", "web", "-c", "x"],
      () => new Response("container x not found\n", { status: 404 }),
    );
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toContain("container x not found");
    const down = await run(["logs", "web", "-c", "x"], () => {
      throw new TypeError("fetch failed", {
        cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      });
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("cannot reach the agent at http://127.0.0.1:10250");
    expect(down.stderr).toContain("ECONNREFUSED");
  });
});

describe("api client", () => {
  it("maps statuses to typed errors", async () => {
    const client = createAgentClient({
      server: "http://h:1/base/",
      fetch: (async () => new Response("denied", { status: 401 })) as unknown as typeof fetch,
    });
    const err = await client.get(apiPath("pods")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentApiError);
    expect((err as AgentApiError).status).toBe(401);
    expect((err as AgentApiError).code).toBe("Unauthenticated");
    expect(new AgentUnreachableError("http://h:1", new Error("x")).message).toContain("http://h:1");
    expect(apiPath("containerLogs", "a b", "c/d")).toBe("/containerLogs/a%20b/c%2Fd");
  });

  it("parses --since like kubectl (whole seconds, rounded up)", () => {
    expect(parseSince("5m")).toBe(300);
    expect(parseSince("1.5s")).toBe(2);
    expect(() => parseSince("500ms")).toThrow(/at least 1s/);
  });
});
