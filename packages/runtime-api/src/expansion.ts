/**
 * Kubernetes `$(VAR)` expansion (third_party/forked/golang/expansion): `$(NAME)` becomes the value
 * of NAME when it is defined and stays verbatim otherwise; `$$` is an escaped `$`, so `$$(NAME)`
 * yields `$(NAME)`; any other `$` is kept.
 */
export function expandVariableReferences(input: string, vars: ReadonlyMap<string, string>): string {
  let out = "";
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== "$" || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    if (next === "$") {
      out += "$";
      cursor += 1;
    } else if (next === "(") {
      const close = input.indexOf(")", cursor + 2);
      if (close === -1) {
        // Incomplete reference: keep "$(" and go on after it.
        out += "$(";
        cursor += 1;
      } else {
        const name = input.slice(cursor + 2, close);
        out += vars.get(name) ?? `$(${name})`;
        cursor = close;
      }
    } else {
      out += `$${next}`;
      cursor += 1;
    }
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
