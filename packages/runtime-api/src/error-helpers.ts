// What every package needs to turn a thrown value into text or into the Node error code it carries.

/** The message of anything thrown: an Error's message, anything else as String() gives it. */
export function errorMessage(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}

/** The error, then its causes, outermost first, at most `maxDepth` of them. */
export function errorChain(err: unknown, maxDepth = 6): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = err;
  while (chain.length < maxDepth && current !== undefined && current !== null) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

/**
 * The error's message, then its causes' messages, each once, joined with ": " (Node's fetch says
 * only "fetch failed" at the top; the reason is in the cause). "unknown error" when all are empty.
 */
export function errorChainMessage(err: unknown, maxDepth = 4): string {
  const parts: string[] = [];
  for (const e of errorChain(err, maxDepth)) {
    const text = errorMessage(e).trim();
    if (text !== "" && !parts.some((p) => p.includes(text))) parts.push(text);
  }
  return parts.join(": ") || "unknown error";
}

const nodeErrorCode = /^E[A-Z0-9]+$|^ERR_/;

/**
 * The Node error code (ENOENT, ECONNREFUSED, ERR_SSL_...) of an error or, failing that, of the
 * first cause that carries one. Other `code` properties (a NodeletError's code) are not errnos.
 */
export function errnoCode(err: unknown): string | undefined {
  for (const e of errorChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && nodeErrorCode.test(code)) return code;
  }
  return undefined;
}
