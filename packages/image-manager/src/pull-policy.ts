import { DEFAULT_IMAGE_TAG, parseImageReference, type V1PullPolicy } from "@nodelet/runtime-api";

/**
 * The API server's default for an unset `imagePullPolicy`: `Always` when the tag is `latest`, or
 * when there is neither tag nor digest (the tag defaults to `latest`); otherwise `IfNotPresent`
 * (a digest without a tag, or an unparsable name, gives `IfNotPresent`).
 */
export function defaultPullPolicy(image: string): "Always" | "IfNotPresent" {
  let tag: string | undefined;
  try {
    const ref = parseImageReference(image);
    tag = ref.tag ?? (ref.digest === undefined ? DEFAULT_IMAGE_TAG : undefined);
  } catch {
    tag = undefined;
  }
  return tag === DEFAULT_IMAGE_TAG ? "Always" : "IfNotPresent";
}

/** The kubelet's shouldPullImage: Never never pulls, Always always does, IfNotPresent when absent. */
export function shouldPullImage(policy: V1PullPolicy, present: boolean): boolean {
  switch (policy) {
    case "Never":
      return false;
    case "IfNotPresent":
      return !present;
    default:
      return true;
  }
}
