// One pod: its summary, containers (state, last state, restarts, probes, mounts), events, the
// log tail and the exec terminal. Live parts are redrawn in place; the log and terminal persist.

import type { V1ContainerState, V1ContainerStatus, V1Pod } from "@nodelet/runtime-api";
import { eventCells, podRow, probeText } from "../src/client/pod-format.js";
import type { V1Event } from "../src/events.js";
import { h, statusClass } from "./api.js";
import { createLogTail, type LogTail } from "./log-tail.js";
import { createExecTerminal, type ExecTerminal } from "./terminal.js";

function stateText(state: V1ContainerState | undefined): string {
  if (!state) return "—";
  if (state.running) return `Running since ${state.running.startedAt ?? "?"}`;
  if (state.terminated) {
    const t = state.terminated;
    return `Terminated: ${t.reason ?? "?"} (exit code ${t.exitCode}${t.signal ? `, signal ${t.signal}` : ""})${t.finishedAt ? ` at ${t.finishedAt}` : ""}`;
  }
  if (state.waiting)
    return `Waiting: ${state.waiting.reason ?? "?"}${state.waiting.message ? ` — ${state.waiting.message}` : ""}`;
  return "—";
}

function facts(entries: [string, Node | string][]): HTMLDListElement {
  const dl = h("dl", { class: "facts" });
  for (const [k, v] of entries) dl.append(h("dt", {}, k), h("dd", {}, v));
  return dl;
}

function containerCard(
  pod: V1Pod,
  name: string,
  init: boolean,
  status: V1ContainerStatus | undefined,
): HTMLElement {
  const spec = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c) => c.name === name);
  const probes: [string, string][] = [];
  if (spec?.startupProbe) probes.push(["Startup probe", probeText(spec.startupProbe)]);
  if (spec?.livenessProbe) probes.push(["Liveness probe", probeText(spec.livenessProbe)]);
  if (spec?.readinessProbe) probes.push(["Readiness probe", probeText(spec.readinessProbe)]);
  const mounts = (spec?.volumeMounts ?? []).map(
    (m) => `${m.mountPath} from ${m.name} (${m.readOnly ? "ro" : "rw"})`,
  );
  const stateWord = status?.state?.running
    ? "Running"
    : (status?.state?.terminated?.reason ?? status?.state?.waiting?.reason ?? "Waiting");
  return h(
    "article",
    { class: "card", "aria-label": `Container ${name}` },
    h(
      "h3",
      {},
      `${init ? "Init container" : "Container"} ${name} `,
      h("span", { class: statusClass(stateWord) }, stateWord),
    ),
    facts([
      ["Image", spec?.image ?? ""],
      ["State", stateText(status?.state)],
      ["Last state", stateText(status?.lastState)],
      ["Ready", String(status?.ready ?? false)],
      ["Started", status?.started === undefined ? "—" : String(status.started)],
      ["Restarts", String(status?.restartCount ?? 0)],
      ...probes,
      ["Mounts", mounts.length ? mounts.join("\n") : "none"],
    ]),
  );
}

export interface PodView {
  element: HTMLElement;
  update(pod: V1Pod | undefined, events: V1Event[]): void;
  close(): void;
}

export function createPodView(namespace: string, name: string): PodView {
  const summary = h("section", { "aria-labelledby": "pod-heading" });
  const containers = h("section", { "aria-labelledby": "containers-heading" });
  const eventsSection = h("section", { "aria-labelledby": "events-heading" });
  const logsHost = h("div");
  const terminalHost = h("section", { "aria-labelledby": "terminal-heading" });
  const element = h("div", {}, summary, containers, eventsSection, logsHost, terminalHost);
  let logTail: LogTail | undefined;
  let terminal: ExecTerminal | undefined;
  let lastPod: V1Pod | undefined;

  function renderTerminalControls(pod: V1Pod): void {
    if (terminalHost.childElementCount > 0) return;
    const names = pod.spec.containers.map((c) => c.name);
    const select = h("select", { id: "exec-container" }, ...names.map((n) => h("option", { value: n }, n)));
    const open = h("button", { type: "button", id: "exec-open" }, "Open terminal");
    const close = h(
      "button",
      { type: "button", class: "secondary", id: "exec-close", hidden: true },
      "Close terminal",
    );
    const area = h("div");
    open.addEventListener("click", () => {
      terminal?.close();
      terminal = createExecTerminal(namespace, name, select.value);
      area.replaceChildren(terminal.element);
      open.textContent = "Reconnect terminal";
      close.hidden = false;
    });
    close.addEventListener("click", () => {
      terminal?.close();
      terminal = undefined;
      area.replaceChildren();
      open.textContent = "Open terminal";
      close.hidden = true;
      open.focus();
    });
    terminalHost.append(
      h("h2", { id: "terminal-heading" }, "Terminal"),
      h(
        "div",
        { class: "controls" },
        h("label", { for: "exec-container" }, "Shell in container "),
        select,
        open,
        close,
      ),
      area,
    );
  }

  return {
    element,
    update(pod, events) {
      if (!pod) {
        summary.replaceChildren(
          h("h2", { id: "pod-heading" }, `Pod ${namespace}/${name}`),
          h("p", { class: "empty" }, lastPod ? "This pod was removed." : "No such pod on this node (yet)."),
        );
        return;
      }
      lastPod = pod;
      const row = podRow(pod, Date.now());
      summary.replaceChildren(
        h(
          "h2",
          { id: "pod-heading" },
          `Pod ${row.name} `,
          h("span", { class: statusClass(row.status) }, row.status),
        ),
        facts([
          ["Namespace", row.namespace],
          ["UID", pod.metadata.uid ?? ""],
          ["Phase", pod.status?.phase ?? "Pending"],
          ["Ready", row.ready],
          ["Restarts", row.restarts],
          ["Age", row.age],
          ["IP", row.ip],
          ["Node", row.node],
          ...(pod.status?.message ? ([["Message", pod.status.message]] as [string, string][]) : []),
        ]),
      );
      const statuses = new Map<string, V1ContainerStatus>();
      for (const s of [
        ...(pod.status?.initContainerStatuses ?? []),
        ...(pod.status?.containerStatuses ?? []),
      ])
        statuses.set(s.name, s);
      containers.replaceChildren(
        h("h2", { id: "containers-heading" }, "Containers"),
        ...(pod.spec.initContainers ?? []).map((c) => containerCard(pod, c.name, true, statuses.get(c.name))),
        ...pod.spec.containers.map((c) => containerCard(pod, c.name, false, statuses.get(c.name))),
      );
      const now = Date.now();
      const sorted = [...events].sort((a, b) => a.lastTimestamp.localeCompare(b.lastTimestamp));
      eventsSection.replaceChildren(
        h("h2", { id: "events-heading" }, "Events"),
        sorted.length === 0
          ? h("p", { class: "empty" }, "No events.")
          : h(
              "div",
              { class: "table-wrap" },
              h(
                "table",
                { id: "pod-events" },
                h(
                  "thead",
                  {},
                  h(
                    "tr",
                    {},
                    ...["Last seen", "Type", "Reason", "Object", "Message"].map((c) =>
                      h("th", { scope: "col" }, c),
                    ),
                  ),
                ),
                h(
                  "tbody",
                  {},
                  ...sorted.map((e) =>
                    h(
                      "tr",
                      {},
                      ...eventCells(e, now, false).map((c, i) =>
                        h("td", i === 1 ? { class: c === "Warning" ? "st-bad" : "" } : {}, c),
                      ),
                    ),
                  ),
                ),
              ),
            ),
      );
      if (!logTail) {
        logTail = createLogTail(pod);
        logsHost.replaceChildren(logTail.element);
      } else {
        logTail.podChanged(pod);
      }
      renderTerminalControls(pod);
    },
    close() {
      logTail?.close();
      terminal?.close();
    },
  };
}
