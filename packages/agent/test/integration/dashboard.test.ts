// The dashboard in a real browser: Debian's Chromium (installed by testenv) driven by
// playwright-core, against an agent on containerd. Every wait is on a DOM condition with a
// generous deadline; nothing sleeps.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allRunning,
  closeAgentSuite,
  type Dirs,
  NODE_NAME,
  openAgentSuite,
  podManifest,
  RUN_UNTIL_TERM,
  type RunningAgent,
  type RuntimeHarness,
  writeManifest,
} from "./support.js";

const CHROMIUM = "/usr/lib/chromium/chromium";
// The test artifact goes under the repository's .state/ (ignored); NODELET_UPDATE_SCREENSHOT=1
// writes the README's copy in docs/ instead, so a test run never dirties the tree.
const HERE = dirname(fileURLToPath(import.meta.url));
const SCREENSHOT = process.env.NODELET_UPDATE_SCREENSHOT
  ? resolve(HERE, "../../docs/dashboard-pod-view.png")
  : resolve(HERE, "../../../../.state/test-artifacts/dashboard-pod-view.png");
const WAIT = { timeout: 60_000 };

let h: RuntimeHarness;
let dirs: Dirs;
let agent: RunningAgent;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const LOGGER = `dash-log-${NODE_NAME}`;

beforeAll(async () => {
  ({ h, dirs, agent } = await openAgentSuite("dashboard"));
  await writeManifest(
    h.env,
    dirs.manifests,
    "dash-log.yaml",
    podManifest("dash-log", [
      {
        name: "main",
        command: [
          "sh",
          "-c",
          "trap 'exit 0' TERM; i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.5; done",
        ],
      },
      { name: "side", command: RUN_UNTIL_TERM },
    ]),
  );
  await agent.api.waitForPod("dash-log", "running", allRunning, 60_000);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: testenv up installs Debian's chromium`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As root in a container, Chromium's sandbox cannot start.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
    timeout: 60_000,
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.setDefaultTimeout(60_000);
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(msg.text());
  });
  page.on("pageerror", (err) => consoleErrors.push(String(err)));
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await closeAgentSuite(agent, h);
});

describe("the dashboard", () => {
  it("shows the pods table, and a new manifest's pod appears without a reload", async () => {
    await page.goto(`${agent.api.baseUrl}/`);
    await page.waitForSelector(`#pods a:text-is("${LOGGER}")`, WAIT);
    const row = page.locator(`#pods tr[data-pod="default/${LOGGER}"]`);
    await expect.poll(async () => (await row.textContent()) ?? "", { timeout: 60_000 }).toMatch(/Running/);
    // A marker on the window survives only if the page is never reloaded.
    // (Expressions as text: this file is typed for Node, the page's globals are not in scope.)
    await page.evaluate("window.marker = 42");
    await writeManifest(
      h.env,
      dirs.manifests,
      "dash-new.yaml",
      podManifest("dash-new", [{ name: "main", command: RUN_UNTIL_TERM }]),
    );
    await page.waitForSelector(`#pods a:text-is("dash-new-${NODE_NAME}")`, WAIT);
    expect(await page.evaluate("window.marker")).toBe(42);
  });

  it("opens a pod's view: containers, events, and a log tail that follows", async () => {
    await page.click(`#pods a:text-is("${LOGGER}")`);
    await page.waitForSelector('h2:has-text("Pod dash-log")', WAIT);
    await page.waitForSelector('article[aria-label="Container main"]', WAIT);
    await page.waitForSelector('#pod-events td:text-is("Started")', WAIT);
    const log = page.locator("#log-output");
    await expect.poll(async () => (await log.textContent()) ?? "", { timeout: 60_000 }).toMatch(/tick-\d+/);
    const last = (text: string) => Math.max(...[...text.matchAll(/tick-(\d+)/g)].map((m) => Number(m[1])));
    const first = last((await log.textContent()) ?? "");
    // Following: lines written after the tail opened arrive without any action.
    await expect
      .poll(async () => last((await log.textContent()) ?? ""), { timeout: 60_000 })
      .toBeGreaterThan(first + 2);
  });

  it("runs a command typed in the terminal and prints its output", async () => {
    await page.click("#exec-open");
    await page.waitForSelector("#terminal .xterm-rows", WAIT);
    await page.click("#terminal .xterm-screen");
    // Typed at once: keys typed while the socket connects are sent when it opens.
    await page.keyboard.type("echo answer-$((6*7))\r");
    await page.waitForSelector('#terminal .xterm-rows:has-text("answer-42")', WAIT);
    await mkdir(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it("shows node facts: the runtime and its images", async () => {
    await page.click("#nav-node");
    await page.waitForSelector('#node-images td:has-text("busybox")', WAIT);
    await page.waitForSelector('#node-health td:text-is("pleg")', WAIT);
    expect(await page.locator("dl.facts").first().textContent()).toMatch(/containerd/);
  });

  it("works from the keyboard and fits a small screen", async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.click("#nav-pods");
    const link = page.locator(`#pods a:text-is("${LOGGER}")`);
    await link.waitFor(WAIT);
    await link.focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector('h2:has-text("Pod dash-log")', WAIT);
    // Nothing wider than the screen but the tables and logs, which scroll inside their own boxes.
    const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(1);
    for (const id of ["log-container", "exec-container"]) {
      expect(await page.locator(`label[for="${id}"]`).count()).toBe(1);
    }
  });

  it("logged no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
