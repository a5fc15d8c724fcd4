import { readFile } from "node:fs/promises";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { ErrorCode, NodeletError } from "@nodelet/runtime-api";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

// The fault proxy's rules, as code passes them and as the rules file (YAML) holds them:
//
//   rules:
//     - method: PullImage          # RPC name, or a glob: "*", "*Container*", "ImageService/*"
//       probability: 0.5           # of the matching calls (default 1)
//       delayMs: 200               # before answering or failing
//       code: UNAVAILABLE          # gRPC status name or number; without it the call goes through
//       message: registry down
//     - method: GetContainerEvents
//       dropAfter: 3               # server streams: end with `code` (default UNAVAILABLE) after 3 messages

const statusNames = Object.keys(GrpcStatus).filter((k) => Number.isNaN(Number(k))) as [string, ...string[]];

const ruleSchema = z.strictObject({
  method: z.string().min(1),
  probability: z.number().min(0).max(1).optional(),
  delayMs: z.number().int().min(0).optional(),
  code: z
    .union([z.enum(statusNames), z.number().int().min(1).max(16)])
    .refine((c) => c !== "OK", "OK is not a fault")
    .optional(),
  message: z.string().optional(),
  dropAfter: z.number().int().min(0).optional(),
});

const rulesFileSchema = z.strictObject({ rules: z.array(ruleSchema) });

/** One fault rule; the first rule whose method matches a call (and whose dice roll hits) applies. */
export type FaultRule = z.input<typeof ruleSchema>;

/** A rule checked and compiled for matching. */
export interface CompiledRule {
  rule: FaultRule;
  pattern: RegExp;
  /** gRPC status number; undefined when the rule only delays (or drops with the default). */
  status: GrpcStatus | undefined;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    "",
  );
}

function invalid(source: string, error: z.ZodError): NodeletError {
  const problems = error.issues.map((i) => `${source}: ${formatPath(i.path) || "(top)"}: ${i.message}`);
  return new NodeletError(ErrorCode.InvalidConfig, problems.join("\n"), {
    details: { source, fields: error.issues.map((i) => formatPath(i.path)) },
  });
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/** Checks rules (from code or a parsed file) and compiles them; InvalidConfig names the field. */
export function compileFaultRules(rules: unknown, source = "rules"): CompiledRule[] {
  const parsed = rulesFileSchema.safeParse({ rules });
  if (!parsed.success) throw invalid(source, parsed.error);
  return parsed.data.rules.map((rule) => ({
    rule,
    pattern: globToRegExp(rule.method),
    status: typeof rule.code === "string" ? GrpcStatus[rule.code as keyof typeof GrpcStatus] : rule.code,
  }));
}

function flowDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (const ch of text) {
    if (ch === "[" || ch === "{") max = Math.max(max, ++depth);
    else if (ch === "]" || ch === "}") depth = Math.max(0, depth - 1);
  }
  return max;
}

/** Reads a rules file: YAML (or JSON) with a top-level `rules:` list. Errors name the file and field. */
export async function loadFaultRules(path: string): Promise<FaultRule[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new NodeletError(
      ErrorCode.InvalidConfig,
      `${path}: cannot read the rules file (${(err as Error).message})`,
      {
        cause: err,
        details: { source: path },
      },
    );
  }
  // The yaml parser can abort the process on very deep nesting: bound size and flow depth first.
  if (text.length > 64 * 1024 || flowDepth(text) > 32) {
    throw new NodeletError(
      ErrorCode.InvalidConfig,
      `${path}: too large or too deeply nested for a rules file`,
      {
        details: { source: path },
      },
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new NodeletError(ErrorCode.InvalidConfig, `${path}: not valid YAML (${(err as Error).message})`, {
      cause: err,
      details: { source: path },
    });
  }
  const parsed = rulesFileSchema.safeParse(doc ?? {});
  if (!parsed.success) throw invalid(path, parsed.error);
  return parsed.data.rules;
}
