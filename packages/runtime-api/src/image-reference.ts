// Image references as the kubelet parses them (github.com/distribution/reference ParseNormalizedNamed,
// through pkg/util/parsers.ParseImageName), so that what nodelet rejects as InvalidImageName is what
// the kubelet rejects; plus the lenient normalisation the credential keyring looks images up by.
import { ErrorCode, NodeletError } from "./errors.js";

/** Docker Hub's canonical registry name, as image references are normalised. */
export const DOCKER_HUB_REGISTRY = "docker.io";
/** Hosts that credentials for Docker Hub are found under when nothing else matched. */
export const DOCKER_HUB_ALIASES: readonly string[] = ["index.docker.io", "registry-1.docker.io"];
/** The tag an image without tag or digest is pulled at. */
export const DEFAULT_IMAGE_TAG = "latest";

const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const OFFICIAL_REPO_PREFIX = "library/";
const NAME_TOTAL_LENGTH_MAX = 255;

const alphanumeric = "[a-z0-9]+";
const separator = "(?:[._]|__|[-]+)";
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const ipv6address = "\\[(?:[a-fA-F0-9:]+)\\]";
const host = `(?:${domainNameComponent}(?:\\.${domainNameComponent})*|${ipv6address})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tag = "[\\w][\\w.-]{0,127}";
const digestPattern = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePattern = `(?:${domainAndPort}/)?${remoteName}`;

const referenceRegexp = new RegExp(`^(${namePattern})(?::(${tag}))?(?:@(${digestPattern}))?$`);
const anchoredName = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const anchoredIdentifier = /^[a-f0-9]{64}$/;

/** Digest algorithms go-digest knows, with their hex lengths. */
export const DIGEST_HEX_LENGTHS: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** What is wrong with a reference, in `details.problem` of the InvalidImageName error. */
export type ImageReferenceProblem = "format" | "uppercase" | "hex-id" | "too-long" | "digest";

export interface ImageReference {
  /** The normalized repository: `docker.io/library/busybox`, `127.0.0.1:5000/bench/img-1`. */
  name: string;
  /** `docker.io`, `registry.k8s.io`, `127.0.0.1:5000`. */
  domain: string;
  /** The repository path below the domain: `library/busybox`. */
  path: string;
  /** The tag as written; undefined when there is none (no `latest` defaulting here). */
  tag?: string | undefined;
  /** `sha256:...` when the reference carries a digest. */
  digest?: string | undefined;
}

/** Why a reference does not parse: InvalidImageName with the distribution library's message. */
function invalidReference(image: string, message: string, problem: ImageReferenceProblem): NodeletError {
  return new NodeletError(ErrorCode.InvalidImageName, message, { details: { image, problem } });
}

/**
 * docker.io for a name whose first segment is not a host (no `.` or `:`, not `localhost`, lower
 * case), index.docker.io folded into docker.io, and `library/` before a one-segment Hub name.
 */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf("/");
  let domain: string;
  let remainder: string;
  const first = slash === -1 ? "" : name.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    domain = DOCKER_HUB_REGISTRY;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(slash + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DOCKER_HUB_REGISTRY;
  if (domain === DOCKER_HUB_REGISTRY && !remainder.includes("/"))
    remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

function validateDigest(image: string, digest: string): void {
  const colon = digest.indexOf(":");
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  const length = Object.hasOwn(DIGEST_HEX_LENGTHS, algorithm) ? DIGEST_HEX_LENGTHS[algorithm] : undefined;
  if (length === undefined) throw invalidReference(image, "unsupported digest algorithm", "digest");
  if (encoded.length !== length) throw invalidReference(image, "invalid checksum digest length", "digest");
  if (!/^[a-f0-9]+$/.test(encoded)) throw invalidReference(image, "invalid checksum digest format", "digest");
}

/**
 * Parses an image reference the way the kubelet does (ParseNormalizedNamed): short names are
 * normalized to `docker.io/library/...`; uppercase repositories, bare 64-hex ids, bad digests
 * and names over 255 characters are rejected with InvalidImageName and the library's message.
 */
export function parseImageReference(image: string): ImageReference {
  if (anchoredIdentifier.test(image)) {
    throw invalidReference(
      image,
      `invalid repository name (${image}), cannot specify 64-byte hexadecimal strings`,
      "hex-id",
    );
  }
  const { domain: splitDomain, remainder } = splitDockerDomain(image);
  const tagSep = remainder.indexOf(":");
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw invalidReference(
      image,
      `invalid reference format: repository name (${remote}) must be lowercase`,
      "uppercase",
    );
  }
  const full = `${splitDomain}/${remainder}`;
  const match = referenceRegexp.exec(full);
  if (!match) {
    if (referenceRegexp.test(full.toLowerCase())) {
      throw invalidReference(
        image,
        "invalid reference format: repository name must be lowercase",
        "uppercase",
      );
    }
    throw invalidReference(image, "invalid reference format", "format");
  }
  const name = match[1] as string;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalidReference(
      image,
      `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`,
      "too-long",
    );
  }
  const digest = match[3];
  if (digest !== undefined) validateDigest(image, digest);
  const parts = anchoredName.exec(name);
  return {
    name,
    domain: parts?.[1] ?? "",
    path: parts?.[2] ?? name,
    tag: match[2],
    digest,
  };
}

/**
 * The image with `:latest` appended as text when it has neither tag nor digest; no `docker.io/`
 * prefix is added, so the CRI sees the name as written. Throws InvalidImageName.
 */
export function applyDefaultImageTag(image: string): string {
  const ref = parseImageReference(image);
  return ref.tag === undefined && ref.digest === undefined ? `${image}:${DEFAULT_IMAGE_TAG}` : image;
}

/** The repository the keyring is asked about: normalized, without tag or digest (the kubelet's repoToPull). Throws InvalidImageName. */
export function repositoryToPull(image: string): string {
  return parseImageReference(image).name;
}

/** The image without `@digest` and `:tag`, as text (no validation). */
export function stripTagAndDigest(image: string): string {
  const at = image.indexOf("@");
  const name = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = name.lastIndexOf("/");
  const lastColon = name.lastIndexOf(":");
  return lastColon > lastSlash ? name.slice(0, lastColon) : name;
}

/**
 * The normalised repository of any image string, never throwing: the keyring is asked about
 * whatever image it is given. `busybox:1.36` → `docker.io/library/busybox`,
 * `index.docker.io/foo/bar` → `docker.io/foo/bar`, `127.0.0.1:5000/x:1` → `127.0.0.1:5000/x`,
 * `""` → `""`. For a valid reference it equals repositoryToPull().
 */
export function normalizeImage(image: string): string {
  const name = stripTagAndDigest(image.trim());
  if (name === "") return "";
  const { domain, remainder } = splitDockerDomain(name);
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
