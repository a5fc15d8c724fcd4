import { ErrorCode, isRecord, NodeletError, parseGoDurationNanos } from "@nodelet/runtime-api";
import { z } from "zod";
import { formatFieldPath } from "./plugin-config.js";

export type PluginCacheKeyType = "Image" | "Registry" | "Global";

/** A plugin's answer, validated. */
export interface CredentialProviderResponse {
  cacheKeyType: PluginCacheKeyType;
  /** Absent: the provider's defaultCacheDuration applies. 0: not cached. */
  cacheDurationMs: number | undefined;
  /** Image match pattern → credentials, in the order the plugin wrote them. */
  auth: Map<string, { username: string; password: string }>;
}

const responseSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal("CredentialProviderResponse"),
  cacheKeyType: z.enum(["Image", "Registry", "Global"]),
  cacheDuration: z
    .string()
    .refine((text) => typeof parseGoDurationNanos(text) === "bigint", { error: "is not a Go duration" })
    .nullish(),
  auth: z
    .record(z.string(), z.strictObject({ username: z.string().optional(), password: z.string().optional() }))
    .nullish(),
});

/** An apiVersion quoted only when it looks like one (the output is otherwise never quoted). */
function describeApiVersion(value: unknown): string {
  if (value === undefined) return "none";
  return typeof value === "string" && /^[A-Za-z0-9.\-/]{1,100}$/.test(value)
    ? JSON.stringify(value)
    : "(not an apiVersion)";
}

/**
 * Decodes a plugin's stdout as the kubelet does: the apiVersion must equal the configured one,
 * then a strict decode (unknown fields rejected), kind `CredentialProviderResponse`, cacheKeyType
 * required. Failures are `CredentialProviderError`s that describe the output by its size and the
 * failing fields only, never by its content.
 */
export function decodeCredentialProviderResponse(
  stdout: Buffer,
  expectedApiVersion: string,
  context: { name: string; image: string },
): CredentialProviderResponse {
  const fail = (what: string, details: Record<string, unknown> = {}) =>
    new NodeletError(
      ErrorCode.CredentialProviderError,
      `credential provider plugin "${context.name}" for image "${context.image}" ${what}`,
      { details: { plugin: context.name, image: context.image, stdoutBytes: stdout.length, ...details } },
    );
  let value: unknown;
  try {
    value = JSON.parse(stdout.toString("utf8"));
  } catch {
    throw fail(`wrote ${stdout.length} bytes to stdout that are not JSON`);
  }
  if (!isRecord(value)) throw fail(`wrote ${stdout.length} bytes to stdout that are not a JSON object`);
  if (value.apiVersion !== expectedApiVersion) {
    throw fail(
      `answered apiVersion ${describeApiVersion(value.apiVersion)}; expected ${JSON.stringify(expectedApiVersion)}`,
    );
  }
  const parsed = responseSchema.safeParse(value);
  if (!parsed.success) {
    // Field paths and zod's messages (which name expected types, not values).
    const problems = parsed.error.issues.map((issue) =>
      issue.code === "unrecognized_keys"
        ? `${formatFieldPath(issue.path)}: unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`
        : `${formatFieldPath(issue.path)}: ${issue.message}`,
    );
    throw fail(
      `answered an invalid CredentialProviderResponse (${stdout.length} bytes): ${problems.join("; ")}`,
      {
        problems,
      },
    );
  }
  const { cacheKeyType, cacheDuration, auth } = parsed.data;
  const nanos = cacheDuration == null ? undefined : (parseGoDurationNanos(cacheDuration) as bigint);
  return {
    cacheKeyType,
    cacheDurationMs: nanos === undefined ? undefined : Number(nanos) / 1e6,
    auth: new Map(
      Object.entries(auth ?? {}).map(([key, entry]) => [
        key,
        { username: entry.username ?? "", password: entry.password ?? "" },
      ]),
    ),
  };
}
