import type { V1Container } from "@nodelet/runtime-api";

/**
 * The container hash the kubelet stores in `io.kubernetes.container.hash` and compares on every
 * sync: a change restarts the container. Since Kubernetes 1.31 only `name` and `image` are hashed,
 * so editing env, command or resources does not restart a running container.
 *
 * nodelet hashes, with FNV-32a, the UTF-8 bytes of Go's `json.Marshal` of the map
 * `{"image": ..., "name": ...}` (keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped as Go does).
 * The kubelet hashes something else: the go-spew `%#v` dump of those JSON bytes
 * (`hashutil.DeepHashObject`), whose text includes the byte slice's capacity. nodelet does not
 * reproduce that dump, so a hash written by the kubelet never equals one written by nodelet: a
 * container created by a kubelet is seen as changed, and is restarted once, if nodelet takes over.
 *
 * Returns lowercase hex without padding, as `strconv.FormatUint(h, 16)`.
 */
export function hashContainer(container: Pick<V1Container, "name" | "image">): string {
  const json = goJsonMarshal({ image: container.image ?? "", name: container.name });
  return fnv32a(Buffer.from(json, "utf8")).toString(16);
}

/** FNV-1a, 32 bits. */
export function fnv32a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

// JSON.stringify sorts nothing and escapes less than Go's encoder; this covers a flat string map.
function goJsonMarshal(map: Record<string, string>): string {
  const body = Object.keys(map)
    .sort()
    .map((key) => `${goString(key)}:${goString(map[key] as string)}`)
    .join(",");
  return `{${body}}`;
}

function goString(text: string): string {
  return JSON.stringify(text).replace(
    /[<>&\u2028\u2029]/g,
    (ch) => `\\u${(ch.codePointAt(0) as number).toString(16).padStart(4, "0")}`,
  );
}
