import { chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CredentialProvider, CredentialProviderConfig } from "../../src/index.js";

export const V1 = "credentialprovider.kubelet.k8s.io/v1";

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Writes an executable `#!/bin/sh` plugin. */
export async function writePlugin(binDir: string, name: string, body: string): Promise<string> {
  const path = join(binDir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

/**
 * A plugin that reads its request, appends a line to $COUNTER, optionally sleeps, and prints
 * `response` (a heredoc, so no shell escaping).
 */
export function respondingScript(response: unknown, options: { sleepSeconds?: number } = {}): string {
  const text = typeof response === "string" ? response : JSON.stringify(response);
  return [
    "cat > /dev/null",
    'echo run >> "$COUNTER"',
    options.sleepSeconds ? `sleep ${options.sleepSeconds}` : "",
    "cat <<'JSON'",
    text,
    "JSON",
  ].join("\n");
}

export function response(fields: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: V1, kind: "CredentialProviderResponse", cacheKeyType: "Image", ...fields };
}

export function providerConfig(
  providers: Array<Partial<CredentialProvider> & { name: string }>,
): CredentialProviderConfig {
  return {
    apiVersion: "kubelet.config.k8s.io/v1",
    kind: "CredentialProviderConfig",
    providers: providers.map((p) => ({
      matchImages: ["*.example.com", "*.example.com:5000"],
      defaultCacheDurationMs: 60_000,
      apiVersion: V1,
      args: [],
      env: [],
      ...p,
    })),
  };
}

/** How many times plugins appended to the counter file. */
export async function runs(counter: string): Promise<number> {
  try {
    return (await readFile(counter, "utf8")).split("\n").filter((l) => l !== "").length;
  } catch {
    return 0;
  }
}
