// cri-remote against a bare @grpc/grpc-js client using the same generated codecs: the CRI floor.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import {
  ContainerConfig,
  ContainerFilter,
  CreateContainerRequest,
  ExecSyncRequest,
  ImageSpec,
  ListContainersRequest,
  NamespaceMode,
  PodSandboxConfig,
  PodSandboxFilter,
  RunPodSandboxRequest,
  StartContainerRequest,
  RuntimeServiceService as svc,
  VersionRequest,
} from "@nodelet/cri-api";
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import { latencyRow, throughputRow, withConcurrency } from "./harness.mjs";

const BENCH_LABEL = "nodelet.bench";

function bareClient(endpoint) {
  const client = new Client(endpoint, credentials.createInsecure(), {
    "grpc.max_receive_message_length": 16 * 1024 * 1024,
    "grpc.default_authority": "localhost",
  });
  const call = (method, request, timeoutMs = 120_000) =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
  return { call, close: () => client.close() };
}

export async function criRemoteSuite(env) {
  const runtime = await createRemoteRuntimeService(env.criEndpoint);
  const images = await createRemoteImageService(env.criEndpoint);
  const bare = bareClient(env.criEndpoint);
  const logDir = mkdtempSync(join(tmpdir(), "nodelet-bench-"));
  const image = env.images.busybox;
  await images.pullImage(ImageSpec.fromPartial({ image }), undefined, undefined);
  let seq = 0;

  const sandboxConfig = () => {
    const uid = `bench-${process.pid}-${seq++}`;
    return PodSandboxConfig.fromPartial({
      metadata: { name: uid, uid, namespace: "bench", attempt: 0 },
      hostname: "bench",
      logDirectory: join(logDir, uid),
      labels: { [BENCH_LABEL]: "1" },
      linux: {
        securityContext: { namespaceOptions: { network: NamespaceMode.POD, pid: NamespaceMode.CONTAINER } },
      },
    });
  };
  const containerConfig = () =>
    ContainerConfig.fromPartial({
      metadata: { name: "app", attempt: 0 },
      image: { image },
      command: ["sleep", "3600"],
      labels: { [BENCH_LABEL]: "1" },
      logPath: "app/0.log",
    });

  const podViaOurs = async () => {
    const config = sandboxConfig();
    const id = await runtime.runPodSandbox(config, "");
    const cid = await runtime.createContainer(id, containerConfig(), config);
    await runtime.startContainer(cid);
    return id;
  };
  const podViaBare = async () => {
    const config = sandboxConfig();
    const { podSandboxId } = await bare.call(
      svc.runPodSandbox,
      RunPodSandboxRequest.fromPartial({ config }),
      240_000,
    );
    const { containerId } = await bare.call(
      svc.createContainer,
      CreateContainerRequest.fromPartial({ podSandboxId, config: containerConfig(), sandboxConfig: config }),
    );
    await bare.call(svc.startContainer, StartContainerRequest.fromPartial({ containerId }));
    return podSandboxId;
  };
  const removePods = async (ids) => {
    await withConcurrency(ids, 10, async (id) => {
      await runtime.stopPodSandbox(id);
      await runtime.removePodSandbox(id);
    });
  };
  const removeAllBenchPods = async () => {
    const left = await runtime.listPodSandbox(
      PodSandboxFilter.fromPartial({ labelSelector: { [BENCH_LABEL]: "1" } }),
    );
    await removePods(left.map((s) => s.id));
  };

  const rows = [];
  try {
    await removeAllBenchPods();
    rows.push(
      await latencyRow("Version", {
        iterations: 300,
        ours: () => runtime.version("0.1.0"),
        bare: () => bare.call(svc.version, VersionRequest.fromPartial({ version: "0.1.0" })),
      }),
    );

    const execPod = await podViaOurs();
    const [execContainer] = await runtime.listContainers(
      ContainerFilter.fromPartial({ podSandboxId: execPod }),
    );
    rows.push(
      await latencyRow("ExecSync `true`", {
        iterations: 120,
        ours: () => runtime.execSync(execContainer.id, ["true"], 10),
        bare: () =>
          bare.call(
            svc.execSync,
            ExecSyncRequest.fromPartial({ containerId: execContainer.id, cmd: ["true"], timeout: 10n }),
          ),
      }),
    );
    await removePods([execPod]);

    rows.push(
      await latencyRow("pod: RunPodSandbox+CreateContainer+StartContainer", {
        iterations: 12,
        warmup: 2,
        ours: async (ctx) => {
          ctx.ids.push(await podViaOurs());
        },
        bare: async (ctx) => {
          ctx.ids.push(await podViaBare());
        },
        setup: () => ({ ids: [] }),
        teardown: (ctx) => removePods(ctx.ids),
      }),
    );

    // Each round's pods are removed before the next (the CNI subnet is a /24); the last round of
    // ours stays for the ListContainers row.
    let kept = [];
    let last = [];
    const fifty = Array.from({ length: 50 });
    rows.push(
      await throughputRow("50 pods at concurrency 10", {
        items: 50,
        rounds: 4,
        ours: async () => {
          last = await withConcurrency(fifty, 10, podViaOurs);
        },
        bare: async () => {
          last = await withConcurrency(fifty, 10, podViaBare);
        },
        teardown: async (which, finalRound) => {
          if (which === "ours" && finalRound) kept = last;
          else await removePods(last);
        },
      }),
    );
    const filter = ContainerFilter.fromPartial({ labelSelector: { [BENCH_LABEL]: "1" } });
    const count = (await runtime.listContainers(filter)).length;
    rows.push(
      await latencyRow(`ListContainers (${count} containers)`, {
        iterations: 200,
        ours: () => runtime.listContainers(),
        bare: () => bare.call(svc.listContainers, ListContainersRequest.fromPartial({})),
      }),
    );
    await removePods(kept);
  } finally {
    await removeAllBenchPods();
    runtime.close();
    images.close();
    bare.close();
  }
  return rows;
}
