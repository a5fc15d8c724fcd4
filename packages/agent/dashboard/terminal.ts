// The exec terminal: xterm.js with its default DOM renderer (text stays readable to screen
// readers and page search) over the agent's /exec WebSocket (the kubelet's path and query:
// command, input, output, tty), channel protocol v4.channel.k8s.io: one byte of channel before
// each message (0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize as {"Width","Height"}). A browser
// WebSocket cannot send an Authorization header, so the token travels as a subprotocol, as
// Kubernetes' API server accepts it: base64url.bearer.authorization.k8s.io.<base64url token>.
// Keys typed while the socket connects are kept and sent once it is open.

import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import { getToken, h } from "./api.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function base64url(text: string): string {
  let binary = "";
  for (const byte of encoder.encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function frame(channel: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

export interface ExecTerminal {
  element: HTMLElement;
  close(): void;
}

export function createExecTerminal(namespace: string, pod: string, container: string): ExecTerminal {
  const host = h("div", { class: "terminal", id: "terminal" });
  const status = h("p", { class: "muted", role: "status", "aria-live": "polite" }, "connecting…");
  const element = h("div", {}, host, status);
  const term = new Terminal({ cursorBlink: true, convertEol: false, fontSize: 14, screenReaderMode: true });
  const fit = new FitAddon();
  term.loadAddon(fit);
  const pending: Uint8Array[] = [];
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const path = `/exec/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}/${encodeURIComponent(container)}`;
  const query = "command=sh&input=1&output=1&tty=1";
  const token = getToken();
  const protocols = [
    "v4.channel.k8s.io",
    ...(token ? [`base64url.bearer.authorization.k8s.io.${base64url(token)}`] : []),
  ];
  const ws = new WebSocket(`${scheme}//${location.host}${path}?${query}`, protocols);
  ws.binaryType = "arraybuffer";
  let statusText = "";

  const send = (data: Uint8Array) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(data);
    else if (ws.readyState === WebSocket.CONNECTING) pending.push(data);
  };
  const sendResize = () => {
    send(frame(4, encoder.encode(JSON.stringify({ Width: term.cols, Height: term.rows }))));
  };
  term.onData((data) => send(frame(0, encoder.encode(data))));
  term.onResize(() => sendResize());
  ws.addEventListener("open", () => {
    status.textContent = `connected: sh in ${container}`;
    sendResize();
    for (const data of pending.splice(0)) ws.send(data);
  });
  ws.addEventListener("message", (event) => {
    const bytes = new Uint8Array(event.data as ArrayBuffer);
    if (bytes.length === 0) return;
    const payload = bytes.subarray(1);
    if (bytes[0] === 1 || bytes[0] === 2) term.write(payload);
    else if (bytes[0] === 3) statusText += decoder.decode(payload, { stream: true });
  });
  ws.addEventListener("close", () => {
    let text = "the session ended";
    try {
      const s = JSON.parse(statusText) as { status?: string; message?: string };
      if (s.status === "Failure") text = `the session ended: ${s.message ?? "failure"}`;
    } catch {
      // No status frame: the connection was closed or refused.
    }
    status.textContent = text;
  });
  ws.addEventListener("error", () => {
    status.textContent = "the terminal could not connect";
  });
  const onWindowResize = () => fit.fit();
  // Opened once the element is in the document, where xterm can measure it.
  queueMicrotask(() => {
    term.open(host);
    fit.fit();
    term.focus();
    window.addEventListener("resize", onWindowResize);
  });
  return {
    element,
    close() {
      window.removeEventListener("resize", onWindowResize);
      ws.close();
      term.dispose();
    },
  };
}
