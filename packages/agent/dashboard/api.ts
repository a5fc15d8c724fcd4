// The page's side of the agent's API: the bearer token (entered once, kept in localStorage),
// fetch with it, and /watch read with the shared server-sent-events reader (fetch, not
// EventSource: EventSource cannot send the Authorization header).

import { readSseFrames, type SseFrame } from "../src/client/sse.js";

const TOKEN_KEY = "nodelet.token";

export function getToken(): string | undefined {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    // Storage can be disabled (private modes, policies): the token then lives only in memory.
    return memoryToken;
  }
}
let memoryToken: string | undefined;

export function setToken(token: string): void {
  memoryToken = token;
  try {
    localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // See getToken.
  }
}

/** The agent refused the token (or none was given while one is required). */
export class UnauthorizedError extends Error {
  constructor() {
    super("the agent asks for a token");
    this.name = "UnauthorizedError";
  }
}

const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): void {
  unauthorizedListeners.add(listener);
}

export async function apiFetch(path: string, signal?: AbortSignal): Promise<Response> {
  const token = getToken();
  const response = await fetch(path, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    cache: "no-store",
    ...(signal ? { signal } : {}),
  });
  if (response.status === 401) {
    for (const l of unauthorizedListeners) l();
    throw new UnauthorizedError();
  }
  if (!response.ok) {
    const text = (await response.text().catch(() => "")).trim();
    throw new Error(text || `${path}: HTTP ${response.status}`);
  }
  return response;
}

export async function apiJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await (await apiFetch(path, signal)).json()) as T;
}

export interface WatchHandlers {
  onFrame(frame: SseFrame): void;
  /** Connected (true) or lost and retrying (false). */
  onState?(connected: boolean): void;
}

/**
 * Reads /watch?query until the signal aborts, reconnecting after the server's retry hint (each
 * reconnect starts with a fresh snapshot, so the caller resets its state on `synced`).
 */
export async function watch(query: string, handlers: WatchHandlers, signal: AbortSignal): Promise<void> {
  let retryMs = 2000;
  while (!signal.aborted) {
    try {
      const response = await apiFetch(`/watch?${query}`, signal);
      if (!response.body) throw new Error("no body");
      handlers.onState?.(true);
      for await (const frame of readSseFrames(response.body, (ms) => {
        retryMs = ms;
      })) {
        handlers.onFrame(frame);
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof UnauthorizedError) return;
    }
    handlers.onState?.(false);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, retryMs);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** An element with children; text is always set as text (never HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: (Node | string | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === "class") el.className = String(value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** The CSS class for a pod or container status word. */
export function statusClass(status: string): string {
  if (status === "Running" || status === "Succeeded" || status === "Completed") return "st-ok";
  if (/Err|BackOff|Failed|Error|OOMKilled|Invalid|Unknown/.test(status)) return "st-bad";
  return "st-warn";
}

export function podPath(namespace: string, name: string): string {
  return `#/pods/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

/**
 * Image sizes in the page (kB to TB). runtime-api's formatBytes says the same for the agent's own
 * messages, but the page cannot bundle runtime-api (it reads files with node:fs).
 */
export function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u += 1;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
