// The CRI contract against the fake, served on a unix socket and reached through cri-remote's
// client: what code under test sees from the fake over gRPC is what it sees from containerd.
import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import { createFakeRuntime } from "../src/index.js";
import { contractExec, describeCriContract } from "./support/cri-contract.js";

describeCriContract({
  name: "the fake over gRPC",
  async connect() {
    const fake = createFakeRuntime();
    fake.onExec(contractExec);
    const server = await fake.serve();
    const runtime = await createRemoteRuntimeService(server.endpoint);
    const images = await createRemoteImageService(server.endpoint);
    return {
      runtime,
      images,
      image: "127.0.0.1:5000/busybox:1.36",
      spareImage: "127.0.0.1:5000/spare:1",
      runtimeName: "fake-cri",
      async close() {
        runtime.close();
        images.close();
        await server.close();
      },
    };
  },
});

describeCriContract({
  name: "the fake in-process",
  async connect() {
    const fake = createFakeRuntime();
    fake.onExec(contractExec);
    return {
      runtime: fake,
      images: fake,
      image: "127.0.0.1:5000/busybox:1.36",
      spareImage: "127.0.0.1:5000/spare:1",
      runtimeName: "fake-cri",
      close: async () => fake.close(),
    };
  },
});
