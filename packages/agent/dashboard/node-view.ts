// Node facts from GET /node: the runtime's name and version, the agent's health checks, the images
// with their sizes, and the garbage collection figures the agent's metrics hold.

import type { NodeFacts } from "../src/console-routes.js";
import { apiJson, formatBytes, h } from "./api.js";

function table(id: string, caption: string, header: string[], rows: string[][]): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { id },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ...header.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
    ),
  );
}

export function renderNode(facts: NodeFacts): HTMLElement {
  const images = [...facts.images].sort((a, b) => b.sizeBytes - a.sizeBytes);
  const total = images.reduce((n, i) => n + i.sizeBytes, 0);
  return h(
    "div",
    {},
    h("h2", {}, `Node ${facts.nodeName}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Runtime"),
      h("dd", {}, `${facts.runtime.name} ${facts.runtime.version}`),
      h("dt", {}, "CRI API"),
      h("dd", {}, facts.runtime.apiVersion),
      h("dt", {}, "Images"),
      h("dd", {}, `${images.length}, ${formatBytes(total)}`),
    ),
    h("h2", {}, "Health"),
    table(
      "node-health",
      "The agent's /healthz checks",
      ["Check", "Result", "Message"],
      facts.health.map((c) => [c.name, c.ok ? "ok" : "failed", c.message]),
    ),
    h("h2", {}, "Images"),
    table(
      "node-images",
      "Images in the runtime, largest first",
      ["Image", "Size", "Pinned"],
      images.map((i) => [i.tags.join(", ") || i.id, formatBytes(i.sizeBytes), i.pinned ? "yes" : "no"]),
    ),
    h("h2", {}, "Garbage collection"),
    facts.gc.length === 0
      ? h("p", { class: "empty" }, "No garbage collection figures yet.")
      : table(
          "node-gc",
          "Container and image garbage collection metrics",
          ["Metric", "Labels", "Value"],
          facts.gc.map((g) => [
            g.name,
            Object.entries(g.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(", "),
            String(g.value),
          ]),
        ),
  );
}

export async function loadNode(signal: AbortSignal): Promise<HTMLElement> {
  return renderNode(await apiJson<NodeFacts>("/node", signal));
}
