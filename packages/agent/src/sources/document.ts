// Reading untrusted files (pod manifests, the config file) without hanging or crashing the
// process: only regular files, a size limit enforced while reading, and a nesting bound checked
// on the text before any parser builds a tree. The `yaml` package aborts the whole process
// (uncatchably) after very deeply nested documents, and a FIFO or /dev/zero read as a manifest
// blocks forever or exhausts memory (see the project's toolchain notes).

import { type ErrorCode, errorMessage, NodeletError } from "@nodelet/runtime-api";
import { CST, Lexer, parseAllDocuments, type YAMLError } from "yaml";

/** 1 MiB: far above any real pod manifest or config file. */
export const DEFAULT_MAX_BYTES = 1024 * 1024;
/** Nesting levels a document may have; a pod is about 10 deep. */
export const DEFAULT_MAX_DEPTH = 100;
/** Values (objects, arrays and scalars) a parsed document may hold, aliases expanded. */
const MAX_NODES = 1_000_000;

// The safe regular-file reader lives in @nodelet/runtime-api; re-exported for the sources here.
export type { ReadFs, ReadRegularFileOptions } from "@nodelet/runtime-api";
export {
  decodeUtf8,
  errnoCode,
  formatBytes,
  nodeReadFs,
  readRegularFileText as readRegularFile,
} from "@nodelet/runtime-api";

export interface ParseOptions {
  /** Names the document in messages: a file path or a URL. */
  origin: string;
  code: ErrorCode;
  maxDepth: number;
}

/**
 * Parses JSON (tried first) or YAML, returning every non-empty document in order. Nesting is
 * bounded on the text before parsing, and the parsed values are walked once more so YAML
 * aliases can neither loop nor multiply the data.
 */
export function parseDocuments(text: string, options: ParseOptions): unknown[] {
  const fail = (problem: string, cause?: unknown): NodeletError =>
    new NodeletError(options.code, `${options.origin}: ${problem}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { origin: options.origin },
    });
  const tooDeep = (): NodeletError =>
    fail(`nesting is deeper than ${options.maxDepth} levels; nodelet refuses it before parsing`);
  const check = (value: unknown): unknown => checkTree(value, options.maxDepth, (problem) => fail(problem));

  if (/^\s*[[{]/.test(text) && jsonDepth(text) <= options.maxDepth) {
    try {
      return [check(JSON.parse(text))];
    } catch (err) {
      if (err instanceof NodeletError) throw err;
      // Not JSON after all (YAML flow style often looks like it): let the YAML parser judge,
      // it reports the line and column.
    }
  }

  if (yamlDepth(text, options.maxDepth) > options.maxDepth) throw tooDeep();
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const values: unknown[] = [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error !== undefined) throw fail(yamlProblem(error), error);
    if (doc.contents === null) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      throw fail(`cannot be read as YAML: ${firstLine(errorMessage(err))}`, err);
    }
    if (value === null || value === undefined) continue;
    values.push(check(value));
  }
  return values;
}

/** `invalid YAML at line 3, column 1: Map keys must be unique` */
function yamlProblem(error: YAMLError): string {
  const message = firstLine(error.message).replace(/ at line \d+, column \d+:?$/, "");
  const at = error.linePos?.[0];
  return at === undefined
    ? `invalid YAML: ${message}`
    : `invalid YAML at line ${at.line}, column ${at.col}: ${message}`;
}

function firstLine(text: string): string {
  const end = text.indexOf("\n");
  return end === -1 ? text : text.slice(0, end);
}

/** Nesting depth of JSON text: brackets outside strings. Exact for valid JSON. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
    } else if (ch === 0x22) {
      inString = true;
    } else if (ch === 0x5b /* [ */ || ch === 0x7b /* { */) {
      depth++;
      if (depth > max) max = depth;
    } else if (ch === 0x5d /* ] */ || ch === 0x7d /* } */) {
      depth = Math.max(0, depth - 1);
    }
  }
  return max;
}

/**
 * An upper estimate of a YAML text's nesting depth, from the yaml package's lexer (which is
 * iterative, so it is safe on any input): flow brackets exactly (quoted scalars are single
 * tokens, so brackets inside strings do not count), block nesting as the stack of indentation
 * columns plus the `- ` and `? ` indicators that open a nested collection on the same line.
 * Stops counting once `limit` is exceeded.
 */
export function yamlDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  const indents: number[] = [];
  let flow = 0;
  let max = 0;
  let lineStart = true;
  let indent = 0;
  let markers = 0;
  let blockHeader = false;
  let skip: "none" | "scalar" | "block-scalar" = "none";
  for (const token of new Lexer().lex(text)) {
    if (skip !== "none") {
      // The source of a scalar: its inner lines and brackets are text. A block scalar's source
      // runs through its last line break, so the next token starts a line.
      if (skip === "block-scalar") {
        lineStart = true;
        indent = 0;
        markers = 0;
      }
      skip = "none";
      continue;
    }
    const type = CST.tokenType(token);
    switch (type) {
      case "newline":
        lineStart = true;
        indent = 0;
        markers = 0;
        continue;
      case "space":
        if (lineStart) indent = token.length;
        continue;
      case "comment":
      case "byte-order-mark":
      case "doc-mode":
        continue;
      case "block-scalar-header":
        blockHeader = true;
        continue;
      case "scalar":
        if (blockHeader) {
          blockHeader = false;
          skip = "block-scalar";
          continue;
        }
        skip = "scalar";
        break;
      case "doc-start":
        indents.length = 0;
        flow = 0;
        break;
      default:
        break;
    }
    if (lineStart) {
      lineStart = false;
      if (flow === 0) {
        while (indents.length > 0 && (indents[indents.length - 1] as number) >= indent) indents.pop();
        indents.push(indent);
      }
    }
    if (flow === 0 && (type === "seq-item-ind" || type === "explicit-key-ind")) markers++;
    if (type === "flow-seq-start" || type === "flow-map-start") flow++;
    else if (type === "flow-seq-end" || type === "flow-map-end") flow = Math.max(0, flow - 1);
    const depth = indents.length + markers + flow;
    if (depth > max) {
      max = depth;
      if (max > limit) return max;
    }
  }
  return max;
}

/**
 * Walks a parsed value iteratively: refuses nesting beyond `maxDepth` (which also catches a
 * YAML alias that contains itself) and more than MAX_NODES values in all.
 */
function checkTree(value: unknown, maxDepth: number, fail: (problem: string) => NodeletError): unknown {
  const stack: [unknown, number][] = [[value, 1]];
  let nodes = 0;
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (++nodes > MAX_NODES) throw fail(`holds more than ${MAX_NODES} values (YAML aliases expanded)`);
    if (typeof current !== "object" || current === null) continue;
    if (depth > maxDepth) {
      throw fail(`nesting is deeper than ${maxDepth} levels (or a YAML alias refers to itself)`);
    }
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return value;
}
