import { createManualClock, ErrorCode } from "@nodelet/runtime-api";
import { describe, expect, it, vi } from "vitest";
import { createManifestUrlSource } from "../src/sources/manifest-url.js";
import type { PodSourceUpdate } from "../src/sources/types.js";
import { fetchWithoutDowngrade, MAX_REDIRECTS, redactUrl } from "../src/sources/url-safety.js";

const POD = JSON.stringify({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web" },
  spec: { containers: [{ name: "web", image: "nginx" }] },
});

function redirect(location: string, status = 302): Response {
  return new Response(null, { status, headers: { location } });
}

describe("redactUrl", () => {
  it("hides user info and query values, keeps the rest", () => {
    expect(redactUrl("https://user:s3cret@example.test:8443/pods?token=abc&x=1")).toBe(
      "https://***@example.test:8443/pods?token=***&x=***",
    );
    expect(redactUrl("http://127.0.0.1:8080/pods")).toBe("http://127.0.0.1:8080/pods");
    expect(redactUrl("not a url")).toBe("<unparsable URL>");
  });
});

describe("fetchWithoutDowngrade", () => {
  it("follows https -> https redirects, refuses https -> http and endless ones", async () => {
    const fetchFn = vi.fn(async (url: string | URL | Request) => {
      const u = String(url);
      if (u.endsWith("/a")) return redirect("/b");
      if (u.endsWith("/b")) return new Response("ok", { status: 200 });
      if (u.endsWith("/down")) return redirect("http://example.test/pods?token=abc", 301);
      return redirect(u); // loops
    }) as unknown as typeof fetch;
    const ok = await fetchWithoutDowngrade(fetchFn, "https://example.test/a", {});
    expect(await ok.text()).toBe("ok");
    await expect(fetchWithoutDowngrade(fetchFn, "https://example.test/down", {})).rejects.toMatchObject({
      code: ErrorCode.InvalidPod,
      message: expect.stringMatching(/redirected from https to http:\/\/example\.test\/pods\?token=\*\*\*/),
    });
    await expect(fetchWithoutDowngrade(fetchFn, "https://example.test/loop", {})).rejects.toThrow(
      `redirected more than ${MAX_REDIRECTS} times`,
    );
  });
});

describe("the manifest URL source's safety", () => {
  function start(url: string, fetchFn: typeof fetch) {
    const lines: unknown[] = [];
    const log = (...args: unknown[]) => lines.push(args);
    const logger = { debug: log, info: log, warn: log, error: log };
    const updates: PodSourceUpdate[] = [];
    const source = createManifestUrlSource({
      url,
      nodeName: "node-a",
      httpCheckFrequencyMs: 60_000,
      fetch: fetchFn,
      clock: createManualClock(0),
      logger,
    });
    source.start((u) => updates.push(u));
    return { lines, updates, source };
  }

  it("warns once about plain http and never logs the URL's secrets", async () => {
    const secretUrl = "http://admin:hunter2@127.0.0.1:1/pods?token=topsecret";
    const fetchFn = vi.fn(async () => new Response("nope", { status: 500 })) as unknown as typeof fetch;
    const { lines, source } = start(secretUrl, fetchFn);
    await vi.waitFor(() => expect(lines.length).toBeGreaterThanOrEqual(2));
    await source.stop();
    const text = JSON.stringify(lines);
    expect(text).toContain("plain http");
    expect(text).toContain("token=***");
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("topsecret");
  });

  it("does not follow an https -> http redirect, and uses a pod behind an https redirect", async () => {
    const fetchFn = vi.fn(async (url: string | URL | Request) =>
      String(url).includes("old") ? redirect("http://example.test/pods") : new Response(POD, { status: 200 }),
    ) as unknown as typeof fetch;
    const down = start("https://example.test/old", fetchFn);
    await vi.waitFor(() => expect(down.lines.length).toBeGreaterThanOrEqual(1));
    await down.source.stop();
    expect(JSON.stringify(down.lines)).toContain("does not follow a redirect to plain http");
    expect(fetchFn).not.toHaveBeenCalledWith("http://example.test/pods", expect.anything());
    expect(down.updates).toEqual([]);

    const fine = vi.fn(async (url: string | URL | Request) =>
      String(url).endsWith("/moved")
        ? redirect("https://example.test/pods")
        : new Response(POD, { status: 200 }),
    ) as unknown as typeof fetch;
    const up = start("https://example.test/moved", fine);
    await vi.waitFor(() => expect(up.updates).toHaveLength(1));
    await up.source.stop();
    expect(up.updates[0]?.pods.map((p) => p.metadata.name)).toEqual(["web-node-a"]);
  });
});
