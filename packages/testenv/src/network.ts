import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { TestEnvError } from "./errors.js";
import { run, runChecked } from "./exec.js";
import type { Logger } from "./log.js";

export interface CniNetwork {
  network: string;
  bridge: string;
  subnet: string;
}

interface Route {
  prefix: number;
  bits: number;
  dev: string | undefined;
}

function parseIPv4(text: string): number | undefined {
  const parts = text.split(".").map((p) => Number.parseInt(p, 10));
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return (
    (((parts[0] as number) << 24) |
      ((parts[1] as number) << 16) |
      ((parts[2] as number) << 8) |
      (parts[3] as number)) >>>
    0
  );
}

function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

export function cidrsOverlap(
  a: { prefix: number; bits: number },
  b: { prefix: number; bits: number },
): boolean {
  const m = mask(Math.min(a.bits, b.bits));
  return (a.prefix & m) >>> 0 === (b.prefix & m) >>> 0;
}

async function hostRoutes(): Promise<Route[]> {
  const result = await run("ip", ["-4", "-o", "route", "show", "table", "all"]);
  const routes: Route[] = [];
  for (const line of result.stdout.split("\n")) {
    const words = line.trim().split(/\s+/);
    // Skip route types such as "local"/"broadcast" and take the destination that follows.
    const dst = ["local", "broadcast", "unicast", "multicast"].includes(words[0] ?? "") ? words[1] : words[0];
    if (!dst || dst === "default") continue;
    const [addr, bitsText] = dst.split("/");
    const prefix = parseIPv4(addr ?? "");
    if (prefix === undefined) continue;
    const devIndex = words.indexOf("dev");
    routes.push({
      prefix,
      bits: bitsText === undefined ? 32 : Number.parseInt(bitsText, 10),
      dev: devIndex >= 0 ? words[devIndex + 1] : undefined,
    });
  }
  return routes;
}

/**
 * Network name and bridge come straight from the environment id (`nl` + 8 hex = 10 chars, under
 * IFNAMSIZ); the /24 is derived from the same hash and moved along when the host already routes it.
 */
export async function chooseNetwork(id: string, hash: string): Promise<CniNetwork> {
  const name = `nl${id}`;
  const h = Number.parseInt(hash.slice(0, 8), 16);
  const h2 = Number.parseInt(hash.slice(8, 16), 16);
  const routes = (await hostRoutes()).filter((r) => r.dev !== name);
  // Walk 10.100-199.x.0/24 starting at the hashed position: 10.<100+h%100>.<h2%256>.0/24.
  for (let i = 0; i < 100 * 256; i++) {
    const third = (h2 + i) % 256;
    const second = 100 + ((h + Math.floor(((h2 % 256) + i) / 256)) % 100);
    const candidate = { prefix: parseIPv4(`10.${second}.${third}.0`) as number, bits: 24 };
    if (!routes.some((r) => cidrsOverlap(r, candidate))) {
      return { network: name, bridge: name, subnet: `10.${second}.${third}.0/24` };
    }
  }
  throw new TestEnvError(
    "SUBNET_CONFLICT",
    "every candidate 10.x.y.0/24 subnet is already routed on this host",
  );
}

export async function linkExists(name: string): Promise<boolean> {
  return (await run("ip", ["link", "show", "dev", name])).code === 0;
}

export async function deleteBridge(name: string, log: Logger): Promise<void> {
  if (!(await linkExists(name))) return;
  log.info(`deleting bridge ${name}`);
  await runChecked("ip", ["link", "delete", "dev", name]);
}

/**
 * After `down` no pod of this environment survives, so IP leases and libcni's cached results for our
 * network (and the loopback results of the sandboxes we killed) are stale; dropping them keeps the /24
 * from filling up across restarts.
 */
export async function forgetLeases(
  ipamDir: string,
  network: string,
  sandboxIds: readonly string[],
): Promise<void> {
  await rm(join(ipamDir, network), { recursive: true, force: true });
  const cache = "/var/lib/cni/results";
  let entries: string[] = [];
  try {
    entries = await readdir(cache);
  } catch {
    return;
  }
  const loopback = new Set(sandboxIds.map((id) => `cni-loopback-${id}-lo`));
  await Promise.all(
    entries
      .filter((e) => e.startsWith(`${network}-`) || loopback.has(e))
      .map((e) => rm(join(cache, e), { force: true })),
  );
}
