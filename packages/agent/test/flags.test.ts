import { readFile } from "node:fs/promises";
import { ErrorCode, isNodeletError, type NodeletError } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { NODELET_VERSION, parseFlags } from "../src/flags.js";

function failure(argv: string[]): NodeletError {
  try {
    parseFlags(argv);
  } catch (err) {
    expect(isNodeletError(err, ErrorCode.InvalidConfig)).toBe(true);
    return err as NodeletError;
  }
  throw new Error(`expected ${argv.join(" ")} to fail`);
}

describe("parseFlags", () => {
  it("maps every flag onto the configuration", () => {
    const parsed = parseFlags([
      "--config",
      "/etc/nodelet/config.yaml",
      "--container-runtime-endpoint",
      "unix:///run/containerd/containerd.sock",
      "--root-dir",
      "/var/lib/nodelet",
      "--hostname-override",
      "node-a",
      "--pod-manifest-path",
      "/etc/kubernetes/manifests",
      "--manifest-url",
      "http://127.0.0.1:8080/pods",
      "--address",
      "::1",
      "--port",
      "10255",
      "--pod-logs-dir",
      "/srv/pods",
      "--image-credential-provider-config",
      "/etc/nodelet/credential-providers.yaml",
      "--image-credential-provider-bin-dir",
      "/usr/libexec/nodelet/credential-providers",
      "--tls-cert-file",
      "/etc/nodelet/tls.crt",
      "--tls-private-key-file",
      "/etc/nodelet/tls.key",
      "--authentication-token-file",
      "/etc/nodelet/token",
      "-v",
      "3",
    ]);
    expect(parsed).toEqual({
      configFile: "/etc/nodelet/config.yaml",
      overrides: {
        containerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
        rootDir: "/var/lib/nodelet",
        hostnameOverride: "node-a",
        staticPodPath: "/etc/kubernetes/manifests",
        staticPodURL: "http://127.0.0.1:8080/pods",
        address: "::1",
        port: 10255,
        podLogsDir: "/srv/pods",
        imageCredentialProviderConfig: "/etc/nodelet/credential-providers.yaml",
        imageCredentialProviderBinDir: "/usr/libexec/nodelet/credential-providers",
        tlsCertFile: "/etc/nodelet/tls.crt",
        tlsPrivateKeyFile: "/etc/nodelet/tls.key",
        authenticationTokenFile: "/etc/nodelet/token",
        verbosity: 3,
      },
    });
  });

  it("sets only the flags given, and accepts --flag=value and the kubelet's --v spelling", () => {
    expect(parseFlags([])).toEqual({ overrides: {} });
    expect(parseFlags(["--port=8080", "--v=5"])).toEqual({ overrides: { port: 8080, verbosity: 5 } });
    expect(parseFlags(["-v2"]).overrides.verbosity).toBe(2);
  });

  it("lets the last of a repeated flag win", () => {
    expect(parseFlags(["--port", "1", "--port", "2"]).overrides.port).toBe(2);
  });

  it("returns the help text instead of printing it", () => {
    const { help, overrides } = parseFlags(["--help"]);
    expect(overrides).toEqual({});
    expect(help).toMatch(/^Usage: nodelet \[options\]/);
    for (const flag of [
      "--config <file>",
      "--container-runtime-endpoint <url>",
      "--root-dir <dir>",
      "--hostname-override <name>",
      "--pod-manifest-path <path>",
      "--manifest-url <url>",
      "--address <ip>",
      "--port <n>",
      "--image-credential-provider-config <file>",
      "--image-credential-provider-bin-dir <dir>",
      "--tls-cert-file <file>",
      "--tls-private-key-file <file>",
      "--authentication-token-file <file>",
      "-v, --v <level>",
      "-h, --help",
      "--version",
    ]) {
      expect(help).toContain(flag);
    }
    expect(help).toContain("Settings come from the defaults, then the --config file, then the flags");
    expect(parseFlags(["-h"]).help).toBe(help);
  });

  it("returns the version from package.json", async () => {
    const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(NODELET_VERSION).toBe(pkg.version);
    expect(parseFlags(["--version"])).toEqual({ version: pkg.version, overrides: {} });
  });

  it("refuses a bad port, naming the flag and the range", () => {
    for (const port of ["0", "65536", "abc", "80.5", "-1"]) {
      const err = failure(["--port", port]);
      expect(err.message).toBe(
        `option '--port <n>' argument '${port}' is invalid. must be an integer from 1 to 65535, got ` +
          `${/^\d+$/.test(port) ? port : JSON.stringify(port)}; run nodelet --help for the list of flags`,
      );
    }
    expect(failure(["--port"]).message).toBe(
      "option '--port <n>' argument missing; run nodelet --help for the list of flags",
    );
  });

  it("refuses other bad values, naming the flag", () => {
    expect(failure(["--address", "localhost"]).message).toContain(
      "option '--address <ip>' argument 'localhost'",
    );
    expect(failure(["--manifest-url", "file:///etc/pods"]).message).toContain("must be an http or https URL");
    expect(failure(["--container-runtime-endpoint", "/run/containerd.sock"]).message).toContain(
      "option '--container-runtime-endpoint <url>' argument '/run/containerd.sock' is invalid. endpoint",
    );
    expect(failure(["-v", "high"]).message).toContain("option '-v, --v <level>' argument 'high' is invalid");
    expect(failure(["--pod-logs-dir", "logs"]).message).toContain("must be an absolute path");
    expect(failure(["--root-dir", ""]).message).toContain("must be a non-empty string");
  });

  it("refuses an unknown flag, naming it, suggesting a close one and pointing at --help", () => {
    expect(failure(["--bogus"]).message).toBe(
      "unknown option '--bogus'; run nodelet --help for the list of flags",
    );
    expect(failure(["--prot", "1"]).message).toBe(
      "unknown option '--prot' (Did you mean --port?); run nodelet --help for the list of flags",
    );
    expect(failure(["run"]).message).toContain("too many arguments");
  });
});
