import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContainerConfig, ImageSpec, PodSandboxConfig } from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import { ErrorCode, isNodeletError, type NodeletError } from "@nodelet/runtime-api";
import { afterEach, describe, expect, it } from "vitest";
import { createFakeRuntime, createFaultProxy, loadFaultRules, parseFaultProxyFlags } from "../src/index.js";

const dir = () => mkdtempSync(join(tmpdir(), "cri-faults-test-"));
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as NodeletError,
  );
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The fake on a socket, the proxy in front of it, and cri-remote clients of the proxy. */
async function stack(rules: Parameters<typeof createFaultProxy>[0]["rules"] = [], random?: () => number) {
  const fake = createFakeRuntime();
  const server = await fake.serve();
  const proxy = await createFaultProxy({
    listen: `unix://${join(dir(), "proxy.sock")}`,
    upstream: server.endpoint,
    rules,
    random,
  });
  const runtime = await createRemoteRuntimeService(proxy.endpoint);
  const images = await createRemoteImageService(proxy.endpoint);
  cleanups.push(
    () => server.close(),
    () => proxy.close(),
    () => runtime.close(),
    () => images.close(),
  );
  return { fake, proxy, runtime, images };
}

describe("createFaultProxy", () => {
  it("injects an error by method glob, seen as cri-remote's typed error; setRules changes it live", async () => {
    const { proxy, runtime, images } = await stack([
      { method: "*PodSandbox", code: "UNAVAILABLE", message: "down" },
    ]);
    const err = await rejection(runtime.listPodSandbox());
    expect(err?.code).toBe(ErrorCode.RuntimeUnavailable);
    expect(err?.message).toContain("down");
    await runtime.listContainers(); // not matched: forwarded

    proxy.setRules([{ method: "ImageService/PullImage", code: "UNKNOWN", message: "401 Unauthorized" }]);
    await runtime.listPodSandbox();
    const pull = await rejection(
      images.pullImage(ImageSpec.fromPartial({ image: "x/y:1" }), undefined, undefined),
    );
    expect(pull?.code).toBe(ErrorCode.Unknown);
    expect(pull?.message).toBe("401 Unauthorized");
    proxy.setRules([]);
    expect(await images.pullImage(ImageSpec.fromPartial({ image: "x/y:1" }), undefined, undefined)).toMatch(
      /^sha256:/,
    );
    expect(() => proxy.setRules([{ method: "", code: "NOPE" } as never])).toThrow(/rules\[0\]\.method/);
  });

  it("applies a rule with the probability given, using the injected dice", async () => {
    const rolls = [0.1, 0.9];
    const { runtime } = await stack(
      [{ method: "Status", probability: 0.5, code: "INTERNAL" }],
      () => rolls.shift() ?? 0,
    );
    expect((await rejection(runtime.status(false)))?.code).toBe(ErrorCode.Internal);
    await runtime.status(false);
  });

  it("delays a call and lets the client's deadline fire", async () => {
    const { runtime } = await stack([{ method: "Version", delayMs: 300 }]);
    const started = Date.now();
    await runtime.version("0.1.0");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect((await rejection(runtime.version("0.1.0", { timeoutMs: 50 })))?.code).toBe(
      ErrorCode.DeadlineExceeded,
    );
  });

  it("drops a server stream after N messages", async () => {
    const { fake, runtime } = await stack([{ method: "GetContainerEvents", dropAfter: 2 }]);
    fake.addImage({ image: "img:1" });
    const config = PodSandboxConfig.fromPartial({ metadata: { name: "p", namespace: "n", uid: "u" } });
    const sandboxId = await fake.runPodSandbox(config, "");
    const seen: number[] = [];
    const reading = (async () => {
      for await (const e of runtime.getContainerEvents()) seen.push(e.containerEventType);
    })().catch((e: unknown) => e as NodeletError);
    await new Promise((r) => setTimeout(r, 100));
    const id = await fake.createContainer(
      sandboxId,
      ContainerConfig.fromPartial({ metadata: { name: "c" }, image: { image: "img:1" } }),
      config,
    );
    await fake.startContainer(id);
    await fake.stopContainer(id, 0);
    const err = await reading;
    expect(seen).toHaveLength(2);
    expect(isNodeletError(err, ErrorCode.RuntimeUnavailable)).toBe(true);
    expect(err?.message).toMatch(/dropped GetContainerEvents after 2 messages/);
  });

  it("forwards the upstream's own errors unchanged", async () => {
    const { runtime } = await stack();
    const err = await rejection(runtime.containerStatus("nope", false));
    expect(err?.code).toBe(ErrorCode.NotFound);
    expect(err?.message).toBe(
      'ContainerStatus: an error occurred when try to find container "nope": not found',
    );
  });

  it("refuses endpoints that are not unix sockets", async () => {
    await expect(
      createFaultProxy({ listen: "tcp://127.0.0.1:1", upstream: "/x.sock" }),
    ).rejects.toMatchObject({
      code: ErrorCode.InvalidEndpoint,
    });
  });
});

describe("rules files", () => {
  const write = (text: string) => {
    const path = join(dir(), "rules.yaml");
    writeFileSync(path, text);
    return path;
  };

  it("loads YAML rules", async () => {
    const path = write(
      "rules:\n  - method: PullImage\n    probability: 0.5\n    code: UNAVAILABLE\n  - method: '*'\n    delayMs: 10\n",
    );
    expect(await loadFaultRules(path)).toEqual([
      { method: "PullImage", probability: 0.5, code: "UNAVAILABLE" },
      { method: "*", delayMs: 10 },
    ]);
  });

  it.each([
    ["rules:\n  - method: X\n    code: NOPE\n", /rules\.yaml: rules\[0\]\.code/],
    ["rules:\n  - method: X\n    probability: 2\n", /rules\[0\]\.probability/],
    ["rules:\n  - method: X\n    dropafter: 1\n", /rules\[0\]: .*dropafter/],
    ["rulez: []\n", /rules\.yaml: .*rulez|rules\.yaml: rules/],
    ["rules: [\n", /rules\.yaml: not valid YAML/],
    [`rules: ${"[".repeat(100)}`, /too large or too deeply nested/],
  ])("rejects %j naming the file and field", async (text, message) => {
    const err = await rejection(loadFaultRules(write(text)));
    expect(err?.code).toBe(ErrorCode.InvalidConfig);
    expect(err?.message).toMatch(message);
  });

  it("reports a missing file", async () => {
    const err = await rejection(loadFaultRules("/nonexistent/rules.yaml"));
    expect(err?.message).toMatch(/^\/nonexistent\/rules\.yaml: cannot read/);
  });
});

describe("cri-faults flags", () => {
  it("parses the flags and gives help as text", () => {
    expect(
      parseFaultProxyFlags([
        "--listen",
        "unix:///a.sock",
        "--upstream",
        "unix:///b.sock",
        "--rules",
        "r.yaml",
      ]),
    ).toEqual({
      listen: "unix:///a.sock",
      upstream: "unix:///b.sock",
      rules: "r.yaml",
    });
    expect(parseFaultProxyFlags(["--help"]).help).toMatch(/--upstream <endpoint>/);
  });

  it.each([
    [["--upstream", "unix:///b.sock"], /--listen/],
    [["--listen", "unix:///a.sock"], /--upstream/],
    [["--listen", "unix:///a.sock", "--upstream", "unix:///b.sock", "--bogus"], /unknown option '--bogus'/],
    [["--listen"], /argument missing|--listen/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseFaultProxyFlags(argv)).toThrow(message);
    try {
      parseFaultProxyFlags(argv);
    } catch (err) {
      expect((err as NodeletError).code).toBe(ErrorCode.InvalidConfig);
      expect((err as Error).message).toMatch(/run cri-faults --help/);
    }
  });
});
