// One static pod manifest file: read safely, parsed as JSON or YAML, checked to be one v1 Pod.

import { ErrorCode, NodeletError } from "@nodelet/runtime-api";
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_DEPTH,
  parseDocuments,
  type ReadFs,
  readRegularFile,
} from "./document.js";

export interface ReadManifestOptions {
  /** Bytes a manifest may have (1 MiB). */
  maxBytes?: number;
  /** Nesting levels a manifest may have (100). */
  maxDepth?: number;
  /** The file system calls used; tests inject races here. */
  fs?: ReadFs;
}

/** A manifest as parsed: an object with kind "Pod" and apiVersion "v1", not yet validated. */
export type PodManifest = Record<string, unknown>;

/**
 * Reads one Pod manifest. The path must be a regular file, or a symlink to one (a loop, a
 * dangling link or a link to a FIFO, device or directory is refused); its size is checked
 * before reading and bounded while reading; its nesting is checked before parsing. Every
 * problem throws NodeletError(InvalidPod) whose message starts with the path.
 */
export async function readManifestFile(
  path: string,
  options: ReadManifestOptions = {},
): Promise<PodManifest> {
  const text = await readRegularFile(path, {
    maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
    code: ErrorCode.InvalidPod,
    ...(options.fs === undefined ? {} : { fs: options.fs }),
  });
  return parsePodManifest(text, path, options);
}

/** Parses manifest text holding exactly one Pod; `origin` names it in messages. */
export function parsePodManifest(
  text: string,
  origin: string,
  options: Pick<ReadManifestOptions, "maxDepth"> = {},
): PodManifest {
  const docs = parseDocuments(text, {
    origin,
    code: ErrorCode.InvalidPod,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
  });
  if (docs.length === 0) throw invalidManifest(origin, "is empty: expected a Pod manifest");
  if (docs.length > 1) {
    throw invalidManifest(origin, `holds ${docs.length} YAML documents: nodelet reads one Pod per file`);
  }
  const doc = manifestKind(docs[0], origin, ["Pod"]);
  return doc.manifest;
}

export type ManifestKind = "Pod" | "PodList";

/**
 * Checks that a parsed document is a v1 object of one of `kinds`, returning which. The message
 * of a wrong kind says what nodelet reads instead.
 */
export function manifestKind(
  doc: unknown,
  origin: string,
  kinds: readonly ManifestKind[],
): { kind: ManifestKind; manifest: PodManifest } {
  const expected = kinds.map((k) => `"${k}"`).join(" or ");
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    const got = Array.isArray(doc) ? "a list" : JSON.stringify(doc);
    throw invalidManifest(origin, `must be a manifest (a mapping with kind ${expected}), got ${got}`);
  }
  const manifest = doc as PodManifest;
  const { kind, apiVersion } = manifest;
  if (kind === undefined || kind === null || kind === "") {
    throw invalidManifest(origin, `kind is missing: expected ${expected} with apiVersion "v1"`);
  }
  if (typeof kind !== "string" || !(kinds as readonly string[]).includes(kind)) {
    const what = kinds.length === 1 ? "Pod manifests" : "Pod and PodList manifests";
    throw invalidManifest(origin, `kind ${JSON.stringify(kind)} is not supported: nodelet runs ${what}`);
  }
  if (apiVersion !== "v1") {
    const got =
      apiVersion === undefined ? "apiVersion is missing" : `apiVersion ${JSON.stringify(apiVersion)}`;
    throw invalidManifest(origin, `${got}: a ${kind} is apiVersion "v1"`);
  }
  return { kind: kind as ManifestKind, manifest };
}

function invalidManifest(origin: string, problem: string): NodeletError {
  return new NodeletError(ErrorCode.InvalidPod, `${origin}: ${problem}`, { details: { origin } });
}
