import { mkdtempSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { DASHBOARD_OPEN_PATHS, loadDashboardAssets } from "../src/dashboard/assets.js";
import { BEARER_SUBPROTOCOL_PREFIX, createRequestGuard, sha256 } from "../src/request-guard.js";

function req(url: string, headers: Record<string, string>): IncomingMessage {
  return { url, headers: { host: "127.0.0.1:10250", ...headers } } as unknown as IncomingMessage;
}

const protocol = (token: string) => `${BEARER_SUBPROTOCOL_PREFIX}${Buffer.from(token).toString("base64url")}`;

describe("the dashboard's authentication", () => {
  const guard = createRequestGuard({
    tls: false,
    tokenDigest: sha256("s3cret"),
    openPaths: ["/healthz", ...DASHBOARD_OPEN_PATHS],
  });

  it("serves the page and its files without the token; the API still needs it", () => {
    expect(guard(req("/", {}))).toEqual({ ok: true });
    expect(guard(req("/dashboard/app.js", {}))).toEqual({ ok: true });
    expect(guard(req("/pods", {}))).toMatchObject({ ok: false, status: 401 });
    expect(guard(req("/watch", {}))).toMatchObject({ ok: false, status: 401 });
    expect(guard(req("/dashboard/other.js", {}))).toMatchObject({ ok: false, status: 401 });
  });

  it("takes the token of a WebSocket upgrade from the bearer subprotocol, and only there", () => {
    const upgrade = { upgrade: "websocket", connection: "Upgrade" };
    const good = `v4.channel.k8s.io, ${protocol("s3cret")}`;
    expect(guard(req("/exec/default/p/c", { ...upgrade, "sec-websocket-protocol": good }))).toEqual({
      ok: true,
    });
    expect(
      guard(
        req("/exec/default/p/c", {
          ...upgrade,
          "sec-websocket-protocol": `v4.channel.k8s.io, ${protocol("nope")}`,
        }),
      ),
    ).toMatchObject({ ok: false, status: 401 });
    expect(
      guard(
        req("/exec/default/p/c", { ...upgrade, "sec-websocket-protocol": `${BEARER_SUBPROTOCOL_PREFIX}!!` }),
      ),
    ).toMatchObject({ ok: false, status: 401 });
    // A plain request cannot use the subprotocol header to carry a token.
    expect(guard(req("/pods", { "sec-websocket-protocol": good }))).toMatchObject({ ok: false, status: 401 });
  });
});

describe("dashboard assets", () => {
  it("loads the built files, or nothing when the package was built without them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nodelet-dash-"));
    expect(await loadDashboardAssets([pathToFileURL(`${dir}/`)])).toBeUndefined();
    for (const f of ["index.html", "app.js", "app.css", "xterm.css"])
      writeFileSync(join(dir, f), `/* ${f} */`);
    const assets = await loadDashboardAssets([pathToFileURL(`${dir}/`)]);
    expect(assets?.get("/")?.type).toBe("text/html; charset=utf-8");
    expect(assets?.get("/dashboard/app.js")?.body.toString()).toBe("/* app.js */");
  });
});
