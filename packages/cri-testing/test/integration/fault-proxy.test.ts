// The fault proxy in front of real containerd: faults show up as cri-remote's typed errors, rules
// change while it runs, and the cri-faults CLI reloads its rules file on change and on SIGHUP.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ImageSpec } from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import { ErrorCode, type NodeletError } from "@nodelet/runtime-api";
import { readTestEnv } from "@nodelet/testenv";
import { afterEach, describe, expect, it } from "vitest";
import { createFaultProxy } from "../../src/index.js";

const cli = resolve(dirname(fileURLToPath(import.meta.url)), "../../dist/cli.js");
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as NodeletError,
  );
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("the fault proxy in front of containerd", () => {
  it("turns a rule into cri-remote's typed error, and rules change while it runs", async () => {
    const env = await readTestEnv();
    const listen = join(mkdtempSync(join(tmpdir(), "nodelet-proxy-")), "cri.sock");
    const proxy = await createFaultProxy({ listen, upstream: env.criEndpoint });
    const runtime = await createRemoteRuntimeService(proxy.endpoint);
    const images = await createRemoteImageService(proxy.endpoint);
    cleanups.push(
      () => proxy.close(),
      () => runtime.close(),
      () => images.close(),
    );

    expect((await runtime.version("0.1.0")).runtimeName).toBe("containerd");
    proxy.setRules([{ method: "ListContainers", code: "DEADLINE_EXCEEDED" }]);
    expect((await rejection(runtime.listContainers()))?.code).toBe(ErrorCode.DeadlineExceeded);
    proxy.setRules([{ method: "PullImage", code: "UNKNOWN", message: "failed to pull: 401 Unauthorized" }]);
    await runtime.listContainers();
    const pull = await rejection(
      images.pullImage(ImageSpec.fromPartial({ image: env.images.busybox }), undefined, undefined),
    );
    expect(pull?.code).toBe(ErrorCode.Unknown);
    expect(pull?.message).toBe("failed to pull: 401 Unauthorized");
    proxy.setRules([]);
    expect(
      await images.pullImage(ImageSpec.fromPartial({ image: env.images.busybox }), undefined, undefined),
    ).toMatch(/^sha256:/);
  });
});

describe("the cri-faults CLI", () => {
  function start(args: string[]): { child: ChildProcess; endpoint: Promise<string>; stderr: () => string } {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    cleanups.push(() => child.exitCode === null && child.kill("SIGTERM"));
    let err = "";
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const endpoint = new Promise<string>((res, rej) => {
      child.stdout?.once("data", (d: Buffer) => res(d.toString().trim()));
      child.once("exit", (code) => rej(new Error(`cri-faults exited with ${code}: ${err}`)));
    });
    return { child, endpoint, stderr: () => err };
  }

  it("serves, and reloads its rules file on change and on SIGHUP, keeping the old rules on a bad file", async () => {
    const env = await readTestEnv();
    const work = mkdtempSync(join(tmpdir(), "nodelet-cri-faults-"));
    const rules = join(work, "rules.yaml");
    writeFileSync(rules, "rules: []\n");
    const proc = start([
      "--listen",
      `unix://${join(work, "cri.sock")}`,
      "--upstream",
      env.criEndpoint,
      "--rules",
      rules,
    ]);
    const runtime = await createRemoteRuntimeService(await proc.endpoint);
    cleanups.push(() => runtime.close());
    await runtime.status(false);

    writeFileSync(rules, "rules:\n  - method: Status\n    code: UNAVAILABLE\n");
    await waitFor(
      "the changed file to apply",
      async () => (await rejection(runtime.status(false)))?.code === ErrorCode.RuntimeUnavailable,
    );

    writeFileSync(rules, "rules:\n  - method: Status\n    code: NOPE\n");
    await waitFor("the bad file to be reported", async () =>
      /keeping the previous rules: .*rules\[0\]\.code/.test(proc.stderr()),
    );
    expect((await rejection(runtime.status(false)))?.code).toBe(ErrorCode.RuntimeUnavailable);

    // A change the watcher may miss (same size, same second) is picked up on SIGHUP.
    writeFileSync(rules, "rules: []\n");
    proc.child.kill("SIGHUP");
    await waitFor("SIGHUP to reload", async () => (await rejection(runtime.status(false))) === undefined);
  });

  it("exits 2 with a message on bad flags or a bad rules file", async () => {
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [cli, ...args]).then(
        () => ({ code: 0, stderr: "" }),
        (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
      );
    const bogus = await run([
      "--listen",
      "unix:///tmp/x.sock",
      "--upstream",
      "unix:///tmp/y.sock",
      "--bogus",
    ]);
    expect(bogus).toMatchObject({ code: 2 });
    expect(bogus.stderr).toMatch(/^cri-faults: unknown option '--bogus'; run cri-faults --help/);
    expect((await run(["--upstream", "unix:///tmp/y.sock"])).stderr).toMatch(/--listen/);
    const rules = join(mkdtempSync(join(tmpdir(), "nodelet-cri-faults-")), "rules.yaml");
    writeFileSync(rules, "rules:\n  - method: X\n    probability: 3\n");
    const bad = await run([
      "--listen",
      "unix:///tmp/x.sock",
      "--upstream",
      "unix:///tmp/y.sock",
      "--rules",
      rules,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${rules}: rules[0].probability`);
  });
});
