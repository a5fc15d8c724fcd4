import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ErrorCode } from "@nodelet/runtime-api";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createManifestUrlSource } from "../src/sources/manifest-url.js";
import type { PodSource, PodSourceUpdate } from "../src/sources/types.js";
import { ConfigAnnotation } from "../src/static-pod.js";

interface Reply {
  status?: number;
  body: string | Buffer;
  type?: string;
}

let server: Server;
let url: string;
let reply: Reply;
let requests = 0;
const sources: PodSource[] = [];

beforeEach(async () => {
  requests = 0;
  server = createServer((_req, res) => {
    requests++;
    res.writeHead(reply.status ?? 200, {
      "content-type": reply.type ?? "application/json",
      "content-length": Buffer.byteLength(reply.body),
    });
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pods`;
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function pod(name: string, image = "nginx:1.27"): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: { containers: [{ name: "app", image }] },
  };
}

function start(options: Partial<Parameters<typeof createManifestUrlSource>[0]> = {}) {
  const source = createManifestUrlSource({ url, nodeName: "node-a", httpCheckFrequencyMs: 40, ...options });
  sources.push(source);
  const updates: PodSourceUpdate[] = [];
  source.start((update) => updates.push(update));
  return {
    source,
    updates,
    names: () => updates.at(-1)?.pods.map((p) => p.metadata.name),
  };
}

const waitFor = <T>(check: () => T): Promise<T> => vi.waitFor(check, { timeout: 3000, interval: 10 });

describe("createManifestUrlSource", () => {
  it("reads a single Pod in JSON, with the http identity", async () => {
    reply = { body: JSON.stringify(pod("web")) };
    const s = start();
    await waitFor(() => expect(s.updates).toHaveLength(1));
    const update = s.updates[0] as PodSourceUpdate;
    expect(update.source).toBe("http");
    expect(update.errors).toEqual([]);
    expect(s.names()).toEqual(["web-node-a"]);
    expect(update.pods[0]?.metadata.annotations?.[ConfigAnnotation.source]).toBe("http");
  });

  it("reads a v1 PodList in YAML", async () => {
    reply = {
      type: "application/yaml",
      body: `apiVersion: v1
kind: PodList
items:
- metadata:
    name: one
  spec:
    containers:
    - name: app
      image: busybox:1
- metadata:
    name: two
    namespace: tools
  spec:
    containers:
    - name: app
      image: busybox:1
`,
    };
    const s = start();
    await waitFor(() => expect(s.names()).toEqual(["one-node-a", "two-node-a"]));
    expect(s.updates[0]?.pods[1]?.metadata.namespace).toBe("tools");
  });

  it("reads a single Pod in YAML and a PodList in JSON", async () => {
    reply = {
      body: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: y\nspec:\n  containers:\n  - name: c\n    image: x:1\n",
    };
    const s = start();
    await waitFor(() => expect(s.names()).toEqual(["y-node-a"]));
    reply = { body: JSON.stringify({ apiVersion: "v1", kind: "PodList", items: [pod("a"), pod("b")] }) };
    await waitFor(() => expect(s.names()).toEqual(["a-node-a", "b-node-a"]));
  });

  it("polls every httpCheckFrequency and follows changes", async () => {
    reply = { body: JSON.stringify(pod("web")) };
    const s = start();
    await waitFor(() => expect(s.updates).toHaveLength(1));
    const uid = s.updates[0]?.pods[0]?.metadata.uid;
    reply = { body: JSON.stringify(pod("web", "nginx:1.28")) };
    await waitFor(() => expect(s.updates.at(-1)?.pods[0]?.metadata.uid).not.toBe(uid));
    expect(requests).toBeGreaterThanOrEqual(2);
  });

  it("keeps the last good set on an HTTP error, reporting it", async () => {
    reply = { body: JSON.stringify(pod("web")) };
    const s = start();
    await waitFor(() => expect(s.updates).toHaveLength(1));
    const good = s.updates[0]?.pods;
    reply = { status: 500, body: "boom" };
    await waitFor(() => expect(s.updates.at(-1)?.errors).toHaveLength(1));
    const update = s.updates.at(-1) as PodSourceUpdate;
    expect(update.pods).toBe(good);
    expect(update.errors[0]?.origin).toBe(url);
    expect(update.errors[0]?.error.message).toBe(`${url} answered HTTP 500 Internal Server Error`);

    reply = {
      body: JSON.stringify({ apiVersion: "v1", kind: "PodList", items: [pod("ok"), { metadata: {} }] }),
    };
    await waitFor(() => expect(s.updates.at(-1)?.errors[0]?.error.message).toContain("invalid items"));
    expect(s.updates.at(-1)?.pods).toBe(good);
    expect(s.updates.at(-1)?.errors[0]?.error.message).toContain(
      "items[1]: invalid pod: metadata.name: is required: a static pod needs a name",
    );
    expect(s.updates.at(-1)?.errors[0]?.error.code).toBe(ErrorCode.InvalidPod);

    reply = { body: JSON.stringify(pod("back")) };
    await waitFor(() => expect(s.names()).toEqual(["back-node-a"]));
    expect(s.updates.at(-1)?.errors).toEqual([]);
  });

  it("is not ready until the first usable answer", async () => {
    reply = { status: 404, body: "" };
    const errors: string[] = [];
    const s = start({
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: (obj) => errors.push(String((obj as { err?: unknown }).err)),
      },
    });
    await waitFor(() => expect(requests).toBeGreaterThanOrEqual(3));
    expect(s.updates).toEqual([]);
    expect(errors).toEqual([`${url} answered HTTP 404 Not Found`]);
    reply = { body: "" };
    await waitFor(() => expect(s.updates).toHaveLength(1));
    expect(s.updates[0]).toEqual({ source: "http", pods: [], errors: [] });
  });

  it("reports an unreachable URL", async () => {
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, "127.0.0.1", resolve));
    const port = (spare.address() as AddressInfo).port;
    await new Promise((resolve) => spare.close(resolve));
    const closed = `http://127.0.0.1:${port}/pods`;
    const errors: string[] = [];
    start({
      url: closed,
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: (obj) => errors.push(String((obj as { err?: unknown }).err)),
      },
    });
    await waitFor(() => expect(errors).toHaveLength(1));
    expect(errors[0]).toMatch(new RegExp(`^${closed} cannot be fetched: ECONNREFUSED`));
  });

  it("refuses another kind, several documents and deep nesting, without an update", async () => {
    const failing = async (body: string, expected: string) => {
      const updates: PodSourceUpdate[] = [];
      const errors: string[] = [];
      const source = createManifestUrlSource({
        url,
        nodeName: "n",
        httpCheckFrequencyMs: 1000,
        fetch: async () => new Response(body),
        logger: {
          debug: () => undefined,
          info: () => undefined,
          warn: () => undefined,
          error: (obj) => errors.push(String((obj as { err?: unknown }).err)),
        },
      });
      sources.push(source);
      source.start((u) => updates.push(u));
      await waitFor(() => expect(errors).toHaveLength(1));
      expect(updates).toEqual([]);
      expect(errors[0]).toContain(expected);
    };
    await failing(
      JSON.stringify({ apiVersion: "apps/v1", kind: "Deployment" }),
      `${url}: kind "Deployment" is not supported: nodelet runs Pod and PodList manifests`,
    );
    await failing(
      `${JSON.stringify(pod("a"))}\n---\n${JSON.stringify(pod("b"))}`,
      "answered 2 YAML documents",
    );
    await failing(`x: ${"[".repeat(100_000)}`, "nesting is deeper than 100 levels");
    await failing(JSON.stringify({ apiVersion: "v1", kind: "PodList", items: {} }), "items is not a list");
  });

  it("stops reading a body beyond the limit", async () => {
    reply = { body: JSON.stringify(pod("web")) };
    const errors: string[] = [];
    const chunked = createManifestUrlSource({
      url,
      nodeName: "n",
      httpCheckFrequencyMs: 1000,
      maxBytes: 1024,
      fetch: async () => {
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.enqueue(new Uint8Array(512).fill(0x20));
          },
        });
        return new Response(stream);
      },
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: (obj) => errors.push(String((obj as { err?: unknown }).err)),
      },
    });
    sources.push(chunked);
    chunked.start(() => undefined);
    await waitFor(() => expect(errors).toHaveLength(1));
    expect(errors[0]).toBe(`${url} answered more than 1 KiB; the limit is that size`);

    const big: string[] = [];
    reply = { body: Buffer.alloc(4096, 0x20) };
    const declared = createManifestUrlSource({
      url,
      nodeName: "n",
      httpCheckFrequencyMs: 1000,
      maxBytes: 1024,
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: (obj) => big.push(String((obj as { err?: unknown }).err)),
      },
    });
    sources.push(declared);
    declared.start(() => undefined);
    await waitFor(() => expect(big).toHaveLength(1));
    expect(big[0]).toBe(`${url} answered 4 KiB; the limit is 1 KiB`);
  });

  it("gives up on a slow answer after the timeout, and stop() aborts a request in flight", async () => {
    const errors: string[] = [];
    const hanging = createManifestUrlSource({
      url,
      nodeName: "n",
      httpCheckFrequencyMs: 1000,
      timeoutMs: 50,
      fetch: (_input, init) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
        }),
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: (obj) => errors.push(String((obj as { err?: unknown }).err)),
      },
    });
    sources.push(hanging);
    hanging.start(() => undefined);
    await waitFor(() => expect(errors).toHaveLength(1));
    expect(errors[0]).toBe(`${url} cannot be fetched: no answer within 50 ms`);

    const never = createManifestUrlSource({
      url,
      nodeName: "n",
      httpCheckFrequencyMs: 1000,
      fetch: (_input, init) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
        }),
    });
    const updates: PodSourceUpdate[] = [];
    never.start((u) => updates.push(u));
    const started = Date.now();
    await never.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(updates).toEqual([]);
  });
});
