import type { NetworkInterfaceInfo } from "node:os";
import { ErrorCode } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { nodeIPsCheck } from "../src/node-config.js";
import { chooseNodeIPs, defaultRouteInterface } from "../src/node-ip.js";

function addr(address: string, internal = false): NetworkInterfaceInfo {
  const family = address.includes(":") ? "IPv6" : "IPv4";
  return { address, family, internal, netmask: "", mac: "", cidr: null } as NetworkInterfaceInfo;
}

// Bridges listed first, as os.networkInterfaces() may order them: they must never be picked.
const interfaces = () => ({
  lo: [addr("127.0.0.1", true), addr("::1", true)],
  cni0: [addr("10.88.0.1")],
  docker0: [addr("172.17.0.1")],
  nl18af75e5: [addr("10.165.84.1"), addr("fe80::90f4:85ff:fe66:5ef2")],
  eth0: [addr("192.0.2.2"), addr("fd00::2"), addr("fe80::fc:ff:fe00:1")],
});
const v4Routes = [
  "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT",
  "nl18af75e5\t0054A50A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
  "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0",
].join("\n");
const v6Routes =
  "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n";
const env = { interfaces, ipv4Routes: () => v4Routes, ipv6Routes: () => v6Routes };

describe("chooseNodeIPs", () => {
  it("defaults to the default route's interface, never a bridge", () => {
    expect(chooseNodeIPs(undefined, env)).toEqual(["192.0.2.2"]);
  });

  it("without a default route, takes the first interface that is not a bridge", () => {
    expect(chooseNodeIPs(undefined, { ...env, ipv4Routes: () => "", ipv6Routes: () => "" })).toEqual([
      "192.0.2.2",
    ]);
    const bridgesOnly = () => ({ cni0: [addr("10.88.0.1")], docker0: [addr("172.17.0.1")] });
    expect(
      chooseNodeIPs(undefined, { interfaces: bridgesOnly, ipv4Routes: () => "", ipv6Routes: () => "" }),
    ).toEqual([]);
  });

  it("takes --node-ip when this host has it; :: and 0.0.0.0 detect that family", () => {
    expect(chooseNodeIPs(["192.0.2.2", "fd00::2"], env)).toEqual(["192.0.2.2", "fd00::2"]);
    expect(chooseNodeIPs(["::"], env)).toEqual(["fd00::2"]);
    expect(chooseNodeIPs(["0.0.0.0", "::"], env)).toEqual(["192.0.2.2", "fd00::2"]);
  });

  it.each([
    ["203.0.113.9", /not an address of this host/],
    ["127.0.0.1", /loopback/],
    ["fe80::fc:ff:fe00:1", /link-local/],
    ["224.0.0.1", /multicast/],
  ])("refuses --node-ip %s", (ip, message) => {
    expect(() => chooseNodeIPs([ip], env)).toThrow(message);
    expect(() => chooseNodeIPs([ip], env)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidConfig }),
    );
  });

  it("parses the route tables", () => {
    expect(defaultRouteInterface(v4Routes, 4)).toBe("eth0");
    expect(defaultRouteInterface(v6Routes, 6)).toBe("eth0");
    expect(defaultRouteInterface("garbage\n\n", 4)).toBeUndefined();
  });
});

describe("--node-ip values", () => {
  it("one IP or one per family", () => {
    expect(nodeIPsCheck("10.0.0.1")).toEqual({ ok: true, value: ["10.0.0.1"] });
    expect(nodeIPsCheck("10.0.0.1, fd00::1")).toEqual({ ok: true, value: ["10.0.0.1", "fd00::1"] });
    expect(nodeIPsCheck("10.0.0.1,10.0.0.2")).toMatchObject({ ok: false });
    expect(nodeIPsCheck("a,b,c")).toMatchObject({ ok: false });
    expect(nodeIPsCheck("eth0")).toMatchObject({ ok: false, problem: expect.stringContaining("not an IP") });
  });
});
