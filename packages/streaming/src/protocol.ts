// Names and numbers of the Kubernetes streaming protocols (k8s.io/apimachinery httpstream and
// remotecommand): subprotocols, stream types, channel numbers, header names.

export const WS_V5 = "v5.channel.k8s.io";
export const WS_V4 = "v4.channel.k8s.io";
export const WS_V4_BASE64 = "v4.base64.channel.k8s.io";
/** Offered in this order: the server picks the first it supports (the kubelet and containerd do). */
export const WEBSOCKET_PROTOCOLS = [WS_V5, WS_V4, WS_V4_BASE64] as const;

export const SPDY_REMOTECOMMAND_V4 = "v4.channel.k8s.io";
export const SPDY_PORTFORWARD = "portforward.k8s.io";

export const HEADER_PROTOCOL_VERSION = "X-Stream-Protocol-Version";
export const HEADER_ACCEPTED_VERSIONS = "X-Accepted-Stream-Protocol-Versions";

/** WebSocket channel numbers of remotecommand. */
export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** SPDY stream types (the `streamType` header). */
export const StreamType = {
  error: "error",
  stdin: "stdin",
  stdout: "stdout",
  stderr: "stderr",
  resize: "resize",
  data: "data",
} as const;

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface TerminalSize {
  width: number;
  height: number;
}

/** The JSON the resize channel carries (Go decodes it case-insensitively). */
export function resizeMessage(size: TerminalSize): Buffer {
  return Buffer.from(JSON.stringify({ Width: size.width, Height: size.height }));
}

/**
 * One message of the WebSocket channel protocols: a binary frame starts with its channel byte; a
 * base64 one (v4.base64, or any text frame) with the channel as an ASCII digit, then the payload
 * in base64. Undefined for an empty message.
 */
export function decodeChannelMessage(
  data: Buffer,
  binary: boolean,
  base64: boolean,
): { channel: number; payload: Buffer } | undefined {
  if (base64 || !binary) {
    const text = data.toString("latin1");
    if (text === "") return undefined;
    return { channel: text.charCodeAt(0) - 48, payload: Buffer.from(text.slice(1), "base64") };
  }
  if (data.length === 0) return undefined;
  return { channel: data[0] as number, payload: data.subarray(1) };
}
