import { status } from "@grpc/grpc-js";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import {
  createRemoteImageService,
  createRemoteRuntimeService,
  instrumentImageService,
  instrumentRuntimeService,
} from "../src/index.js";
import { type FakeServer, grpcError, startFakeServer, v1Version } from "./support/fake-runtime.js";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.stop();
});

async function value(registry: Registry, name: string, op: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find((v) => v.labels.operation_type === op && !("le" in v.labels));
  return sample?.value ?? 0;
}

describe("instrumented services", () => {
  it("count operations, time them and count errors with the kubelet's names and labels", async () => {
    server = await startFakeServer({
      runtime: {
        version: () => v1Version,
        listContainers: () => ({ containers: [] }),
        removeContainer: () => {
          throw grpcError(status.NOT_FOUND, "no such container");
        },
      },
      image: { imageFsInfo: () => ({}), listImages: () => ({ images: [] }) },
    });
    const registry = new Registry();
    const runtime = instrumentRuntimeService(await createRemoteRuntimeService(server.endpoint), { registry });
    const images = instrumentImageService(await createRemoteImageService(server.endpoint), { registry });

    await runtime.version("0.1.0");
    await runtime.listContainers();
    await runtime.listContainers();
    await expect(runtime.removeContainer("x")).rejects.toMatchObject({ code: "NotFound" });
    await images.listImages();
    await expect(
      (async () => {
        for await (const _ of runtime.getContainerEvents()) break;
      })(),
    ).rejects.toMatchObject({ code: "Unimplemented" });

    expect(await value(registry, "kubelet_runtime_operations_total", "list_containers")).toBe(2);
    expect(await value(registry, "kubelet_runtime_operations_total", "version")).toBe(1);
    expect(await value(registry, "kubelet_runtime_operations_total", "remove_container")).toBe(1);
    expect(await value(registry, "kubelet_runtime_operations_errors_total", "remove_container")).toBe(1);
    expect(await value(registry, "kubelet_runtime_operations_errors_total", "list_containers")).toBe(0);
    expect(await value(registry, "kubelet_runtime_operations_total", "list_images")).toBe(1);
    expect(await value(registry, "kubelet_runtime_operations_errors_total", "get_container_events")).toBe(1);

    const text = await registry.metrics();
    expect(text).toContain(
      'kubelet_runtime_operations_duration_seconds_count{operation_type="list_containers"} 2',
    );
    expect(text).toContain(
      'kubelet_runtime_operations_duration_seconds_bucket{le="0.005",operation_type="version"}',
    );
    runtime.close();
    images.close();
  });

  it("share one set of metrics per registry", async () => {
    server = await startFakeServer({ runtime: { version: () => v1Version } });
    const registry = new Registry();
    const a = instrumentRuntimeService(await createRemoteRuntimeService(server.endpoint), { registry });
    const b = instrumentRuntimeService(await createRemoteRuntimeService(server.endpoint), { registry });
    await a.version("0.1.0");
    await b.version("0.1.0");
    expect(await value(registry, "kubelet_runtime_operations_total", "version")).toBe(2);
    a.close();
    b.close();
  });
});
