import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, isNodeletError, type NodeletError } from "@nodelet/runtime-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONFIG_DEFAULTS,
  configProblems,
  loadConfigFile,
  type NodeletConfig,
  parseConfigText,
} from "../src/config.js";
import { resolveConfig } from "../src/flags.js";
import { isLoopbackAddress } from "../src/loopback.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "nodelet-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
async function file(content: string, name = `config-${++counter}.yaml`): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

const HEADER = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

async function failure(promise: Promise<unknown>): Promise<NodeletError> {
  try {
    await promise;
  } catch (err) {
    expect(isNodeletError(err, ErrorCode.InvalidConfig)).toBe(true);
    return err as NodeletError;
  }
  throw new Error("expected a failure");
}

function failureOf(fn: () => unknown): NodeletError {
  try {
    fn();
  } catch (err) {
    expect(isNodeletError(err, ErrorCode.InvalidConfig)).toBe(true);
    return err as NodeletError;
  }
  throw new Error("expected a failure");
}

const FULL_YAML = `${HEADER}staticPodPath: /etc/kubernetes/manifests
staticPodURL: http://127.0.0.1:8080/pods
fileCheckFrequency: 5s
httpCheckFrequency: 1m30s
syncFrequency: 2m
address: 0.0.0.0
port: 10255
podLogsDir: /srv/logs/pods
containerRuntimeEndpoint: unix:///run/crio/crio.sock
runtimeRequestTimeout: 45s
serializeImagePulls: false
maxParallelImagePulls: 3
registryPullQPS: 0
registryBurst: 20
imageGCHighThresholdPercent: 90
imageGCLowThresholdPercent: 70
imageMinimumGCAge: 5m
imageMaximumGCAge: 168h
containerLogMaxSize: 50Mi
containerLogMaxFiles: 3
cpuCFSQuota: false
cpuCFSQuotaPeriod: 50ms
seccompDefault: true
tlsCertFile: /etc/nodelet/tls.crt
tlsPrivateKeyFile: /etc/nodelet/tls.key
authenticationTokenFile: /etc/nodelet/token
logging:
  verbosity: 4
`;

const FULL_VALUES: Partial<NodeletConfig> = {
  staticPodPath: "/etc/kubernetes/manifests",
  staticPodURL: "http://127.0.0.1:8080/pods",
  fileCheckFrequencyMs: 5_000,
  httpCheckFrequencyMs: 90_000,
  syncFrequencyMs: 120_000,
  address: "0.0.0.0",
  port: 10255,
  podLogsDir: "/srv/logs/pods",
  containerRuntimeEndpoint: "unix:///run/crio/crio.sock",
  runtimeRequestTimeoutMs: 45_000,
  serializeImagePulls: false,
  maxParallelImagePulls: 3,
  registryPullQPS: 0,
  registryBurst: 20,
  imageGCHighThresholdPercent: 90,
  imageGCLowThresholdPercent: 70,
  imageMinimumGCAgeMs: 300_000,
  imageMaximumGCAgeMs: 168 * 3_600_000,
  containerLogMaxSize: 50 * 1024 * 1024,
  containerLogMaxFiles: 3,
  cpuCFSQuota: false,
  cpuCFSQuotaPeriodMs: 50,
  seccompDefault: true,
  tlsCertFile: "/etc/nodelet/tls.crt",
  tlsPrivateKeyFile: "/etc/nodelet/tls.key",
  authenticationTokenFile: "/etc/nodelet/token",
  verbosity: 4,
};

describe("loadConfigFile", () => {
  it("reads every field of a YAML KubeletConfiguration, resolved to ms and bytes", async () => {
    const result = await loadConfigFile(await file(FULL_YAML));
    expect(result.warnings).toEqual([]);
    expect(result.values).toEqual(FULL_VALUES);
  });

  it("reads the same configuration as JSON", async () => {
    const { parse } = await import("yaml");
    const json = JSON.stringify(parse(FULL_YAML), null, 2);
    const result = await loadConfigFile(await file(json, "config.json"));
    expect(result.values).toEqual(FULL_VALUES);
  });

  it("reads YAML flow style that looks like JSON but is not", async () => {
    const text = "{apiVersion: kubelet.config.k8s.io/v1beta1, kind: KubeletConfiguration, port: 1234}";
    expect((await loadConfigFile(await file(text))).values).toEqual({ port: 1234 });
  });

  it("sets nothing for a file with only apiVersion and kind, and treats null fields as unset", async () => {
    expect((await loadConfigFile(await file(HEADER))).values).toEqual({});
    expect((await loadConfigFile(await file(`${HEADER}staticPodPath:\nport: null\n`))).values).toEqual({});
  });

  it("parses Go durations", () => {
    const values = (text: string) => parseConfigText(`${HEADER}${text}`, "/c.yaml").values;
    expect(values("syncFrequency: 1m30s").syncFrequencyMs).toBe(90_000);
    expect(values("syncFrequency: 300ms").syncFrequencyMs).toBe(300);
    expect(values("syncFrequency: 1.5h").syncFrequencyMs).toBe(5_400_000);
    expect(values("imageMaximumGCAge: 0").imageMaximumGCAgeMs).toBe(0);
    expect(values("imageMaximumGCAge: 0s").imageMaximumGCAgeMs).toBe(0);
  });

  it("names the field of a bad duration and says what a duration looks like", () => {
    const err = failureOf(() => parseConfigText(`${HEADER}syncFrequency: 10x\n`, "/etc/nodelet/config.yaml"));
    expect(err.message).toBe(
      'invalid config file /etc/nodelet/config.yaml: syncFrequency: "10x" is not a duration (e.g. 1s, 1m30s)',
    );
    expect(err.details).toMatchObject({
      path: "/etc/nodelet/config.yaml",
      errors: [{ field: "syncFrequency", message: '"10x" is not a duration (e.g. 1s, 1m30s)' }],
    });
    expect(failureOf(() => parseConfigText(`${HEADER}fileCheckFrequency: 20\n`, "/c")).message).toContain(
      "fileCheckFrequency: must be a duration string (e.g. 1s, 1m30s), got 20",
    );
    expect(failureOf(() => parseConfigText(`${HEADER}syncFrequency: 0s\n`, "/c")).message).toContain(
      'syncFrequency: must be greater than 0, got "0s"',
    );
    expect(failureOf(() => parseConfigText(`${HEADER}imageMinimumGCAge: -1m\n`, "/c")).message).toContain(
      "imageMinimumGCAge: must be at least 0s",
    );
    expect(failureOf(() => parseConfigText(`${HEADER}cpuCFSQuotaPeriod: 2s\n`, "/c")).message).toContain(
      'cpuCFSQuotaPeriod: must be at most 1s, got "2s"',
    );
  });

  it("takes maxPods (the kubelet's default 110) and names it when it is not a count", () => {
    const values = (text: string) => parseConfigText(`${HEADER}${text}`, "/c.yaml").values;
    expect(values("maxPods: 30").maxPods).toBe(30);
    expect(values("maxPods: 0").maxPods).toBe(0);
    expect(failureOf(() => parseConfigText(`${HEADER}maxPods: -1\n`, "/c")).details).toMatchObject({
      errors: [{ field: "maxPods" }],
    });
    expect(failureOf(() => parseConfigText(`${HEADER}maxPods: "many"\n`, "/c")).message).toContain(
      "maxPods: ",
    );
  });

  it("reports every invalid value at once, each with its field and what is allowed", () => {
    const text = `${HEADER}port: 70000
address: localhost
podLogsDir: logs/pods
containerRuntimeEndpoint: http://127.0.0.1:1234
serializeImagePulls: "yes"
containerLogMaxFiles: 1
containerLogMaxSize: ten
imageGCHighThresholdPercent: 101
registryPullQPS: -1
maxParallelImagePulls: 0
staticPodURL: ftp://example.com/pods
staticPodPath: ""
logging:
  verbosity: -2
`;
    const err = failureOf(() => parseConfigText(text, "/c.yaml"));
    const fields = (err.details.errors as { field: string; message: string }[]).map((e) => e.field);
    expect(fields).toEqual([
      "staticPodPath",
      "staticPodURL",
      "address",
      "port",
      "podLogsDir",
      "containerRuntimeEndpoint",
      "serializeImagePulls",
      "maxParallelImagePulls",
      "registryPullQPS",
      "imageGCHighThresholdPercent",
      "containerLogMaxSize",
      "containerLogMaxFiles",
      "logging.verbosity",
    ]);
    expect(err.message).toContain("port: must be an integer from 1 to 65535, got 70000");
    expect(err.message).toContain(
      'address: must be an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1), got "localhost"',
    );
    expect(err.message).toContain('podLogsDir: must be an absolute path, got "logs/pods"');
    expect(err.message).toContain(
      'containerRuntimeEndpoint: endpoint "http://127.0.0.1:1234" has unsupported scheme',
    );
    expect(err.message).toContain('serializeImagePulls: must be true or false, got "yes"');
    expect(err.message).toContain("containerLogMaxFiles: must be an integer of at least 2, got 1");
    expect(err.message).toContain('containerLogMaxSize: must be a size like 10Mi, 512Ki or 1G, got "ten"');
    expect(err.message).toContain("imageGCHighThresholdPercent: must be an integer from 0 to 100, got 101");
    expect(err.message).toContain("logging.verbosity: must be an integer of at least 0, got -2");
  });

  it("refuses a path that is not normalized for podLogsDir", () => {
    expect(
      failureOf(() => parseConfigText(`${HEADER}podLogsDir: /var/log/../pods\n`, "/c")).message,
    ).toContain("podLogsDir: must be a normalized path");
  });

  it("warns about each unknown field, suggesting a close known one, and ignores it", () => {
    const text = `${HEADER}syncFrequncy: 1m\neventRecordQPS: 5\nport: 1\nlogging:\n  flushFrequency: 5s\n  format: json\n  verbosity: 1\n`;
    const result = parseConfigText(text, "/etc/c.yaml");
    expect(result.warnings).toEqual([
      '/etc/c.yaml: unknown field "syncFrequncy" is ignored (did you mean "syncFrequency"?)',
      '/etc/c.yaml: unknown field "eventRecordQPS" is ignored',
      '/etc/c.yaml: unknown field "logging.flushFrequency" is ignored',
    ]);
    expect(result.values).toEqual({ port: 1, verbosity: 1, loggingFormat: "json" });
  });

  it("requires the KubeletConfiguration apiVersion and kind", () => {
    expect(failureOf(() => parseConfigText("port: 1\n", "/c")).message).toBe(
      'invalid config file /c: apiVersion: is required: "kubelet.config.k8s.io/v1beta1"; kind: is required: "KubeletConfiguration"',
    );
    const wrong = "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\n";
    const message = failureOf(() => parseConfigText(wrong, "/c")).message;
    expect(message).toContain(
      'apiVersion: must be "kubelet.config.k8s.io/v1beta1", got "kubelet.config.k8s.io/v1"',
    );
    expect(message).toContain('kind: must be "KubeletConfiguration", got "CredentialProviderConfig"');
  });

  it("refuses something that is not one mapping", () => {
    expect(failureOf(() => parseConfigText("- a\n- b\n", "/c")).message).toContain("must be a mapping");
    expect(failureOf(() => parseConfigText("", "/c")).message).toContain("is empty");
    expect(failureOf(() => parseConfigText(`${HEADER}---\n${HEADER}`, "/c")).message).toContain(
      "holds 2 YAML documents",
    );
  });

  it("reports a YAML syntax error with its line and column", () => {
    const err = failureOf(() => parseConfigText(`${HEADER}port: 1\nport: 2\n`, "/etc/c.yaml"));
    expect(err.message).toBe("/etc/c.yaml: invalid YAML at line 4, column 1: Map keys must be unique");
    expect(failureOf(() => parseConfigText(`${HEADER}address: [1,\nport: 2`, "/c")).message).toMatch(
      /^\/c: invalid YAML at line \d+, column \d+: /,
    );
  });

  it("resolves relative paths against the config file's directory, as the kubelet does", async () => {
    const path = await file(`${HEADER}staticPodPath: manifests\ntlsCertFile: ../tls/cert.pem\n`);
    const { values } = await loadConfigFile(path);
    expect(values.staticPodPath).toBe(join(dir, "manifests"));
    expect(values.tlsCertFile).toBe(join(dir, "..", "tls", "cert.pem"));
  });

  describe("refuses hostile files without hanging or crashing", () => {
    it("deep flow nesting, before the yaml package sees it (several times in one process)", async () => {
      for (const depth of [100_000, 10_000, 101]) {
        const deep = `${HEADER}x: ${"[".repeat(depth)}${"]".repeat(depth)}\n`;
        const err = await failure(loadConfigFile(await file(deep)));
        expect(err.message).toContain("nesting is deeper than 100 levels");
      }
      const json = `{"apiVersion": "kubelet.config.k8s.io/v1beta1", "x": ${"[".repeat(50_000)}${"]".repeat(50_000)}}`;
      expect((await failure(loadConfigFile(await file(json)))).message).toContain("nesting is deeper");
    });

    it("deep block nesting", async () => {
      const dashes = `${HEADER}x:\n${"- ".repeat(100_000)}a\n`;
      expect((await failure(loadConfigFile(await file(dashes)))).message).toContain("nesting is deeper");
      let indented = HEADER;
      for (let i = 0; i < 150; i++) indented += `${" ".repeat(i)}k${i}:\n`;
      expect((await failure(loadConfigFile(await file(indented)))).message).toContain("nesting is deeper");
    });

    it("a YAML alias that contains itself", () => {
      expect(failureOf(() => parseConfigText(`${HEADER}x: &a [*a]\n`, "/c")).message).toContain(
        "nesting is deeper than 100 levels (or a YAML alias refers to itself)",
      );
    });

    it("a file over 1 MiB, before reading it", async () => {
      const path = await file(`${HEADER}# ${"x".repeat(2 * 1024 * 1024)}\n`);
      expect((await failure(loadConfigFile(path))).message).toBe(`${path}: is 2 MiB; the limit is 1 MiB`);
    });

    it("a FIFO, a character device and a directory", async () => {
      const fifo = join(dir, "config.fifo");
      execFileSync("mkfifo", [fifo]);
      expect((await failure(loadConfigFile(fifo))).message).toBe(
        `${fifo}: is a named pipe (FIFO), not a regular file`,
      );
      const link = join(dir, "fifo-link.yaml");
      await symlink(fifo, link);
      expect((await failure(loadConfigFile(link))).message).toBe(
        `${link}: is a symlink to ${fifo}, which is a named pipe (FIFO), not a regular file`,
      );
      expect((await failure(loadConfigFile("/dev/zero"))).message).toBe(
        "/dev/zero: is a character device, not a regular file",
      );
      const sub = join(dir, "a-dir");
      await mkdir(sub);
      expect((await failure(loadConfigFile(sub))).message).toBe(`${sub}: is a directory, not a regular file`);
    });

    it("a missing file", async () => {
      const path = join(dir, "missing.yaml");
      expect((await failure(loadConfigFile(path))).message).toBe(`${path}: does not exist`);
    });

    it("a file that is not UTF-8", async () => {
      const path = join(dir, "latin1.yaml");
      await writeFile(path, Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
      expect((await failure(loadConfigFile(path))).message).toBe(`${path}: is not UTF-8 text`);
    });
  });
});

describe("resolveConfig", () => {
  const env = { hostname: () => "Node-1.Example.COM " };

  it("fills every default when nothing is given", async () => {
    const { config, warnings } = await resolveConfig({ flags: { overrides: {} }, env });
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      fileCheckFrequencyMs: 20_000,
      httpCheckFrequencyMs: 20_000,
      syncFrequencyMs: 60_000,
      maxPods: 110,
      address: "127.0.0.1",
      port: 10250,
      podLogsDir: "/var/log/pods",
      containerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
      runtimeRequestTimeoutMs: 120_000,
      serializeImagePulls: true,
      registryPullQPS: 5,
      registryBurst: 10,
      imageGCHighThresholdPercent: 85,
      imageGCLowThresholdPercent: 80,
      imageMinimumGCAgeMs: 120_000,
      imageMaximumGCAgeMs: 0,
      containerLogMaxSize: 10 * 1024 * 1024,
      containerLogMaxFiles: 5,
      containerLogMaxWorkers: 1,
      containerLogMonitorIntervalMs: 10_000,
      containerLogsDir: "/var/log/containers",
      cpuCFSQuota: true,
      cpuCFSQuotaPeriodMs: 100,
      seccompDefault: false,
      rootDir: "/var/lib/kubelet",
      verbosity: 0,
      nodeName: "node-1.example.com",
    } satisfies NodeletConfig);
    expect(config).toMatchObject(CONFIG_DEFAULTS);
  });

  it("takes the file over the defaults and the flags over the file", async () => {
    const path = await file(`${HEADER}port: 2000\nsyncFrequency: 10s\naddress: 127.0.0.2\nbogus: 1\n`);
    const { config, warnings } = await resolveConfig({
      flags: { configFile: path, overrides: { port: 3000, hostnameOverride: "Override" } },
      env,
    });
    expect(config.port).toBe(3000);
    expect(config.syncFrequencyMs).toBe(10_000);
    expect(config.address).toBe("127.0.0.2");
    expect(config.registryBurst).toBe(10);
    expect(config.nodeName).toBe("override");
    expect(config.hostnameOverride).toBe("Override");
    expect(warnings).toEqual([`${path}: unknown field "bogus" is ignored`]);
  });

  it("defaults serializeImagePulls to false when maxParallelImagePulls is 2 or more, as the kubelet", async () => {
    const parallel = await file(`${HEADER}maxParallelImagePulls: 4\n`);
    expect(
      (await resolveConfig({ flags: { configFile: parallel, overrides: {} }, env })).config,
    ).toMatchObject({
      serializeImagePulls: false,
      maxParallelImagePulls: 4,
    });
    const one = await file(`${HEADER}maxParallelImagePulls: 1\n`);
    expect(
      (await resolveConfig({ flags: { configFile: one, overrides: {} }, env })).config.serializeImagePulls,
    ).toBe(true);
    const unlimited = await file(`${HEADER}serializeImagePulls: false\n`);
    const { config } = await resolveConfig({ flags: { configFile: unlimited, overrides: {} }, env });
    expect(config.serializeImagePulls).toBe(false);
    expect(config.maxParallelImagePulls).toBeUndefined();
  });

  it("refuses rules across fields, naming them", async () => {
    const path = await file(
      `${HEADER}serializeImagePulls: true\nmaxParallelImagePulls: 3\nimageGCLowThresholdPercent: 85\nimageMinimumGCAge: 10m\nimageMaximumGCAge: 5m\n`,
    );
    const err = await failure(resolveConfig({ flags: { configFile: path, overrides: {} }, env }));
    expect(err.message).toContain(`invalid configuration (config file ${path} and flags): `);
    expect(err.message).toContain(
      "maxParallelImagePulls: 3 must be 1 or unset when serializeImagePulls is true",
    );
    expect(err.message).toContain(
      "imageGCLowThresholdPercent: 85 must be less than imageGCHighThresholdPercent (85)",
    );
    expect(err.message).toContain(
      "imageMaximumGCAge: 5m0s must be greater than imageMinimumGCAge (10m0s), or 0 to turn it off",
    );
  });

  it("refuses a node name that cannot end a pod name", async () => {
    const err = await failure(
      resolveConfig({ flags: { overrides: {} }, env: { hostname: () => "my_host" } }),
    );
    expect(err.message).toContain(
      `nodeName: "my_host" (from the machine's hostname) is not a valid node name`,
    );
    expect(err.message).toContain("set --hostname-override");
  });

  it("serves on a non-loopback address only with TLS and a token file", async () => {
    const err = await failure(resolveConfig({ flags: { overrides: { address: "0.0.0.0" } }, env }));
    expect(err.message).toContain(
      "address (--address): 0.0.0.0 is not a loopback address: serving the API there needs TLS and bearer-token " +
        "authentication; set --tls-cert-file, --tls-private-key-file, --authentication-token-file",
    );
    const secured = {
      address: "0.0.0.0",
      tlsCertFile: "/c.pem",
      tlsPrivateKeyFile: "/k.pem",
      authenticationTokenFile: "/t",
    };
    expect((await resolveConfig({ flags: { overrides: secured }, env })).config.address).toBe("0.0.0.0");
    expect((await resolveConfig({ flags: { overrides: { address: "::1" } }, env })).config.address).toBe(
      "::1",
    );
  });

  it("needs the certificate and the key together", () => {
    const base = { ...CONFIG_DEFAULTS, serializeImagePulls: true, nodeName: "n" } as NodeletConfig;
    expect(configProblems({ ...base, tlsCertFile: "/c" })).toEqual([
      {
        field: "tlsPrivateKeyFile (--tls-private-key-file)",
        message: "is required too: a TLS certificate and its private key go together",
      },
    ]);
    expect(configProblems(base)).toEqual([]);
  });
});

describe("isLoopbackAddress", () => {
  it("knows 127.0.0.0/8 and ::1", () => {
    for (const address of ["127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]) {
      expect(isLoopbackAddress(address), address).toBe(true);
    }
    for (const address of ["0.0.0.0", "10.0.0.1", "::", "::2", "fe80::1", "::ffff:10.0.0.1"]) {
      expect(isLoopbackAddress(address), address).toBe(false);
    }
  });
});
