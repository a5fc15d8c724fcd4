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
 * Reads the WebSocket channel protocols from a connection's message pieces: a binary message's
 * first byte is its channel, and the rest streams on as it arrives; a text message (v4.base64)
 * comes whole, its channel an ASCII digit, then the payload in base64. `onPayload` gets each
 * non-empty payload in order; an empty message (the "streams ready" signal) gives nothing.
 */
export function channelReader(
  onPayload: (channel: number, payload: Buffer) => void,
): (piece: Buffer, binary: boolean, first: boolean) => void {
  let channel = -1;
  return (piece, binary, first) => {
    if (!binary) {
      const text = piece.toString("latin1");
      const payload = Buffer.from(text.slice(1), "base64");
      if (payload.length > 0) onPayload(text.charCodeAt(0) - 48, payload);
      return;
    }
    if (first) channel = -1;
    let payload = piece;
    if (channel < 0) {
      if (payload.length === 0) return;
      channel = payload[0] as number;
      payload = payload.subarray(1);
    }
    if (payload.length > 0) onPayload(channel, payload);
  };
}

/** What sends a channel protocol's messages (a WebSocketConnection). */
export interface MessageSink {
  sendBinary(parts: readonly Buffer[], cb?: () => void): void;
  sendText(text: string, cb?: () => void): void;
}

/** One-byte buffers for each channel number, shared by every message sent. */
const CHANNEL_BYTES = Array.from({ length: 256 }, (_, i) => Buffer.from([i]));

/** Sends `parts` as one message on `channel`: binary, or base64 text for v4.base64. */
export function sendOnChannel(
  sink: MessageSink,
  base64: boolean,
  channel: number,
  parts: readonly Buffer[],
  cb?: () => void,
): void {
  if (base64) {
    const payload = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    sink.sendText(`${String.fromCharCode(48 + channel)}${payload.toString("base64")}`, cb);
    return;
  }
  sink.sendBinary([CHANNEL_BYTES[channel] as Buffer, ...parts], cb);
}
