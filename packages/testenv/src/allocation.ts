import { readFile, rename, writeFile } from "node:fs/promises";
import { type CniNetwork, chooseNetwork } from "./network.js";
import type { Layout } from "./paths.js";
import { isPortFree, pickPort } from "./ports.js";

export type Snapshotter = "overlayfs" | "native";

export interface Ports {
  plainRegistry: number;
  authRegistry: number;
  streaming: number;
}

/** Per-environment choices made at the first `up` and kept so later runs reuse the same values. */
export interface Allocation {
  version: 1;
  stateDir: string;
  ports: Ports;
  cni: CniNetwork;
  snapshotter: Snapshotter | null;
}

export type PortOwner = keyof Ports;

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, file);
}

export async function loadAllocation(layout: Layout): Promise<Allocation | undefined> {
  try {
    const value = JSON.parse(await readFile(layout.allocationFile, "utf8")) as Allocation;
    // A state dir that was moved or copied must not keep another environment's names.
    return value.version === 1 && value.stateDir === layout.stateDir ? value : undefined;
  } catch {
    return undefined;
  }
}

export async function saveAllocation(layout: Layout, allocation: Allocation): Promise<void> {
  await writeJsonAtomic(layout.allocationFile, allocation);
}

function portSeed(layout: Layout): number {
  return Number.parseInt(layout.hash.slice(16, 24), 16);
}

export async function createAllocation(layout: Layout): Promise<Allocation> {
  const seed = portSeed(layout);
  const taken = new Set<number>();
  const plainRegistry = await pickPort(seed, taken);
  taken.add(plainRegistry);
  const authRegistry = await pickPort(seed, taken);
  taken.add(authRegistry);
  const streaming = await pickPort(seed, taken);
  return {
    version: 1,
    stateDir: layout.stateDir,
    ports: { plainRegistry, authRegistry, streaming },
    cni: await chooseNetwork(layout.id, layout.hash),
    snapshotter: null,
  };
}

/**
 * A persisted port may have been taken by someone else while our daemon was stopped; move such
 * ports (only those whose daemon is not ours and running) to a new free one.
 */
export async function refreshPorts(
  layout: Layout,
  allocation: Allocation,
  ownedAndRunning: ReadonlySet<PortOwner>,
): Promise<{ allocation: Allocation; moved: PortOwner[] }> {
  const ports = { ...allocation.ports };
  const moved: PortOwner[] = [];
  for (const owner of Object.keys(ports) as PortOwner[]) {
    if (ownedAndRunning.has(owner) || (await isPortFree(ports[owner]))) continue;
    ports[owner] = await pickPort(portSeed(layout), new Set(Object.values(ports)));
    moved.push(owner);
  }
  return { allocation: { ...allocation, ports }, moved };
}
