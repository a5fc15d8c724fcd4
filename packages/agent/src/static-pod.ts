// The kubelet's identity for static pods (pkg/kubelet/config/common.go applyDefaults): a pod
// from a manifest file or URL gets a UID hashed from its content and source, a name suffixed
// with the node name, the default namespace, the node, and the config annotations.

import { createHash } from "node:crypto";
import {
  ErrorCode,
  type FieldError,
  isRecord,
  NodeletError,
  podNamespace,
  type V1Pod,
  validatePod,
} from "@nodelet/runtime-api";
import { applyPodDefaults } from "./pod-defaults.js";

export const ConfigAnnotation = {
  /** "file" or "http": the source the pod came from. */
  source: "kubernetes.io/config.source",
  /** The pod's UID, which for a static pod is the hash of its manifest. */
  hash: "kubernetes.io/config.hash",
  /** When the agent first saw the pod, RFC 3339 with nanoseconds. */
  seen: "kubernetes.io/config.seen",
} as const;

export type StaticPodSource = "file" | "http";

export interface StaticPodOptions {
  source: StaticPodSource;
  /** The manifest's file path, or the manifest URL. */
  sourceName: string;
  nodeName: string;
  seenAt: Date;
}

/**
 * Turns a parsed manifest into the pod the agent runs. The API server's defaults are applied
 * first, then the identity, then the result is validated with runtime-api's validatePod. An
 * invalid pod throws NodeletError(InvalidPod) whose message starts with `sourceName` and
 * whose `details.errors` keeps every field path.
 *
 * The UID is the md5 (hex) of the defaulted manifest as canonical JSON (sorted keys) followed
 * by `host:<nodeName>file:<path>` for a file, or `url:<url>` for a URL, as the kubelet hashes
 * the object and the same strings. `seenAt` is not hashed: the same manifest gives the same UID
 * on every run. A manifest that sets metadata.uid keeps it, as with the kubelet.
 */
/** `<namespace>/<name>` (klog.KObj): how the agent names a pod in logs, messages and duplicate checks. */
export function podKey(pod: V1Pod): string {
  return `${podNamespace(pod)}/${pod.metadata.name ?? ""}`;
}

export function toStaticPod(raw: unknown, options: StaticPodOptions): V1Pod {
  const fail = (errors: FieldError[]): NodeletError => {
    const list = errors.map((e) => (e.field === "" ? e.message : `${e.field}: ${e.message}`)).join("; ");
    return new NodeletError(ErrorCode.InvalidPod, `${options.sourceName}: invalid pod: ${list}`, {
      details: { origin: options.sourceName, errors },
    });
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw fail([{ field: "", message: "a manifest must be an object (a Kubernetes v1 Pod)" }]);
  }
  const metadata = (raw as { metadata?: unknown }).metadata;
  const name =
    typeof metadata === "object" && metadata !== null ? (metadata as { name?: unknown }).name : undefined;
  if (typeof name !== "string" || name === "") {
    throw fail([{ field: "metadata.name", message: "is required: a static pod needs a name" }]);
  }

  const given: unknown = (metadata as { uid?: unknown }).uid;
  if (given !== undefined && given !== null && typeof given !== "string") {
    throw fail([{ field: "metadata.uid", message: "must be a string when set" }]);
  }

  const pod = applyPodDefaults(raw as V1Pod);
  const uid = typeof given === "string" && given !== "" ? given : staticPodUid(pod, options);
  pod.metadata.uid = uid;
  pod.metadata.name = `${name}-${options.nodeName.toLowerCase()}`;
  pod.metadata.annotations = {
    ...(isRecord(pod.metadata.annotations) ? pod.metadata.annotations : {}),
    [ConfigAnnotation.hash]: uid,
    [ConfigAnnotation.source]: options.source,
    [ConfigAnnotation.seen]: formatRFC3339Nano(options.seenAt),
  };
  if (isRecord(pod.spec)) pod.spec.nodeName = options.nodeName;
  pod.status = { phase: "Pending" };

  try {
    return validatePod(pod);
  } catch (err) {
    if (err instanceof NodeletError && Array.isArray(err.details.errors)) {
      throw fail(err.details.errors as FieldError[]);
    }
    throw err;
  }
}

/** The kubelet's static pod UID: md5 over the defaulted manifest and its source. */
export function staticPodUid(
  pod: V1Pod,
  options: Pick<StaticPodOptions, "source" | "sourceName" | "nodeName">,
): string {
  const hash = createHash("md5").update(canonicalJson(pod));
  if (options.source === "file") hash.update(`host:${options.nodeName}`).update(`file:${options.sourceName}`);
  else hash.update(`url:${options.sourceName}`);
  return hash.digest("hex");
}

/** JSON with object keys sorted at every level, so equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, current: unknown) => {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return current;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(current).sort()) {
      Object.defineProperty(sorted, key, {
        value: (current as Record<string, unknown>)[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return sorted;
  });
}

/**
 * Go's time.RFC3339Nano in UTC: `2026-11-27T16:35:42.12Z` (trailing zeros of the fraction
 * dropped, no fraction when it is zero).
 */
export function formatRFC3339Nano(date: Date): string {
  const iso = date.toISOString();
  const [seconds, fraction = ""] = iso.slice(0, -1).split(".");
  const trimmed = fraction.replace(/0+$/, "");
  return `${seconds}${trimmed === "" ? "" : `.${trimmed}`}Z`;
}
