// The kubelet's command line, as far as nodelet needs it, and the resolution of the final
// configuration: defaults, then the config file, then the flags.

import { hostname } from "node:os";
import { Command, CommanderError, InvalidArgumentError } from "@commander-js/extra-typings";
import { ErrorCode, type FieldError, NodeletError } from "@nodelet/runtime-api";
import packageJson from "../package.json" with { type: "json" };
import {
  absolutePathCheck,
  type Check,
  CONFIG_DEFAULTS,
  configProblems,
  defaultSerializeImagePulls,
  durationCheck,
  endpointCheck,
  httpUrlCheck,
  integerCheck,
  ipCheck,
  type LoadConfigFileOptions,
  loadConfigFile,
  loggingFormatCheck,
  type NodeletConfig,
  show,
  stringCheck,
} from "./config.js";
import { nodeIPsCheck } from "./node-config.js";

/** nodelet's version, from its package.json. */
export const NODELET_VERSION: string = packageJson.version;

/** Settings a flag can give: everything but the resolved node name. */
export type FlagOverrides = Partial<Omit<NodeletConfig, "nodeName">>;

export interface ParsedFlags {
  /** Set when --help was given: the help text; nothing else is meaningful then. */
  help?: string;
  /** Set when --version was given: the text to print. */
  version?: string;
  /** --config */
  configFile?: string;
  /** Only the flags that were given. */
  overrides: FlagOverrides;
}

function argument<T>(check: Check<T>, parse: (text: string) => unknown = (text) => text) {
  return (text: string): T => {
    const result = check(parse(text));
    if (!result.ok) throw new InvalidArgumentError(result.problem);
    return result.value;
  };
}

const integer = (text: string): unknown => (/^\s*\+?\d+\s*$/.test(text) ? Number(text) : text);
const signedInteger = (text: string): unknown => (/^\s*[+-]?\d+\s*$/.test(text) ? Number(text) : text);

function buildProgram() {
  return new Command("nodelet")
    .description(
      "Runs Kubernetes Pod manifests on this node like the kubelet runs static pods, over a CRI runtime.",
    )
    .option("--config <file>", "a KubeletConfiguration file (YAML or JSON); flags override its values")
    .option(
      "--container-runtime-endpoint <url>",
      `the CRI runtime's endpoint, unix:///path or tcp://host:port (default "${CONFIG_DEFAULTS.containerRuntimeEndpoint}")`,
      argument(endpointCheck),
    )
    .option(
      "--root-dir <dir>",
      `directory for the agent's state; node credentials are read from <dir>/config.json (default "${CONFIG_DEFAULTS.rootDir}")`,
      argument(stringCheck),
    )
    .option(
      "--hostname-override <name>",
      "the node name to use instead of the machine's hostname",
      argument(stringCheck),
    )
    .option(
      "--pod-manifest-path <path>",
      "directory (or file) of static pod manifests",
      argument(stringCheck),
    )
    .option(
      "--manifest-url <url>",
      "URL serving a Pod or a v1 PodList, polled for static pods",
      argument(httpUrlCheck),
    )
    .option(
      "--address <ip>",
      `IP address the HTTP API listens on (default "${CONFIG_DEFAULTS.address}"); any non-loopback address needs TLS and a token file`,
      argument(ipCheck),
    )
    .option(
      "--port <n>",
      `port of the HTTP API, 1-65535 (default ${CONFIG_DEFAULTS.port})`,
      argument(integerCheck(1, 65535), integer),
    )
    .option(
      "--pod-logs-dir <dir>",
      `absolute directory for container logs (nodelet only; default "${CONFIG_DEFAULTS.podLogsDir}")`,
      argument(absolutePathCheck),
    )
    .option(
      "--image-credential-provider-config <file>",
      "a CredentialProviderConfig file naming the exec credential plugins",
      argument(stringCheck),
    )
    .option(
      "--image-credential-provider-bin-dir <dir>",
      "directory holding the credential plugin binaries",
      argument(stringCheck),
    )
    .option(
      "--tls-cert-file <file>",
      "certificate (PEM) for serving the HTTP API over TLS",
      argument(stringCheck),
    )
    .option(
      "--tls-private-key-file <file>",
      "private key (PEM) matching --tls-cert-file",
      argument(stringCheck),
    )
    .option(
      "--authentication-token-file <file>",
      "file holding the bearer token clients must send when the API is not on loopback (nodelet only)",
      argument(stringCheck),
    )
    .option(
      "--node-ip <ips>",
      "the node's IP, or one IPv4 and one IPv6 comma-separated, as pods see it in status.hostIP (default: the default route's interface)",
      argument(nodeIPsCheck),
    )
    .option(
      "--adopt-unlabelled-pods",
      "treat unlabelled pods that look like an earlier nodelet's static pods as nodelet's own (never next to a real kubelet)",
    )
    .option(
      "--minimum-container-ttl-duration <duration>",
      "minimum age of a finished container before garbage collection removes it, e.g. 30s (default 0)",
      argument(durationCheck({ min: 0 })),
    )
    .option(
      "--maximum-dead-containers-per-container <n>",
      "finished instances kept per container, -1 for no limit (default 1)",
      argument(integerCheck(-1), signedInteger),
    )
    .option(
      "--maximum-dead-containers <n>",
      "finished containers kept on the node, -1 for no limit (default -1)",
      argument(integerCheck(-1), signedInteger),
    )
    .option("-v, --v <level>", "log verbosity: 0 (default) and up", argument(integerCheck(0), integer))
    .option(
      "--logging-format <format>",
      "log format on stderr: text or json (default: text on a terminal, json otherwise)",
      argument(loggingFormatCheck),
    )
    .helpOption("-h, --help", "print this help and exit")
    .version(NODELET_VERSION, "--version", "print the version and exit")
    .addHelpText(
      "after",
      "\nSettings come from the defaults, then the --config file, then the flags (a flag wins).\n" +
        "The config file is a KubeletConfiguration (apiVersion kubelet.config.k8s.io/v1beta1).",
    );
}

/**
 * Parses the command line (the user's arguments: `process.argv.slice(2)`). Never prints and
 * never exits: `--help` and `--version` come back as text, and a bad or unknown flag throws
 * NodeletError(InvalidConfig) naming the flag and pointing at --help.
 */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  let out = "";
  const program = buildProgram()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => {
        out += text;
      },
      writeErr: () => undefined,
      outputError: () => undefined,
    });
  try {
    program.parse([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.help")
        return { help: out, overrides: {} };
      if (err.code === "commander.version") return { version: out.trim(), overrides: {} };
      const message = err.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ");
      throw new NodeletError(
        ErrorCode.InvalidConfig,
        `${message}; run nodelet --help for the list of flags`,
        {
          cause: err,
          details: { commanderCode: err.code },
        },
      );
    }
    throw err;
  }

  const options = program.opts();
  const overrides: FlagOverrides = {};
  if (options.containerRuntimeEndpoint !== undefined)
    overrides.containerRuntimeEndpoint = options.containerRuntimeEndpoint;
  if (options.rootDir !== undefined) overrides.rootDir = options.rootDir;
  if (options.hostnameOverride !== undefined) overrides.hostnameOverride = options.hostnameOverride;
  if (options.podManifestPath !== undefined) overrides.staticPodPath = options.podManifestPath;
  if (options.manifestUrl !== undefined) overrides.staticPodURL = options.manifestUrl;
  if (options.address !== undefined) overrides.address = options.address;
  if (options.port !== undefined) overrides.port = options.port;
  if (options.podLogsDir !== undefined) overrides.podLogsDir = options.podLogsDir;
  if (options.imageCredentialProviderConfig !== undefined) {
    overrides.imageCredentialProviderConfig = options.imageCredentialProviderConfig;
  }
  if (options.imageCredentialProviderBinDir !== undefined) {
    overrides.imageCredentialProviderBinDir = options.imageCredentialProviderBinDir;
  }
  if (options.tlsCertFile !== undefined) overrides.tlsCertFile = options.tlsCertFile;
  if (options.tlsPrivateKeyFile !== undefined) overrides.tlsPrivateKeyFile = options.tlsPrivateKeyFile;
  if (options.authenticationTokenFile !== undefined)
    overrides.authenticationTokenFile = options.authenticationTokenFile;
  if (options.v !== undefined) overrides.verbosity = options.v;
  if (options.nodeIp !== undefined) overrides.nodeIPs = options.nodeIp;
  if (options.adoptUnlabelledPods !== undefined) overrides.adoptUnlabelledPods = options.adoptUnlabelledPods;
  if (options.loggingFormat !== undefined) overrides.loggingFormat = options.loggingFormat;
  if (options.minimumContainerTtlDuration !== undefined)
    overrides.minimumContainerTTLDurationMs = options.minimumContainerTtlDuration;
  if (options.maximumDeadContainersPerContainer !== undefined)
    overrides.maximumDeadContainersPerContainer = options.maximumDeadContainersPerContainer;
  if (options.maximumDeadContainers !== undefined)
    overrides.maximumDeadContainers = options.maximumDeadContainers;
  return {
    ...(options.config === undefined ? {} : { configFile: options.config }),
    overrides,
  };
}

/** What resolving the configuration reads from the machine; injectable for tests. */
export interface ConfigEnvironment {
  /** The machine's hostname (default: os.hostname). */
  hostname?: () => string;
}

export interface ResolveConfigOptions extends Pick<LoadConfigFileOptions, "fs"> {
  flags: ParsedFlags;
  env?: ConfigEnvironment;
}

export interface ResolvedConfig {
  config: NodeletConfig;
  /** Unknown config file fields, one line each; the agent logs them. */
  warnings: string[];
}

const DNS1123_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The final configuration: defaults, then the config file (when --config is given), then the
 * flags. serializeImagePulls defaults to false when maxParallelImagePulls is 2 or more. The
 * node name is --hostname-override or the hostname, trimmed and lowercased, and must be a DNS
 * subdomain (static pod names end with it). Rules across fields (image GC thresholds and ages,
 * parallel pulls, TLS and token for a non-loopback address) are checked last; any problem
 * throws NodeletError(InvalidConfig) naming the fields (`details.errors`: FieldError[]).
 */
export async function resolveConfig(options: ResolveConfigOptions): Promise<ResolvedConfig> {
  const { flags } = options;
  const file =
    flags.configFile === undefined
      ? { values: {}, warnings: [] }
      : await loadConfigFile(flags.configFile, options.fs === undefined ? {} : { fs: options.fs });
  const merged: Omit<NodeletConfig, "serializeImagePulls" | "nodeName"> & { serializeImagePulls?: boolean } =
    {
      ...CONFIG_DEFAULTS,
      ...file.values,
      ...flags.overrides,
    };

  const problems: FieldError[] = [];
  const source =
    flags.overrides.hostnameOverride !== undefined ? "--hostname-override" : "the machine's hostname";
  const rawName = flags.overrides.hostnameOverride ?? (options.env?.hostname ?? hostname)();
  const nodeName = rawName.trim().toLowerCase();
  if (nodeName.length > 253 || !DNS1123_SUBDOMAIN.test(nodeName)) {
    problems.push({
      field: "nodeName",
      message:
        `${show(rawName)} (from ${source}) is not a valid node name: lowercase letters, digits, '-' and '.', ` +
        "starting and ending with a letter or digit, at most 253 characters; set --hostname-override",
    });
  }
  const config: NodeletConfig = {
    ...merged,
    serializeImagePulls:
      merged.serializeImagePulls ?? defaultSerializeImagePulls(merged.maxParallelImagePulls),
    nodeName,
  };
  problems.push(...configProblems(config));
  if (problems.length > 0) {
    const list = problems.map((p) => `${p.field}: ${p.message}`).join("; ");
    const where = flags.configFile === undefined ? "" : ` (config file ${flags.configFile} and flags)`;
    throw new NodeletError(ErrorCode.InvalidConfig, `invalid configuration${where}: ${list}`, {
      details: { errors: problems },
    });
  }
  return { config, warnings: file.warnings };
}
