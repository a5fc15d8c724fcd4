import { ErrorCode, isRecord, NodeletError } from "@nodelet/runtime-api";
import { decodeBase64Strict } from "./base64.js";

/** One registry's credentials from a docker config file or a pull secret. */
export interface DockerConfigEntry {
  username: string;
  password: string;
  /** Kept, but not sent to the runtime (as in the kubelet). */
  email: string;
  identityToken: string;
  registryToken: string;
}

/** Registry key (as written in the file) → credentials, in file order. */
export type DockerConfig = ReadonlyMap<string, DockerConfigEntry>;

export interface ParseDockerConfigOptions {
  /** Names the input in warnings and errors: a file path, or `secret <namespace>/<name>`. */
  source: string;
  /** Called once per entry that was skipped; the message never holds a secret. */
  onWarning?: ((message: string) => void) | undefined;
}

function invalid(source: string, what: string): NodeletError {
  return new NodeletError(ErrorCode.InvalidConfig, `${source}: ${what}`, { details: { source } });
}

function parseJsonObject(text: string, source: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's own message quotes the input, which may hold credentials: say only what is wrong.
    throw invalid(source, "is not valid JSON");
  }
  if (!isRecord(value)) throw invalid(source, "is not a JSON object");
  return value;
}

const STRING_FIELDS = ["auth", "username", "password", "email", "identitytoken", "registrytoken"] as const;

/** Parses one entry; returns the reason (never the value) when it is malformed. */
function parseEntry(value: unknown): DockerConfigEntry | string {
  if (!isRecord(value)) return "is not an object";
  for (const field of STRING_FIELDS) {
    const v = value[field];
    if (v !== undefined && v !== null && typeof v !== "string") return `field "${field}" is not a string`;
  }
  const text = (field: (typeof STRING_FIELDS)[number]): string => {
    const v = value[field];
    return typeof v === "string" ? v : "";
  };
  let username = text("username");
  let password = text("password");
  const auth = text("auth");
  if (auth !== "") {
    const decoded = decodeBase64Strict(auth);
    if (decoded === undefined) return 'field "auth" is not valid base64';
    const plain = decoded.toString("utf8");
    const colon = plain.indexOf(":");
    if (colon < 0) return 'field "auth" must be base64 of "username:password" (no ":" found)';
    // The decoded auth overrides username/password, as in the kubelet.
    username = plain.slice(0, colon);
    password = plain.slice(colon + 1);
  }
  return {
    username,
    password,
    email: text("email"),
    identityToken: text("identitytoken"),
    registryToken: text("registrytoken"),
  };
}

/** Parses a registry-key → entry map (the body of `auths`, or a whole `.dockercfg`). */
export function parseDockerConfigEntries(value: unknown, options: ParseDockerConfigOptions): DockerConfig {
  if (!isRecord(value)) throw invalid(options.source, "credentials are not a JSON object");
  const config = new Map<string, DockerConfigEntry>();
  for (const [key, raw] of Object.entries(value)) {
    const entry = parseEntry(raw);
    if (typeof entry === "string") {
      options.onWarning?.(`${options.source}: entry ${JSON.stringify(key)} ${entry}; ignoring it`);
      continue;
    }
    config.set(key, entry);
  }
  return config;
}

/**
 * Parses a `config.json` (`{"auths": {...}}`, also the content of a `kubernetes.io/dockerconfigjson`
 * secret). A malformed entry is reported through `onWarning` and left out; a document that is not
 * a JSON object, or whose `auths` is not an object, throws `InvalidConfig`. No `auths` → empty.
 */
export function parseDockerConfigJson(text: string, options: ParseDockerConfigOptions): DockerConfig {
  const document = parseJsonObject(text, options.source);
  const auths = document.auths;
  if (auths === undefined || auths === null) return new Map();
  if (!isRecord(auths)) throw invalid(options.source, '"auths" is not a JSON object');
  return parseDockerConfigEntries(auths, options);
}

/** Parses a legacy `.dockercfg` (the registry map at top level; also `kubernetes.io/dockercfg`). */
export function parseDockercfg(text: string, options: ParseDockerConfigOptions): DockerConfig {
  return parseDockerConfigEntries(parseJsonObject(text, options.source), options);
}
