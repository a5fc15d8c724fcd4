import { isIP } from "node:net";

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and "localhost": where plain HTTP without auth is allowed. */
export function isLoopbackAddress(address: string): boolean {
  const host = address.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) {
    if (host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    return mapped !== null && (mapped[1] as string).startsWith("127.");
  }
  return false;
}
