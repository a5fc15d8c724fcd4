// The CRI contract against real containerd, directly and through the fault proxy with no rules:
// a pass-through changes nothing.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import { readTestEnv } from "@nodelet/testenv";
import { createFaultProxy } from "../../src/index.js";
import { type CriContractClients, describeCriContract } from "../support/cri-contract.js";

async function clients(endpoint: string, close: () => Promise<void>): Promise<CriContractClients> {
  const env = await readTestEnv();
  const runtime = await createRemoteRuntimeService(endpoint);
  const images = await createRemoteImageService(endpoint);
  return {
    runtime,
    images,
    image: env.images.busybox,
    spareImage: env.images.bench[1] as string,
    runtimeName: "containerd",
    async close() {
      runtime.close();
      images.close();
      await close();
    },
  };
}

describeCriContract({
  name: "containerd",
  connect: async () => clients((await readTestEnv()).criEndpoint, async () => undefined),
});

describeCriContract({
  name: "containerd through the fault proxy (no rules)",
  async connect() {
    const env = await readTestEnv();
    const listen = join(mkdtempSync(join(tmpdir(), "nodelet-proxy-")), "cri.sock");
    const proxy = await createFaultProxy({ listen, upstream: env.criEndpoint });
    return clients(proxy.endpoint, () => proxy.close());
  },
});
