import { isNodeletError } from "../errors.js";
import { DIGEST_HEX_LENGTHS, type ImageReferenceProblem, parseImageReference } from "../image-reference.js";
import { quote } from "./checker.js";
import { CONFIG_MAP_KEY, DNS1123_LABEL, DNS1123_SUBDOMAIN, QUALIFIED_NAME_PART } from "./constants.js";

// Name checks: each returns the problem, or undefined when the text is valid.

export const DNS1123_LABEL_RULE =
  "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";
export const DNS1123_SUBDOMAIN_RULE =
  "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters";

export function dnsLabelProblem(text: string): string | undefined {
  if (text.length <= 63 && DNS1123_LABEL.test(text)) return undefined;
  return `${quote(text)} is not a valid DNS-1123 label (${DNS1123_LABEL_RULE})`;
}

export function dnsSubdomainProblem(text: string): string | undefined {
  if (text.length <= 253 && DNS1123_SUBDOMAIN.test(text)) return undefined;
  return `${quote(text)} is not a valid DNS-1123 subdomain (${DNS1123_SUBDOMAIN_RULE})`;
}

/** IsValidPortName: 1-15 of [-a-z0-9], at least one letter, no leading, trailing or doubled '-'. */
export function portNameProblem(text: string): string | undefined {
  const ok =
    text.length >= 1 &&
    text.length <= 15 &&
    /^[-a-z0-9]+$/.test(text) &&
    /[a-z]/.test(text) &&
    !text.startsWith("-") &&
    !text.endsWith("-") &&
    !text.includes("--");
  if (ok) return undefined;
  return (
    `${quote(text)} is not a valid port name (IANA_SVC_NAME: at most 15 lowercase letters, digits and '-', ` +
    "with at least one letter, no '-' at either end and no '--')"
  );
}

/** IsQualifiedName: [prefix/]name, prefix a DNS-1123 subdomain, name at most 63 of [-A-Za-z0-9_.]. */
export function qualifiedNameProblem(text: string): string | undefined {
  const slash = text.indexOf("/");
  const prefix = slash === -1 ? undefined : text.slice(0, slash);
  const name = slash === -1 ? text : text.slice(slash + 1);
  const nameOk = name.length >= 1 && name.length <= 63 && QUALIFIED_NAME_PART.test(name);
  const prefixOk = prefix === undefined || (prefix !== "" && dnsSubdomainProblem(prefix) === undefined);
  if (nameOk && prefixOk) return undefined;
  return (
    `${quote(text)} is not a valid qualified name ([prefix/]name: the name at most 63 letters, digits, '-', '_' ` +
    "and '.', starting and ending with a letter or digit; the optional prefix a DNS-1123 subdomain)"
  );
}

export function configMapKeyProblem(text: string): string | undefined {
  const ok =
    text.length <= 253 &&
    CONFIG_MAP_KEY.test(text) &&
    text !== "." &&
    text !== ".." &&
    !text.startsWith("..");
  if (ok) return undefined;
  return `${quote(text)} is not a valid key (letters, digits, '-', '_' and '.', at most 253 characters, not '.' or '..')`;
}

/**
 * Why `image` is not a docker image reference, or undefined when it is one: the grammar is
 * parseImageReference's (the kubelet's), the messages say what is expected.
 */
export function imageReferenceProblem(image: string): string | undefined {
  const expected = "expected [registry[:port]/]name[:tag][@sha256:<64 hex digits>] with a lowercase name";
  const invalid = `${quote(image)} is not a valid image reference`;
  if (image.trim() !== image) return `${quote(image)} must not have leading or trailing whitespace`;
  if (/\s/.test(image)) return `${quote(image)} must not contain whitespace; ${expected}`;
  if (image.length > 512) return `is too long (${image.length} characters); ${expected}`;
  const digest = /@([^:@]+):([^@]*)$/.exec(image);
  if (digest) {
    const [, algorithm = "", hex = ""] = digest;
    const length = Object.hasOwn(DIGEST_HEX_LENGTHS, algorithm) ? DIGEST_HEX_LENGTHS[algorithm] : undefined;
    if (length === undefined) {
      return `${quote(image)} has an unsupported digest algorithm ${quote(algorithm)}; expected sha256, sha384 or sha512`;
    }
    if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
      return `${quote(image)} has an invalid digest: ${algorithm} takes ${length} lowercase hexadecimal digits`;
    }
  }
  try {
    parseImageReference(image);
    return undefined;
  } catch (err) {
    const problem = isNodeletError(err)
      ? (err.details.problem as ImageReferenceProblem | undefined)
      : undefined;
    switch (problem) {
      case "uppercase":
        return `${invalid}: the repository name must be lowercase`;
      case "hex-id":
        return `${invalid}: a repository name cannot be 64 hexadecimal digits`;
      case "too-long":
        return `${invalid}: the name is longer than 255 characters`;
      default:
        return `${invalid}; ${expected}`;
    }
  }
}
