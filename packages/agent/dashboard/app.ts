// The dashboard's entry: one /watch stream feeds the pods table, the events table and the pod
// view; hash routes (#/, #/events, #/pods/NS/NAME, #/node) switch views without reloading.

import type { V1Pod } from "@nodelet/runtime-api";
import { EVENT_COLUMNS, eventCells, podRow } from "../src/client/pod-format.js";
import type { NodeFacts } from "../src/console-routes.js";
import { apiJson, h, onUnauthorized, podPath, setToken, statusClass, watch } from "./api.js";
import { loadNode } from "./node-view.js";
import { createPodView, type PodView } from "./pod-view.js";
import { createState } from "./state.js";

const main = document.getElementById("main") as HTMLElement;
const connection = document.getElementById("connection") as HTMLElement;
const tokenForm = document.getElementById("token-form") as HTMLFormElement;
const tokenInput = document.getElementById("token-input") as HTMLInputElement;

type Route =
  | { view: "pods" }
  | { view: "events" }
  | { view: "node" }
  | { view: "pod"; namespace: string; name: string };

function currentRoute(): Route {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "pods" && parts.length === 3)
    return { view: "pod", namespace: parts[1] ?? "", name: parts[2] ?? "" };
  if (parts[0] === "events") return { view: "events" };
  if (parts[0] === "node") return { view: "node" };
  return { view: "pods" };
}

const store = createState(() => scheduleRender());
let podView: PodView | undefined;
let viewAbort: AbortController | undefined;
let renderQueued = false;

function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(() => {
    renderQueued = false;
    renderLive();
  }, 50);
}

function sortedPods(): V1Pod[] {
  return [...store.state.pods.values()].sort((a, b) =>
    `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
  );
}

function podsTable(): HTMLElement {
  const pods = sortedPods();
  if (!store.state.synced) return h("p", { class: "empty" }, "Loading pods…");
  if (pods.length === 0)
    return h("p", { class: "empty" }, "No pods: put a manifest in the agent's manifest directory.");
  const now = Date.now();
  const header = ["Name", "Namespace", "Status", "Ready", "Restarts", "Age", "IP"];
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { id: "pods" },
      h("caption", {}, `${pods.length} pod${pods.length === 1 ? "" : "s"} on this node, updated live`),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...header.map((c, i) =>
            h("th", { scope: "col", class: i === 1 || i === 6 ? "hide-small" : undefined }, c),
          ),
        ),
      ),
      h(
        "tbody",
        {},
        ...pods.map((pod) => {
          const row = podRow(pod, now);
          return h(
            "tr",
            { "data-pod": `${row.namespace}/${row.name}` },
            h("td", { class: "name" }, h("a", { href: podPath(row.namespace, row.name) }, row.name)),
            h("td", { class: "hide-small" }, row.namespace),
            h("td", { class: statusClass(row.status) }, row.status),
            h("td", {}, row.ready),
            h("td", {}, row.restarts),
            h("td", {}, row.age),
            h("td", { class: "hide-small" }, row.ip),
          );
        }),
      ),
    ),
  );
}

function eventsTable(): HTMLElement {
  const events = [...store.state.events.values()].sort((a, b) =>
    b.lastTimestamp.localeCompare(a.lastTimestamp),
  );
  if (events.length === 0)
    return h("p", { class: "empty" }, store.state.synced ? "No events yet." : "Loading events…");
  const now = Date.now();
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { id: "events" },
      h("caption", {}, "Events of this node's pods, newest first"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...["Namespace", ...EVENT_COLUMNS].map((c) =>
            h("th", { scope: "col" }, c.charAt(0) + c.slice(1).toLowerCase()),
          ),
        ),
      ),
      h(
        "tbody",
        {},
        ...events.map((e) => h("tr", {}, ...eventCells(e, now, true).map((c) => h("td", {}, c)))),
      ),
    ),
  );
}

/** Replaces `host`'s content, keeping keyboard focus on the same link when it is redrawn. */
function replaceKeepingFocus(host: HTMLElement, content: HTMLElement): void {
  const active = document.activeElement;
  const href =
    active instanceof HTMLAnchorElement && host.contains(active) ? active.getAttribute("href") : null;
  host.replaceChildren(content);
  if (href) (host.querySelector(`a[href="${CSS.escape(href)}"]`) as HTMLElement | null)?.focus();
}

let liveHost: HTMLElement | undefined;

/** Redraws what the watch changes, in place. */
function renderLive(): void {
  const route = currentRoute();
  if (route.view === "pods" && liveHost) replaceKeepingFocus(liveHost, podsTable());
  else if (route.view === "events" && liveHost) replaceKeepingFocus(liveHost, eventsTable());
  else if (route.view === "pod" && podView) {
    const pod = sortedPods().find(
      (p) => (p.metadata.namespace ?? "default") === route.namespace && p.metadata.name === route.name,
    );
    const events = [...store.state.events.values()].filter(
      (e) => e.involvedObject.namespace === route.namespace && e.involvedObject.name === route.name,
    );
    if (store.state.synced) podView.update(pod, events);
  }
}

function setNav(view: string): void {
  for (const id of ["nav-pods", "nav-events", "nav-node"]) {
    const link = document.getElementById(id);
    if (link) {
      if (id === `nav-${view}`) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }
}

/** Builds the view of the current route. */
function renderRoute(): void {
  podView?.close();
  podView = undefined;
  viewAbort?.abort();
  viewAbort = new AbortController();
  liveHost = undefined;
  const route = currentRoute();
  setNav(route.view === "pod" ? "pods" : route.view);
  if (route.view === "pods" || route.view === "events") {
    liveHost = h("div");
    main.replaceChildren(h("h2", {}, route.view === "pods" ? "Pods" : "Events"), liveHost);
    document.title = route.view === "pods" ? "Pods · nodelet" : "Events · nodelet";
    renderLive();
  } else if (route.view === "pod") {
    podView = createPodView(route.namespace, route.name);
    main.replaceChildren(h("p", {}, h("a", { href: "#/" }, "← All pods")), podView.element);
    document.title = `${route.name} · nodelet`;
    renderLive();
  } else {
    const signal = viewAbort.signal;
    main.replaceChildren(h("p", { class: "empty" }, "Loading node facts…"));
    document.title = "Node · nodelet";
    const load = () =>
      loadNode(signal).then(
        (el) => {
          if (!signal.aborted) main.replaceChildren(el);
        },
        (err: unknown) => {
          if (!signal.aborted)
            main.replaceChildren(
              h("p", { class: "st-bad" }, `Cannot load node facts: ${(err as Error).message}`),
            );
        },
      );
    void load();
    const timer = setInterval(load, 10_000);
    signal.addEventListener("abort", () => clearInterval(timer));
  }
}

let watchAbort: AbortController | undefined;

function startWatch(): void {
  watchAbort?.abort();
  watchAbort = new AbortController();
  void watch(
    "types=pods,events",
    {
      onFrame: (frame) => store.frame(frame),
      onState: (connected) => {
        if (connected) store.connected();
        connection.textContent = connected ? "live" : "reconnecting…";
      },
    },
    watchAbort.signal,
  );
}

onUnauthorized(() => {
  connection.textContent = "token needed";
  tokenForm.hidden = false;
  tokenInput.focus();
});
tokenForm.addEventListener("submit", (event) => {
  event.preventDefault();
  setToken(tokenInput.value.trim());
  tokenInput.value = "";
  tokenForm.hidden = true;
  startWatch();
  renderRoute();
});
window.addEventListener("hashchange", () => {
  renderRoute();
  main.focus();
});
// Ages and "x ago" move on even when nothing changes.
setInterval(() => {
  if (currentRoute().view !== "pod") scheduleRender();
}, 5_000);
renderRoute();
startWatch();
apiJson<NodeFacts>("/node").then(
  (facts) => {
    (document.getElementById("node-name") as HTMLElement).textContent = facts.nodeName;
  },
  () => {
    // Only the header's label: the token form or the node view say what went wrong.
  },
);
