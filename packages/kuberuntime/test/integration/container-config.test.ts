import { ContainerFilter, PodSandboxFilter } from "@nodelet/cri-api";
import { ErrorCode, findContainerStatusByName } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busybox, createHarness, type Harness } from "./support.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});

async function runningContainer(pod: Parameters<Harness["sync"]>[0], name: string) {
  return h.waitFor(`${name} to run`, async () => {
    await h.sync(pod);
    const s = findContainerStatusByName(await h.status(pod), name);
    return s?.state === "running" ? s : undefined;
  });
}

describe("container configuration against containerd", () => {
  it("maps resources and the security context into the runtime spec", async () => {
    const pod = h.pod("resources", [
      busybox(h.env, "app", ["sleep", "3600"], {
        resources: { requests: { cpu: "250m", memory: "32Mi" }, limits: { cpu: "500m", memory: "64Mi" } },
        securityContext: {
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { add: ["NET_ADMIN"], drop: ["MKNOD"] },
        },
      }),
    ]);
    const app = await runningContainer(pod, "app");
    const verbose = await h.runtime.containerStatus(app.id.id, true);
    const spec = JSON.parse(verbose.info.info ?? "{}").runtimeSpec;
    expect(spec.linux.resources.cpu).toMatchObject({ shares: 256, quota: 50000, period: 100000 });
    expect(spec.linux.resources.memory.limit).toBe(64 * 1024 * 1024);
    expect(spec.root.readonly).toBe(true);
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.process.capabilities.bounding).toContain("CAP_NET_ADMIN");
    expect(spec.process.capabilities.bounding).not.toContain("CAP_MKNOD");
    expect(spec.process.oomScoreAdj).toBeGreaterThanOrEqual(3); // Burstable
  });

  it("runs as the requested user, visible inside the container", async () => {
    const pod = h.pod("runas", [
      busybox(h.env, "app", ["sleep", "3600"], { securityContext: { runAsUser: 1234, runAsGroup: 5678 } }),
    ]);
    const app = await runningContainer(pod, "app");
    expect((await h.manager.runInContainer(app.id, ["id", "-u"], 10)).toString().trim()).toBe("1234");
    expect((await h.manager.runInContainer(app.id, ["id", "-g"], 10)).toString().trim()).toBe("5678");
  });

  it("shares an emptyDir between containers and passes env with $(VAR) expansion and fieldRefs", async () => {
    const mount = [{ name: "shared", mountPath: "/shared" }];
    const pod = h.pod(
      "emptydir",
      [
        busybox(
          h.env,
          "writer",
          ["sh", "-c", "echo $(GREETING) from $(POD_NAME) > /shared/msg; sleep 3600"],
          {
            volumeMounts: mount,
            env: [
              { name: "GREETING", value: "hello" },
              { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            ],
          },
        ),
        busybox(h.env, "reader", ["sleep", "3600"], { volumeMounts: mount }),
      ],
      { volumes: [{ name: "shared", emptyDir: {} }] },
    );
    const reader = await runningContainer(pod, "reader");
    const text = await h.waitFor("the message", async () => {
      const out = await h.manager
        .runInContainer(reader.id, ["cat", "/shared/msg"], 10)
        .catch(() => undefined);
      return out?.toString();
    });
    expect(text).toBe("hello from emptydir\n");
  });

  it("runs a host-network pod without a hostname of its own", async () => {
    const pod = h.pod("hostnet", [busybox(h.env, "app", ["sleep", "3600"])], { hostNetwork: true });
    const app = await runningContainer(pod, "app");
    const status = await h.status(pod);
    expect(status.sandboxStatuses[0]?.linux?.namespaces?.options?.network).toBe(2); // NODE
    const links = (await h.manager.runInContainer(app.id, ["cat", "/proc/net/dev"], 10)).toString();
    expect(links).toMatch(/nl[0-9a-f]{8}/); // the host's CNI bridge is visible: host network
  });

  it("rejects an invalid pod with the field path and creates nothing", async () => {
    const pod = h.pod("invalid", [
      busybox(h.env, "ok", ["sleep", "1"]),
      busybox(h.env, "bad", ["sleep", "1"], { resources: { limits: { memory: "64XB" } } }),
    ]);
    const result = await h.sync(pod);
    expect(result.syncError?.code).toBe(ErrorCode.InvalidPod);
    expect(result.syncError?.message).toContain("spec.containers[1].resources.limits.memory");
    const sandboxes = await h.runtime.listPodSandbox(
      PodSandboxFilter.fromPartial({ labelSelector: { "io.kubernetes.pod.uid": pod.metadata.uid ?? "" } }),
    );
    expect(sandboxes).toEqual([]);
  });

  it("converges on the next sync after a step failed midway", async () => {
    const good = busybox(h.env, "good", ["sleep", "3600"]);
    const broken = busybox(h.env, "later", ["sleep", "3600"], {
      image: `${h.env.registries.plain}/does-not-exist:1`,
    });
    const pod = h.pod("midway", [good, broken]);
    const first = await h.sync(pod);
    const failed = first.syncResults.find((r) => r.target === "later");
    expect(failed?.error).toBe(ErrorCode.ErrImagePull);
    expect(findContainerStatusByName(await h.status(pod), "good")?.state).toBe("running");

    const fixed = {
      ...pod,
      spec: { ...pod.spec, containers: [good, busybox(h.env, "later", ["sleep", "3600"])] },
    };
    const second = await h.sync(fixed);
    expect(second.error()).toBeUndefined();
    const status = await h.status(pod);
    expect(status.containerStatuses.map((c) => `${c.name}:${c.state}`).sort()).toEqual([
      "good:running",
      "later:running",
    ]);
    const all = await h.runtime.listContainers(
      ContainerFilter.fromPartial({ labelSelector: { "io.kubernetes.pod.uid": pod.metadata.uid ?? "" } }),
    );
    expect(all).toHaveLength(2); // nothing half-made left behind
  });
});
