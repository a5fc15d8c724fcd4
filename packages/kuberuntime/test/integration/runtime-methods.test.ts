import { ContainerFilter } from "@nodelet/cri-api";
import { createRemotePuller } from "@nodelet/image-manager";
import type { ImagePuller, ImagePullRequest } from "@nodelet/runtime-api";
import { ErrorCode, findContainerStatusByName, isNodeletError } from "@nodelet/runtime-api";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busybox, createHarness, type Harness } from "./support.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});

describe("the other Runtime methods against containerd", () => {
  it("reports type, versions and status", async () => {
    expect(h.manager.type()).toBe("containerd");
    expect((await h.manager.version()).compare("1.6")).toBeGreaterThanOrEqual(0);
    expect((await h.manager.apiVersion()).compare("1")).toBe(0);
    const status = await h.manager.status();
    expect(status.conditions.find((c) => c.type === "RuntimeReady")?.status).toBe(true);
    await h.manager.updatePodCIDR("10.200.0.0/24");
  });

  it("kills a container whose postStart hook fails, with PostStartHookError", async () => {
    const pod = h.pod("poststart", [
      busybox(h.env, "app", ["sleep", "3600"], {
        lifecycle: { postStart: { exec: { command: ["sh", "-c", "exit 4"] } } },
      }),
    ]);
    const result = await h.sync(pod);
    const step = result.syncResults.find((r) => r.action === "StartContainer");
    expect(step?.error).toBe(ErrorCode.PostStartHookError);
    expect(h.events.find((e) => e.pod === "poststart" && e.reason === "FailedPostStartHook")?.message).toBe(
      "PostStartHook failed",
    );
    const app = findContainerStatusByName(await h.status(pod), "app");
    expect(app?.state).toBe("exited");
  });

  it("recovers the restart count from the log files when the runtime lost the container", async () => {
    const pod = h.pod("lost", [busybox(h.env, "app", ["sleep", "3600"])]);
    await h.sync(pod);
    const first = findContainerStatusByName(await h.status(pod), "app");
    // The runtime forgets the container (as after a state loss); its 0.log stays.
    await h.runtime.stopContainer(first?.id.id ?? "", 0);
    await h.runtime.removeContainer(first?.id.id ?? "");
    await h.sync(pod);
    const second = findContainerStatusByName(await h.status(pod), "app");
    expect(second?.restartCount).toBe(1);
    expect(second?.logPath.endsWith("/app/1.log")).toBe(true);
  });

  it("returns streaming URLs, runs commands and deletes containers", async () => {
    const pod = h.pod("streams", [
      busybox(h.env, "app", ["sleep", "3600"], { ports: [{ containerPort: 8080 }] }),
    ]);
    await h.sync(pod);
    const app = findContainerStatusByName(await h.status(pod), "app");
    const id = app?.id ?? { type: "containerd", id: "" };
    const streams = { stdin: false, stdout: true, stderr: true, tty: false };
    expect((await h.manager.getExec(id, ["sh"], streams)).pathname).toMatch(/^\/exec\//);
    expect((await h.manager.getAttach(id, streams)).pathname).toMatch(/^\/attach\//);
    const pf = await h.manager.getPortForward(
      pod.metadata.name ?? "",
      pod.metadata.namespace ?? "",
      pod.metadata.uid ?? "",
      [8080],
    );
    expect(pf.pathname).toMatch(/^\/portforward\//);
    const out = await h.manager.runInContainer(id, ["sh", "-c", "echo out; echo err >&2"], 5);
    expect(out.toString()).toBe("out\nerr\n");
    const failure = await h.manager.runInContainer(id, ["sh", "-c", "exit 9"], 5).catch((e: unknown) => e);
    expect(isNodeletError(failure, ErrorCode.CommandExitError)).toBe(true);
    const missing = await h.manager
      .getPortForward("none", "none", "no-such-uid", [80])
      .catch((e: unknown) => e);
    expect(isNodeletError(missing, ErrorCode.NotFound)).toBe(true);

    await h.runtime.stopContainer(id.id, 0);
    await h.manager.deleteContainer(id);
    const left = await h.runtime.listContainers(ContainerFilter.fromPartial({ id: id.id }));
    expect(left).toEqual([]);
  });

  it("records the kubelet's start and runtime metrics", async () => {
    const registry = new Registry();
    const manager = await h.newManager({ registry });
    const pod = h.pod("metrics", [
      busybox(h.env, "app", ["sleep", "3600"]),
      busybox(h.env, "bad", ["sleep", "1"], { image: `${h.env.registries.plain}/nope:1` }),
    ]);
    await h.sync(pod, undefined, manager);
    const text = await registry.metrics();
    expect(text).toContain("kubelet_started_pods_total 1");
    expect(text).toContain('kubelet_started_containers_total{container_type="container"} 2');
    expect(text).toContain(
      'kubelet_started_containers_errors_total{container_type="container",code="ErrImagePull"} 1',
    );
    expect(text).toMatch(/kubelet_run_podsandbox_duration_seconds_count\{runtime_handler=""\} 1/);
    expect(text).toMatch(/kubelet_runtime_operations_total\{operation_type="run_podsandbox"\} 1/);
  });

  it("pulls through a custom ImagePuller passed to createKubeGenericRuntimeManager", async () => {
    const requests: ImagePullRequest[] = [];
    const real = createRemotePuller(h.images);
    // A third party's puller: here it records what it is asked and delegates the bytes.
    const custom: ImagePuller = {
      pullImage: (request) => {
        requests.push(request);
        return real.pullImage(request);
      },
    };
    const manager = await h.newManager({ imagePuller: custom });
    const image = h.env.images.bench[2] as string;
    const pod = h.pod("custom-puller", [
      busybox(h.env, "app", ["sleep", "3600"], { image, imagePullPolicy: "Always" }),
    ]);
    const result = await h.sync(pod, undefined, manager);
    expect(result.error()).toBeUndefined();
    expect(requests.map((r) => r.image)).toEqual([image]);
    expect(findContainerStatusByName(await h.status(pod, manager), "app")?.state).toBe("running");
    expect(h.events.some((e) => e.pod === "custom-puller" && e.reason === "Pulled")).toBe(true);
  });

  it("pulls from the auth registry with the node's docker config in the root directory", async () => {
    const { writeFile, mkdtemp } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const rootDirectory = await mkdtemp(join(tmpdir(), "nodelet-kr-auth-"));
    const auth = Buffer.from(`${h.env.auth.username}:${h.env.auth.password}`).toString("base64");
    await writeFile(
      join(rootDirectory, "config.json"),
      JSON.stringify({ auths: { [h.env.registries.auth]: { auth } } }),
    );
    const manager = await h.newManager({ rootDirectory });
    const pod = h.pod("auth-pull", [
      busybox(h.env, "app", ["sleep", "3600"], {
        image: h.env.images.authBusybox,
        imagePullPolicy: "Always",
      }),
    ]);
    const result = await h.sync(pod, undefined, manager);
    expect(result.error()).toBeUndefined();
    expect(findContainerStatusByName(await h.status(pod, manager), "app")?.state).toBe("running");

    // Without it, the same pull is refused by the registry: ErrImagePull with the 401 kept.
    const anonymous = await h.newManager();
    const other = h.pod("auth-pull-anon", [
      busybox(h.env, "app", ["sleep", "3600"], {
        image: h.env.images.authBusybox,
        imagePullPolicy: "Always",
      }),
    ]);
    const refused = await h.sync(other, undefined, anonymous);
    const step = refused.syncResults.find((r) => r.action === "StartContainer");
    expect(step?.error).toBe(ErrorCode.ErrImagePull);
    expect(step?.message).toContain("401 Unauthorized");
  });
});
