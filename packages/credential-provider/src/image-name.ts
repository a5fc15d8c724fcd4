/** Docker Hub's canonical registry name, as image references are normalised. */
export const DOCKER_HUB_REGISTRY = "docker.io";

/** Hosts that credentials for Docker Hub are found under when nothing else matched. */
export const DOCKER_HUB_ALIASES: readonly string[] = ["index.docker.io", "registry-1.docker.io"];

/** The image without `@digest` and `:tag`. */
export function stripTagAndDigest(image: string): string {
  const at = image.indexOf("@");
  const name = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = name.lastIndexOf("/");
  const lastColon = name.lastIndexOf(":");
  return lastColon > lastSlash ? name.slice(0, lastColon) : name;
}

/**
 * The repository the keyring looks up, spelled as the kubelet passes it (docker's normalised
 * name without tag or digest): `busybox:1.36` → `docker.io/library/busybox`,
 * `index.docker.io/foo/bar` → `docker.io/foo/bar`, `127.0.0.1:5000/x:1` → `127.0.0.1:5000/x`.
 */
export function normalizeImage(image: string): string {
  const name = stripTagAndDigest(image.trim());
  if (name === "") return "";
  const slash = name.indexOf("/");
  let domain: string;
  let remainder: string;
  const first = slash >= 0 ? name.slice(0, slash) : "";
  if (slash < 0 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    domain = DOCKER_HUB_REGISTRY;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(slash + 1);
  }
  if (domain === "index.docker.io") domain = DOCKER_HUB_REGISTRY;
  if (domain === DOCKER_HUB_REGISTRY && !remainder.includes("/")) remainder = `library/${remainder}`;
  return `${domain}/${remainder}`;
}

/** The registry of a normalised image: its first path segment, port included. */
export function registryOf(normalizedImage: string): string {
  const slash = normalizedImage.indexOf("/");
  return slash >= 0 ? normalizedImage.slice(0, slash) : normalizedImage;
}

/** True for a normalised image on Docker Hub. */
export function isDockerHubImage(normalizedImage: string): boolean {
  return registryOf(normalizedImage) === DOCKER_HUB_REGISTRY;
}
