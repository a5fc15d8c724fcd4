import { createRemoteImageService, createRemoteRuntimeService } from "@nodelet/cri-remote";
import {
  type ContainerID,
  ErrorCode,
  type EventRecorder,
  type ImageManagerService,
  NodeletError,
  type RuntimeService,
  type V1Container,
  type V1Pod,
} from "@nodelet/runtime-api";
import { readTestEnv, type TestEnv } from "@nodelet/testenv";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandlerRunner, HTTP_FALLBACKS_TOTAL } from "../../src/index.js";
import { commandRunnerFor, removeTestPods, startBusyboxPod, waitForPort } from "./support.js";

let env: TestEnv;
let runtime: RuntimeService;
let images: ImageManagerService;
let containerId: ContainerID;
let podIP: string;
const runId = `${process.pid}-${Date.now().toString(36)}`;
const namespace = "lifecycle-test";
const podName = `hooks-${runId}`;

// The pod as the kubelet would hand it to the runner: the container's named port is what httpGet
// hooks resolve "http" against.
const container: V1Container = { name: "app", ports: [{ name: "http", containerPort: 8080 }] };
const pod: V1Pod = {
  metadata: { name: podName, namespace, uid: `uid-${runId}` },
  spec: { containers: [container] },
};

// A CGI script for busybox httpd that notes each request it gets inside the container.
const cgi = [
  "#!/bin/sh",
  'echo "$REQUEST_METHOD $REQUEST_URI $HTTP_USER_AGENT" >> /tmp/http-hooked',
  'printf "Content-Type: text/plain\\r\\n\\r\\nhooked\\n"',
].join("\n");

async function exec(cmd: string[]): Promise<string> {
  const result = await runtime.execSync(containerId.id, cmd, 30);
  return result.stdout.toString("utf8");
}

beforeAll(async () => {
  env = await readTestEnv();
  runtime = await createRemoteRuntimeService(env.criEndpoint);
  images = await createRemoteImageService(env.criEndpoint);

  const started = await startBusyboxPod({
    env,
    runtime,
    images,
    runId,
    name: podName,
    uid: pod.metadata.uid ?? "",
    namespace,
    containerName: container.name,
    command: ["sleep", "3600"],
  });
  containerId = started.containerId;
  podIP = started.podIP;
  expect(podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

  // busybox httpd on :8080 in the container (it daemonizes, so the exec returns).
  await exec([
    "sh",
    "-c",
    `mkdir -p /www/cgi-bin && cat > /www/cgi-bin/hook <<'EOF'\n${cgi}\nEOF\n` +
      "chmod +x /www/cgi-bin/hook && busybox httpd -p 8080 -h /www",
  ]);
  await waitForPort(podIP, 8080);
});

afterAll(async () => {
  // Leave nothing behind in the shared containerd, even after a failed test.
  await removeTestPods(runtime, runId);
  runtime?.close();
  images?.close();
});

function runner(extra: { registry?: Registry; eventRecorder?: EventRecorder } = {}) {
  return createHandlerRunner({
    commandRunner: commandRunnerFor(runtime),
    podIPs: () => [podIP],
    ...extra,
  });
}

describe("lifecycle hooks against containerd", () => {
  it("runs an exec hook in the container", async () => {
    const output = await runner().run(containerId, pod, container, {
      exec: { command: ["sh", "-c", "echo hi > /tmp/hooked; echo done"] },
    });
    expect(output).toBe("done\n");
    expect(await exec(["cat", "/tmp/hooked"])).toBe("hi\n");
  });

  it("rejects a failing exec hook with the kubelet's message", async () => {
    const cmd = ["sh", "-c", "echo out; echo err >&2; exit 3"];
    const err = await runner()
      .run(containerId, pod, container, { exec: { command: cmd } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeletError);
    expect((err as NodeletError).code).toBe(ErrorCode.CommandExitError);
    expect((err as NodeletError).message).toBe(
      `Exec lifecycle hook ([sh -c echo out; echo err >&2; exit 3]) for Container "app" in Pod "${namespace}/${podName}" ` +
        `failed - error: command 'sh -c echo out; echo err >&2; exit 3' exited with 3: err, message: "out\\nerr\\n"`,
    );
  });

  it("sends an httpGet hook to the pod IP and a named port, whatever the status", async () => {
    const hooks = runner();
    await hooks.run(containerId, pod, container, {
      httpGet: { path: "/cgi-bin/hook?from=lifecycle", port: "http" },
    });
    expect(await exec(["cat", "/tmp/http-hooked"])).toBe(
      "GET /cgi-bin/hook?from=lifecycle kube-lifecycle/1.31\n",
    );
    // busybox answers 404 here: still a success.
    await expect(
      hooks.run(containerId, pod, container, { httpGet: { path: "/no-such-page", port: 8080 } }),
    ).resolves.toBe("");
  });

  it("falls back to HTTP when an HTTPS hook reaches a plain HTTP server", async () => {
    const registry = new Registry();
    const events: string[] = [];
    const hooks = runner({
      registry,
      eventRecorder: { event: (_o, type, reason) => events.push(`${type} ${reason}`) },
    });
    await hooks.run(containerId, pod, container, {
      httpGet: { path: "/cgi-bin/hook?from=https", port: "http", scheme: "HTTPS" },
    });
    expect(await exec(["cat", "/tmp/http-hooked"])).toContain(
      "GET /cgi-bin/hook?from=https kube-lifecycle/1.31\n",
    );
    expect(events).toEqual(["Warning LifecycleHTTPFallback"]);
    expect((await registry.getSingleMetric(HTTP_FALLBACKS_TOTAL)?.get())?.values[0]?.value).toBe(1);
  });

  it("fails an httpGet hook when nothing listens on the port", async () => {
    const err = await runner()
      .run(containerId, pod, container, { httpGet: { path: "/", port: 8081 } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeletError);
    expect((err as NodeletError).message).toBe(
      `HTTP lifecycle hook (/) for Container "app" in Pod "${namespace}/${podName}" failed - error: ` +
        `Get "http://${podIP}:8081/": connect ECONNREFUSED ${podIP}:8081`,
    );
  });
});
