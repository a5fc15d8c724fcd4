// A container's log tail in the pod view: /containerLogs?follow=true (the kubelet's path), text
// appended as it arrives, the last ~256 KiB kept; the previous instance's logs on demand; a new
// instance (restart) is followed from its start.

import type { V1Pod } from "@nodelet/runtime-api";
import { apiFetch, h } from "./api.js";

const KEEP_CHARS = 256 * 1024;

export interface LogTail {
  element: HTMLElement;
  podChanged(pod: V1Pod): void;
  close(): void;
}

function containerId(pod: V1Pod, name: string): string | undefined {
  return [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find(
    (c) => c.name === name,
  )?.containerID;
}

export function createLogTail(pod: V1Pod): LogTail {
  const ns = pod.metadata.namespace ?? "default";
  const name = pod.metadata.name ?? "";
  const names = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.name);
  const first = pod.spec.containers[0]?.name ?? names[0] ?? "";
  const select = h("select", { id: "log-container" }, ...names.map((n) => h("option", { value: n }, n)));
  select.value = first;
  const previous = h("input", { type: "checkbox", id: "log-previous" });
  const status = h("span", { class: "muted", role: "status", "aria-live": "polite" });
  const pre = h("pre", { class: "log", tabindex: "0", "aria-label": "Container log", id: "log-output" });
  const element = h(
    "section",
    { "aria-labelledby": "logs-heading" },
    h("h2", { id: "logs-heading" }, "Logs"),
    h(
      "div",
      { class: "controls" },
      h("label", { for: "log-container" }, "Container "),
      select,
      h("label", {}, previous, " Previous instance"),
      status,
    ),
    pre,
  );
  let controller: AbortController | undefined;
  let following: string | undefined;

  function append(text: string): void {
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    let all = (pre.textContent ?? "") + text;
    if (all.length > KEEP_CHARS) all = all.slice(all.length - KEEP_CHARS);
    pre.textContent = all;
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }

  async function start(current: V1Pod, keepText: boolean): Promise<void> {
    controller?.abort();
    const ctl = new AbortController();
    controller = ctl;
    const container = select.value;
    const prev = previous.checked;
    following = prev ? undefined : containerId(current, container);
    if (!keepText) pre.textContent = "";
    const query = prev ? "previous=true" : "follow=true&tailLines=500";
    status.textContent = prev ? "previous instance" : "following";
    try {
      const response = await apiFetch(
        `/containerLogs/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${query}`,
        ctl.signal,
      );
      if (!response.body) return;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        append(value);
      }
      if (!ctl.signal.aborted) status.textContent = prev ? "previous instance" : "the container stopped";
    } catch (err) {
      if (ctl.signal.aborted) return;
      status.textContent = `no logs: ${(err as Error).message}`;
    }
  }

  let latest = pod;
  select.addEventListener("change", () => void start(latest, false));
  previous.addEventListener("change", () => void start(latest, false));
  void start(pod, false);

  return {
    element,
    podChanged(current) {
      latest = current;
      if (previous.checked) return;
      const id = containerId(current, select.value);
      // A new instance of the container (a restart, or the first start): follow it from its start.
      if (id !== undefined && id !== following) {
        if (following !== undefined) append("\n--- the container restarted ---\n");
        void start(current, true);
      }
    },
    close() {
      controller?.abort();
    },
  };
}
