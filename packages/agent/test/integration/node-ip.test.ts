// The node IP on containerd: the downward API's status.hostIP / status.hostIPs equal what /pods
// reports, the default is not the test environment's bridge, and --node-ip sets it (an address
// this host does not have stops the start).
import { networkInterfaces } from "node:os";
import { ErrorCode, type V1Pod } from "@nodelet/runtime-api";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent.js";
import { parseFlags, resolveConfig } from "../../src/flags.js";
import {
  agentArgs,
  closeAgentSuite,
  type Dirs,
  openAgentSuite,
  podManifest,
  type RunningAgent,
  type RuntimeHarness,
  startAgent,
  waitFor,
  writeManifest,
} from "./support.js";

let h: RuntimeHarness;
let dirs: Dirs;
let agent: RunningAgent | undefined;

beforeAll(async () => {
  ({ h, dirs, agent } = await openAgentSuite("node-ip"));
}, 120_000);

afterAll(async () => {
  await closeAgentSuite(agent, h);
}, 120_000);

/** A pod whose container writes what the downward API gave it into its termination message. */
function reporter(name: string): object {
  const env = [
    { name: "HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
    { name: "HOST_IPS", valueFrom: { fieldRef: { fieldPath: "status.hostIPs" } } },
  ];
  return podManifest(
    name,
    [
      {
        name: "main",
        env,
        command: ["sh", "-c", 'printf "%s|%s" "$HOST_IP" "$HOST_IPS" > /dev/termination-log'],
      },
    ],
    {
      restartPolicy: "Never",
    },
  );
}

async function reported(a: RunningAgent, name: string): Promise<{ pod: V1Pod; message: string }> {
  return waitFor(
    `pod ${name} to report its host IP`,
    async () => {
      const pod = (await a.api.pods()).find((p) => p.metadata.name === `${name}-testnode`);
      const message = pod?.status?.containerStatuses?.[0]?.state?.terminated?.message;
      return pod && message !== undefined ? { pod, message } : undefined;
    },
    { timeoutMs: 90_000 },
  );
}

describe("node IP", () => {
  it("containers see the hostIP /pods reports, and it is not the bridge's", async () => {
    const running = agent as RunningAgent;
    await writeManifest(h.env, dirs.manifests, "default-ip.yaml", reporter("default-ip"));
    const { pod, message } = await reported(running, "default-ip");
    const hostIP = pod.status?.hostIP ?? "";
    expect(hostIP).not.toBe("");
    expect(message).toBe(`${hostIP}|${(pod.status?.hostIPs ?? []).map((i) => i.ip).join(",")}`);
    const bridge = networkInterfaces()[h.env.cni.bridge]?.map((a) => a.address) ?? [];
    expect(bridge).not.toContain(hostIP);
  }, 180_000);

  it("--node-ip sets it; an address this host does not have stops the start", async () => {
    await agent?.stop();
    agent = undefined;
    const { config } = await resolveConfig({
      flags: parseFlags(agentArgs(h.env, dirs, 1, ["--node-ip", "203.0.113.77"])),
    });
    const refused = createAgent({ config, logger: pino({ level: "silent" }) });
    await expect(refused.start()).rejects.toMatchObject({
      code: ErrorCode.InvalidConfig,
      message: expect.stringContaining("203.0.113.77 is not an address of this host"),
    });
    await refused.stop();

    // The first non-internal IPv4 address that is not the test bridge's, given explicitly.
    const chosen = Object.entries(networkInterfaces())
      .filter(([name]) => name !== h.env.cni.bridge && !/^(nl[0-9a-f]{8}|cni\d*|docker\d*)$/.test(name))
      .flatMap(([, list]) => list ?? [])
      .find((a) => a.family === "IPv4" && !a.internal)?.address;
    expect(chosen).toBeDefined();
    agent = await startAgent(h.env, dirs, ["-v", "1", "--node-ip", chosen as string]);
    await writeManifest(h.env, dirs.manifests, "given-ip.yaml", reporter("given-ip"));
    const { pod, message } = await reported(agent, "given-ip");
    expect(pod.status?.hostIP).toBe(chosen);
    expect(message).toBe(`${chosen}|${chosen}`);
  }, 180_000);
});
