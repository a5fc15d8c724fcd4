import { ErrorCode } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../src/config.js";
import { parseFlags } from "../src/flags.js";
import { requirePodSource } from "../src/node-config.js";

const HEADER = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

describe("node settings in the config file and flags", () => {
  it("reads clusterDNS, clusterDomain, resolvConf and adoptUnlabelledPods", () => {
    const text = `${HEADER}clusterDNS: [10.96.0.10, fd00::a]\nclusterDomain: cluster.local.\nresolvConf: ""\nadoptUnlabelledPods: true\n`;
    expect(parseConfigText(text, "/etc/c.yaml")).toEqual({
      values: {
        clusterDNS: ["10.96.0.10", "fd00::a"],
        clusterDomain: "cluster.local",
        resolvConf: "",
        adoptUnlabelledPods: true,
      },
      warnings: [],
    });
  });

  it.each([
    ["clusterDNS: 10.96.0.10", /clusterDNS: must be a list of IP addresses/],
    ["clusterDNS: [kube-dns]", /clusterDNS: "kube-dns" is not an IP address/],
    ["clusterDomain: Bad_Domain", /clusterDomain: must be a DNS domain/],
    ["adoptUnlabelledPods: yes please", /adoptUnlabelledPods/],
  ])("refuses %s", (line, message) => {
    expect(() => parseConfigText(`${HEADER}${line}\n`, "/etc/c.yaml")).toThrow(message);
  });

  it("--node-ip and --adopt-unlabelled-pods", () => {
    expect(parseFlags(["--node-ip", "10.0.0.5,fd00::5", "--adopt-unlabelled-pods"]).overrides).toEqual({
      nodeIPs: ["10.0.0.5", "fd00::5"],
      adoptUnlabelledPods: true,
    });
    expect(() => parseFlags(["--node-ip", "eth0"])).toThrow(/--node-ip.*not an IP address/);
  });

  it("the agent refuses to start without a pod source", () => {
    expect(() => requirePodSource({})).toThrow(expect.objectContaining({ code: ErrorCode.InvalidConfig }));
    expect(() => requirePodSource({})).toThrow(/staticPodPath \(--pod-manifest-path\) or staticPodURL/);
    expect(() => requirePodSource({ staticPodPath: "/does/not/exist" })).not.toThrow();
    expect(() => requirePodSource({ staticPodURL: "https://example.test/pods" })).not.toThrow();
  });
});
