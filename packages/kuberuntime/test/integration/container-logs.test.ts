// Logs through the runtime manager on containerd: getContainerLogs, termination messages (the last
// 4096 bytes of the file; FallbackToLogsOnError from the log's tail) and the log manager's legacy
// symlink made on start.
import { existsSync, mkdtempSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createLogManager } from "@nodelet/logs";
import { findContainerStatusByName, type KubeGenericRuntime, type V1Pod } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busybox, createHarness, type Harness } from "./support.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});

function collector(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return Object.assign(w, { text: () => Buffer.concat(chunks).toString() });
}

async function runToExit(pod: V1Pod, name: string) {
  return h.waitFor(
    `${name} to exit`,
    async () => {
      await h.sync(pod);
      const s = findContainerStatusByName(await h.status(pod), name);
      return s?.state === "exited" ? s : undefined;
    },
    60_000,
  );
}

describe("logs through the runtime manager", () => {
  it("reads a container's log with options, and follows it to the container's exit", async () => {
    const pod = h.pod(
      "logs",
      [busybox(h.env, "app", ["sh", "-c", "echo one; echo two >&2; sleep 2; echo three; sleep 1"])],
      {
        restartPolicy: "Never",
      },
    );
    const id = await h.waitFor("app to run", async () => {
      await h.sync(pod);
      const s = findContainerStatusByName(await h.status(pod), "app");
      return s?.state === "running" ? s.id : undefined;
    });
    const out = collector();
    const manager = h.manager as KubeGenericRuntime;
    await manager.getContainerLogs(pod, id, { follow: true }, out, out);
    expect(out.text().split("\n").sort()).toEqual(["", "one", "three", "two"]);
    const tail = collector();
    await manager.getContainerLogs(pod, id, { tailLines: 1, timestamps: true }, tail, tail);
    expect(tail.text()).toMatch(/^\S+Z three\n$/);
    await expect(
      manager.getContainerLogs(pod, { type: "containerd", id: "no-such-container" }, {}, out, out),
    ).rejects.toThrow(/unable to retrieve container logs/);
  });

  it("takes the last 4096 bytes of the termination-message file", async () => {
    const pod = h.pod(
      "termmsg",
      [
        busybox(h.env, "app", [
          "sh",
          "-c",
          "head -c 5000 /dev/zero | tr '\\0' a > /dev/termination-log; echo -n END >> /dev/termination-log; sleep 1; exit 1",
        ]),
      ],
      { restartPolicy: "Never" },
    );
    const status = await runToExit(pod, "app");
    expect(status.message.length).toBe(4096);
    expect(status.message.endsWith("aaaEND")).toBe(true);
  });

  it("falls back to the log's tail for a failed container with FallbackToLogsOnError", async () => {
    const pod = h.pod(
      "fallback",
      [
        busybox(
          h.env,
          "app",
          [
            "sh",
            "-c",
            // containerd copies stdout and stderr on their own: a pause lets the last stdout
            // lines reach the log before the stderr line, so the line order is the write order.
            "i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done; sleep 1; echo fatal: broken >&2; sleep 1; exit 2",
          ],
          {
            terminationMessagePolicy: "FallbackToLogsOnError",
          },
        ),
      ],
      { restartPolicy: "Never" },
    );
    const status = await runToExit(pod, "app");
    expect(status.message).toMatch(/fatal: broken\n$/);
    // At most the last 80 lines, at most 2048 bytes.
    expect(status.message.split("\n").length).toBeLessThanOrEqual(81);
    expect(Buffer.byteLength(status.message)).toBeLessThanOrEqual(2048);
    expect(status.message).not.toContain("line 100\n");
  });

  it("makes the legacy symlink through the log manager when a container starts", async () => {
    const legacy = mkdtempSync(join(tmpdir(), "nodelet-kr-legacy-"));
    const logManager = createLogManager({ runtimeService: h.runtime, legacyLogDirectory: legacy });
    const manager = await h.newManager({ logManager });
    const pod = h.pod("linked", [busybox(h.env, "app", ["sh", "-c", "echo hi; sleep 600"])]);
    const status = await h.waitFor("app to run", async () => {
      await h.sync(pod, undefined, manager);
      const s = findContainerStatusByName(await h.status(pod, manager), "app");
      return s?.state === "running" ? s : undefined;
    });
    const link = join(legacy, `${pod.metadata.name}_${pod.metadata.namespace}_app-${status.id.id}.log`);
    expect(readlinkSync(link)).toBe(status.logPath);
    await logManager.clean(status.id.id);
    expect(existsSync(link)).toBe(false);
    await logManager.stop();
  });
});
