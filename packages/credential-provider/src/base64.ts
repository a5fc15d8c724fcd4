const PADDED = /^[A-Za-z0-9+/]*={0,2}$/;
const UNPADDED = /^[A-Za-z0-9+/]*$/;

/**
 * Strict standard base64, padded or unpadded, as Go's StdEncoding / RawStdEncoding accept it.
 * Returns undefined for anything else (Buffer.from would silently skip bad characters).
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (trimmed.endsWith("=")) {
    if (!PADDED.test(trimmed) || trimmed.length % 4 !== 0) return undefined;
  } else if (!UNPADDED.test(trimmed) || trimmed.length % 4 === 1) {
    return undefined;
  }
  return Buffer.from(trimmed, "base64");
}
