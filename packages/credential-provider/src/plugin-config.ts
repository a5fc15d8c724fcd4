import {
  ErrorCode,
  NodeletError,
  parseGoDurationNanos,
  RegularFileError,
  readRegularFileText,
} from "@nodelet/runtime-api";
import { parseDocument } from "yaml";
import { z } from "zod";
import { matchPatternProblem } from "./url-match.js";

export const CREDENTIAL_PROVIDER_CONFIG_API_VERSIONS = [
  "kubelet.config.k8s.io/v1",
  "kubelet.config.k8s.io/v1beta1",
  "kubelet.config.k8s.io/v1alpha1",
] as const;

export const CREDENTIAL_PROVIDER_API_VERSIONS = [
  "credentialprovider.kubelet.k8s.io/v1",
  "credentialprovider.kubelet.k8s.io/v1beta1",
  "credentialprovider.kubelet.k8s.io/v1alpha1",
] as const;

export type CredentialProviderApiVersion = (typeof CREDENTIAL_PROVIDER_API_VERSIONS)[number];

export interface CredentialProviderEnvVar {
  name: string;
  value: string;
}

/** One exec plugin, validated. */
export interface CredentialProvider {
  /** The binary's file name in the plugin bin dir. */
  name: string;
  /** Globs of `host[:port][/path]`; the plugin runs only for images matching one. */
  matchImages: string[];
  /** Cache lifetime of an answer without cacheDuration, in ms (0: not cached). */
  defaultCacheDurationMs: number;
  /** The request/response apiVersion spoken with the plugin. */
  apiVersion: CredentialProviderApiVersion;
  args: string[];
  env: CredentialProviderEnvVar[];
}

export interface CredentialProviderConfig {
  apiVersion: (typeof CREDENTIAL_PROVIDER_CONFIG_API_VERSIONS)[number];
  kind: "CredentialProviderConfig";
  providers: CredentialProvider[];
}

type Issue = { input?: unknown };
const isMissing = (issue: Issue) => issue.input === undefined;

function field(required: string, wrongType: string) {
  return (issue: Issue) => (isMissing(issue) ? required : wrongType);
}

const nameSchema = z
  .string({
    error: field("is required (the plugin's file name in the bin dir)", "must be a string"),
  })
  .superRefine((name, ctx) => {
    const problem =
      name === ""
        ? "must not be empty"
        : name.includes("/") || name.includes("\\")
          ? "must not contain a path separator (put the binary in the plugin bin dir and give its file name)"
          : name.includes(" ")
            ? "must not contain spaces"
            : name === "." || name === ".."
              ? `must not be ${JSON.stringify(name)}`
              : undefined;
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  });

const durationSchema = z
  .string({
    error: field(
      'is required (a Go duration such as "12h" or "1m30s", or "0s" for no caching)',
      'must be a Go duration string such as "12h" or "0s"',
    ),
  })
  .superRefine((text, ctx) => {
    const nanos = parseGoDurationNanos(text);
    if (typeof nanos !== "bigint") {
      ctx.addIssue({
        code: "custom",
        message: `${nanos.error} (write a Go duration such as "12h", "1m30s" or "0s")`,
      });
    } else if (nanos < 0n) {
      ctx.addIssue({ code: "custom", message: "must be greater than or equal to 0" });
    }
  });

const matchImageSchema = z.string({ error: "must be a string" }).superRefine((pattern, ctx) => {
  const problem = matchPatternProblem(pattern);
  if (problem !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: `match image ${JSON.stringify(pattern)} is invalid: ${problem} (write host[:port][/path] with globs in host labels, e.g. "*.registry.io" or "registry.io:5000/team")`,
    });
  }
});

const providerSchema = z.strictObject({
  name: nameSchema,
  matchImages: z
    .array(matchImageSchema, {
      error: field("is required (list at least one image pattern)", "must be a list of image patterns"),
    })
    .min(1, { error: "at least 1 item in matchImages is required" }),
  defaultCacheDuration: durationSchema,
  apiVersion: z.enum(CREDENTIAL_PROVIDER_API_VERSIONS, {
    error: field(
      `is required (one of ${CREDENTIAL_PROVIDER_API_VERSIONS.join(", ")})`,
      `must be one of ${CREDENTIAL_PROVIDER_API_VERSIONS.join(", ")}`,
    ),
  }),
  args: z.array(z.string({ error: "must be a string" }), { error: "must be a list of strings" }).optional(),
  env: z
    .array(
      z.strictObject({
        name: z
          .string({ error: field("is required", "must be a string") })
          .min(1, { error: "must not be empty" }),
        value: z.string({ error: field('is required (use "" for empty)', "must be a string") }),
      }),
      { error: "must be a list of {name, value}" },
    )
    .optional(),
  tokenAttributes: z
    .unknown()
    .refine((value) => value === undefined, {
      error:
        "is not supported: nodelet has no service-account token mode (the kubelet's KubeletServiceAccountTokenForCredentialProviders), remove it",
    })
    .optional(),
});

const configSchema = z
  .strictObject(
    {
      apiVersion: z.enum(CREDENTIAL_PROVIDER_CONFIG_API_VERSIONS, {
        error: field(
          `is required (set it to ${CREDENTIAL_PROVIDER_CONFIG_API_VERSIONS[0]})`,
          `must be one of ${CREDENTIAL_PROVIDER_CONFIG_API_VERSIONS.join(", ")}`,
        ),
      }),
      kind: z.literal("CredentialProviderConfig", {
        error: field(
          'is required (set it to "CredentialProviderConfig")',
          'must be "CredentialProviderConfig"',
        ),
      }),
      providers: z
        .array(providerSchema, {
          error: field("is required (list at least one provider)", "must be a list of providers"),
        })
        .min(1, { error: "at least 1 item in providers is required" }),
    },
    { error: "must be a CredentialProviderConfig: a mapping with apiVersion, kind and providers" },
  )
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.providers.forEach((provider, i) => {
      if (seen.has(provider.name)) {
        ctx.addIssue({
          code: "custom",
          path: ["providers", i, "name"],
          message: `duplicate provider name ${JSON.stringify(provider.name)} (each provider needs its own name)`,
        });
      }
      seen.add(provider.name);
    });
  });

/** `providers[0].defaultCacheDuration` from zod's path. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "(document)" : out;
}

export interface ConfigFieldError {
  field: string;
  message: string;
}

function fieldErrors(issues: readonly z.core.$ZodIssue[]): ConfigFieldError[] {
  const out: ConfigFieldError[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({
          field: formatFieldPath([...issue.path, key]),
          message: "is not a known field (remove it or fix its spelling)",
        });
      }
    } else {
      out.push({ field: formatFieldPath(issue.path), message: issue.message });
    }
  }
  return out;
}

function configError(source: string, errors: ConfigFieldError[]): NodeletError {
  const list = errors.map((e) => `${e.field}: ${e.message}`).join("; ");
  return new NodeletError(ErrorCode.InvalidConfig, `invalid credential provider config ${source}: ${list}`, {
    details: { file: source, errors },
  });
}

/**
 * Parses and validates a CredentialProviderConfig (YAML or JSON). Any problem throws
 * `InvalidConfig` naming `source`, each field path (`providers[0].defaultCacheDuration`) and the fix.
 */
export function parseCredentialProviderConfig(text: string, source: string): CredentialProviderConfig {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    // The parser's message quotes the file; the file may hold env values, so give only where.
    const first = document.errors[0] as (typeof document.errors)[number];
    const where = first.linePos?.[0]
      ? ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}`
      : "";
    throw configError(source, [
      { field: "(document)", message: `is not valid YAML or JSON (${first.code}${where}), fix the syntax` },
    ]);
  }
  const parsed = configSchema.safeParse(document.toJS());
  if (!parsed.success) throw configError(source, fieldErrors(parsed.error.issues));
  const config = parsed.data;
  return {
    apiVersion: config.apiVersion,
    kind: config.kind,
    providers: config.providers.map((p) => ({
      name: p.name,
      matchImages: p.matchImages,
      defaultCacheDurationMs: Number(parseGoDurationNanos(p.defaultCacheDuration) as bigint) / 1e6,
      apiVersion: p.apiVersion,
      args: p.args ?? [],
      env: p.env ?? [],
    })),
  };
}

/** Reads (a regular file, at most 1 MiB) and parses a CredentialProviderConfig file. */
export async function loadCredentialProviderConfig(file: string): Promise<CredentialProviderConfig> {
  let text: string;
  try {
    text = await readRegularFileText(file);
  } catch (error) {
    if (!(error instanceof RegularFileError)) throw error;
    const problem =
      error.problem === "missing"
        ? `${error.detail}; check the image credential provider config path`
        : error.detail;
    throw new NodeletError(ErrorCode.InvalidConfig, `credential provider config ${file} ${problem}`, {
      cause: error,
      details: { file },
    });
  }
  return parseCredentialProviderConfig(text, file);
}
