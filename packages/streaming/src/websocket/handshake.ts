// The opening handshake's keys (RFC 6455 section 4): the client's random key and the accept value
// the server derives from it, which the client checks.

import { createHash, randomBytes } from "node:crypto";

/** The GUID that RFC 6455 appends to the client's key. */
const HANDSHAKE_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** A key as the RFC defines it: 16 random bytes in base64. */
const KEY_PATTERN = /^[+/0-9A-Za-z]{21}[AQgw]==$/;

export function newClientKey(): string {
  return randomBytes(16).toString("base64");
}

export function isValidClientKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/** The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`. */
export function acceptValue(key: string): string {
  return createHash("sha1")
    .update(key + HANDSHAKE_GUID)
    .digest("base64");
}
