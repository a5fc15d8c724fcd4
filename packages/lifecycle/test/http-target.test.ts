import { ErrorCode, NodeletError, type V1Container, type V1Pod } from "@nodelet/runtime-api";
import { describe, expect, it } from "vitest";
import { goQuote, goStringSlice } from "../src/go-format.js";
import { resolveHTTPGetTarget } from "../src/index.js";

const pod: V1Pod = { metadata: { name: "web", namespace: "ns" }, spec: { containers: [] } };
const container: V1Container = {
  name: "app",
  ports: [
    { name: "http", containerPort: 8080 },
    { name: "8081", containerPort: 9000 },
  ],
};

function thrown(fn: () => unknown): NodeletError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NodeletError);
    return err as NodeletError;
  }
  throw new Error("did not throw");
}

describe("resolveHTTPGetTarget", () => {
  it("builds the URL from the pod's first IP, the port and the path", () => {
    const t = resolveHTTPGetTarget(pod, container, { port: "http", path: "healthz?a=b" }, [
      "10.0.0.7",
      "fd00::7",
    ]);
    expect(t.url.href).toBe("http://10.0.0.7:8080/healthz?a=b");
    expect(t.hostPort).toBe("10.0.0.7:8080");
    expect(t.headers).toEqual([
      ["User-Agent", "kube-lifecycle/1.31"],
      ["Accept", "*/*"],
    ]);
  });

  it("brackets IPv6, keeps a default port explicit for the HTTP fallback, lowercases the scheme", () => {
    const t = resolveHTTPGetTarget(pod, container, { port: 443, scheme: "HTTPS" }, ["fd00::7"]);
    expect(t.scheme).toBe("https");
    expect(t.hostPort).toBe("[fd00::7]:443");
    expect(t.url.href).toBe("https://[fd00::7]/");
  });

  it("looks a string port up by name first, then as a number", () => {
    expect(resolveHTTPGetTarget(pod, container, { port: "8081" }, ["10.0.0.7"]).port).toBe(9000);
    expect(resolveHTTPGetTarget(pod, container, { port: "7070" }, ["10.0.0.7"]).port).toBe(7070);
    expect(thrown(() => resolveHTTPGetTarget(pod, container, { port: 0 }, ["10.0.0.7"])).message).toBe(
      "invalid port number: 0",
    );
    expect(thrown(() => resolveHTTPGetTarget(pod, container, { port: 70000 }, ["10.0.0.7"])).code).toBe(
      ErrorCode.InvalidArgument,
    );
  });

  it("canonicalises header names, drops an empty Accept, and keeps the user's User-Agent", () => {
    const t = resolveHTTPGetTarget(
      pod,
      container,
      {
        port: 80,
        httpHeaders: [
          { name: "x-api-key", value: "k" },
          { name: "accept", value: "" },
          { name: "USER-AGENT", value: "probe/2" },
          { name: "user-agent", value: "ignored" },
        ],
      },
      ["10.0.0.7"],
      { userAgent: "kube-lifecycle/9.9" },
    );
    expect(t.headers).toEqual([
      ["X-Api-Key", "k"],
      ["User-Agent", "probe/2"],
    ]);
  });

  it("sends no User-Agent when the action sets it empty", () => {
    const t = resolveHTTPGetTarget(
      pod,
      container,
      { port: 80, httpHeaders: [{ name: "User-Agent", value: "" }] },
      ["10.0.0.7"],
    );
    expect(t.headers).toEqual([["Accept", "*/*"]]);
  });

  it("rejects bad input without echoing header values", () => {
    expect(
      thrown(() => resolveHTTPGetTarget(pod, container, { port: 80, scheme: "FTP" as "HTTP" }, ["1.2.3.4"]))
        .message,
    ).toBe('unsupported protocol scheme "FTP"');
    expect(thrown(() => resolveHTTPGetTarget(pod, container, { port: 80, host: "a/b" }, [])).message).toBe(
      'invalid host "a/b"',
    );
    expect(
      thrown(() =>
        resolveHTTPGetTarget(pod, container, { port: 80, httpHeaders: [{ name: "bad name", value: "x" }] }, [
          "1.2.3.4",
        ]),
      ).message,
    ).toBe('invalid header field name "bad name"');
    const err = thrown(() =>
      resolveHTTPGetTarget(
        pod,
        container,
        { port: 80, httpHeaders: [{ name: "Authorization", value: "tok\n" }] },
        ["1.2.3.4"],
      ),
    );
    expect(err.message).toBe('invalid header field value for "Authorization"');
    expect(thrown(() => resolveHTTPGetTarget(pod, container, { port: 80 }, [])).code).toBe(
      ErrorCode.FailedPrecondition,
    );
  });
});

describe("Go formatting", () => {
  it("quotes like strconv.Quote", () => {
    expect(goQuote('a"b\\c\n\t\x01\x7fé\u00a0😀')).toBe('"a\\"b\\\\c\\n\\t\\x01\\x7fé\\u00a0😀"');
    expect(goQuote(Buffer.from([0x68, 0x69, 0xff, 0x0a, 0xe2, 0x82]))).toBe('"hi\\xff\\n\\xe2\\x82"');
    expect(goQuote(Buffer.from("héllo\r\n", "utf8"))).toBe('"héllo\\r\\n"');
    expect(goQuote("")).toBe('""');
  });

  it("prints a []string as %v does", () => {
    expect(goStringSlice(["sh", "-c", "echo hi > /tmp/x"])).toBe("[sh -c echo hi > /tmp/x]");
  });
});
