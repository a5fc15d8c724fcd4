import { type Checker, child, type Obj, quote, show } from "./checker.js";
import { HTTP_HEADER_NAME, LIFECYCLE_HANDLERS, MAX_INT32, PROBE_HANDLERS, URI_SCHEMES } from "./constants.js";
import { portNameProblem } from "./names.js";

// Probes, lifecycle hooks and their handlers.

export function checkProbe(
  c: Checker,
  value: unknown,
  path: string,
  kind: "liveness" | "readiness" | "startup",
): void {
  const probe = c.object(value, path);
  if (!probe) return;
  c.exactlyOne(probe, path, PROBE_HANDLERS, "handler");
  checkHandlers(c, probe, path);
  const grpc = c.object(probe.grpc, child(path, "grpc"));
  if (grpc) {
    c.integer(grpc.port, child(path, "grpc.port"), { min: 1, max: 65535, required: true });
    c.string(grpc.service, child(path, "grpc.service"));
  }
  c.integer(probe.initialDelaySeconds, child(path, "initialDelaySeconds"), { min: 0, max: MAX_INT32 });
  for (const name of ["timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]) {
    c.integer(probe[name], child(path, name), { min: 1, max: MAX_INT32 });
  }
  if (kind !== "readiness" && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    c.fail(
      child(path, "successThreshold"),
      `must be 1 for ${kind} probes, got ${show(probe.successThreshold)}`,
    );
  }
  const graceField = child(path, "terminationGracePeriodSeconds");
  if (kind === "readiness" && probe.terminationGracePeriodSeconds !== undefined) {
    c.fail(graceField, "must not be set for readiness probes");
  } else {
    c.integer(probe.terminationGracePeriodSeconds, graceField, { min: 1 });
  }
}

export function checkLifecycleHandler(c: Checker, value: unknown, path: string): void {
  const handler = c.object(value, path);
  if (!handler) return;
  c.exactlyOne(handler, path, LIFECYCLE_HANDLERS, "handler");
  checkHandlers(c, handler, path);
  const sleep = c.object(handler.sleep, child(path, "sleep"));
  if (sleep) c.integer(sleep.seconds, child(path, "sleep.seconds"), { min: 0, required: true });
}

/** The exec, httpGet and tcpSocket handlers that probes and lifecycle hooks share. */
export function checkHandlers(c: Checker, handler: Obj, path: string): void {
  const exec = c.object(handler.exec, child(path, "exec"));
  if (exec) {
    const command = c.stringArray(exec.command, child(path, "exec.command"));
    if (exec.command === undefined || command?.length === 0) {
      c.fail(child(path, "exec.command"), "is required (a non-empty list of strings)");
    }
  }
  const httpGet = c.object(handler.httpGet, child(path, "httpGet"));
  if (httpGet) {
    checkPortOrName(c, httpGet.port, child(path, "httpGet.port"));
    c.string(httpGet.path, child(path, "httpGet.path"));
    c.string(httpGet.host, child(path, "httpGet.host"));
    c.oneOf(httpGet.scheme, child(path, "httpGet.scheme"), URI_SCHEMES);
    c.objects(httpGet.httpHeaders, child(path, "httpGet.httpHeaders"), (header, headerPath) => {
      const name = c.string(header.name, child(headerPath, "name"), true);
      if (name && !HTTP_HEADER_NAME.test(name)) {
        c.fail(child(headerPath, "name"), `${quote(name)} is not a valid HTTP header name`);
      }
      c.string(header.value, child(headerPath, "value"));
    });
  }
  const tcpSocket = c.object(handler.tcpSocket, child(path, "tcpSocket"));
  if (tcpSocket) {
    checkPortOrName(c, tcpSocket.port, child(path, "tcpSocket.port"));
    c.string(tcpSocket.host, child(path, "tcpSocket.host"));
  }
}

export function checkPortOrName(c: Checker, value: unknown, field: string): void {
  if (typeof value === "string") {
    const problem = portNameProblem(value);
    if (problem !== undefined) c.fail(field, problem);
    return;
  }
  if (typeof value === "number") {
    c.integer(value, field, { min: 1, max: 65535 });
    return;
  }
  const expected = "a port number from 1 to 65535 or a port name";
  c.fail(
    field,
    value === undefined ? `is required (${expected})` : `must be ${expected}, got ${show(value)}`,
  );
}
