import { expandVariableReferences, type V1EnvVar } from "@nodelet/runtime-api";

/**
 * The kubelet's ExpandContainerCommandOnlyStatic, used for exec probes: `$(VAR)` references to the
 * container's `env` expanded with the static `value`s only. A variable set by `valueFrom` (downward
 * API, config maps, secrets) has no static value and expands to "", as in the kubelet.
 */
export function expandCommandOnlyStatic(command: readonly string[], env: readonly V1EnvVar[] = []): string[] {
  const vars = new Map<string, string>();
  for (const e of env) vars.set(e.name, e.value ?? "");
  return command.map((part) => expandVariableReferences(part, vars));
}
