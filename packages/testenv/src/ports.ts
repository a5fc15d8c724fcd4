import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { TestEnvError } from "./errors.js";

const LOWEST_PORT = 20000;

export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

// Ports below the kernel's ephemeral range cannot be grabbed by some outgoing connection's local port
// while our daemon is stopped, so a persisted port stays usable across `down`/`up`.
async function ephemeralStart(): Promise<number> {
  try {
    const [low] = (await readFile("/proc/sys/net/ipv4/ip_local_port_range", "utf8")).trim().split(/\s+/);
    const value = Number.parseInt(low ?? "", 10);
    return Number.isInteger(value) && value > LOWEST_PORT + 1000 ? value : 32768;
  } catch {
    return 32768;
  }
}

/** A free loopback port, probed from a per-environment starting point so two environments rarely race. */
export async function pickPort(seed: number, exclude: ReadonlySet<number>): Promise<number> {
  const span = (await ephemeralStart()) - LOWEST_PORT;
  for (let i = 0; i < span; i++) {
    const port = LOWEST_PORT + ((seed + i) % span);
    if (!exclude.has(port) && (await isPortFree(port))) return port;
  }
  throw new TestEnvError("NO_FREE_PORT", `no free port between ${LOWEST_PORT} and ${LOWEST_PORT + span}`);
}
