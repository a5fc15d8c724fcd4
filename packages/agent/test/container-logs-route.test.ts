import { describe, expect, it } from "vitest";
import { LogsHttpError, parseLogOptions } from "../src/container-logs-route.js";

const parse = (query: string) => parseLogOptions(new URLSearchParams(query));

function failure(query: string): { status: number; message: string } {
  try {
    parse(query);
  } catch (err) {
    if (err instanceof LogsHttpError) return { status: err.status, message: err.message };
    throw err;
  }
  throw new Error(`${query} was accepted`);
}

describe("/containerLogs query parameters", () => {
  it("reads the kubelet's parameters", () => {
    expect(parse("")).toEqual({});
    expect(parse("follow=true&previous=1&timestamps=True&tailLines=10&limitBytes=5&sinceSeconds=60")).toEqual(
      { follow: true, previous: true, timestamps: true, tailLines: 10, limitBytes: 5, sinceSeconds: 60 },
    );
    expect(parse("follow&timestamps=false")).toEqual({ follow: true, timestamps: false });
    expect(parse("sinceTime=2026-12-02T17:42:19.5%2B01:00")).toEqual({
      sinceTime: "2026-12-02T17:42:19.5+01:00",
    });
    expect(parse("tailLines=0")).toEqual({ tailLines: 0 });
  });

  it("answers 400 for what does not parse and 422 for what is invalid, naming the parameter", () => {
    const cases: [string, number, string][] = [
      ["tailLines=abc", 400, "tailLines"],
      ["tailLines=1.5", 400, "tailLines"],
      ["limitBytes=", 400, "limitBytes"],
      ["sinceSeconds=ten", 400, "sinceSeconds"],
      ["sinceTime=yesterday", 400, "sinceTime"],
      ["sinceTime=2026-13-45T99:00:00Z", 400, "sinceTime"],
      ["follow=yes", 400, "follow"],
      ["previous=2", 400, "previous"],
      ["tailLines=-1", 422, "tailLines"],
      ["limitBytes=0", 422, "limitBytes"],
      ["sinceSeconds=0", 422, "sinceSeconds"],
      ["sinceSeconds=-3", 422, "sinceSeconds"],
      ["sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z", 422, "sinceTime"],
    ];
    for (const [query, status, name] of cases) {
      const got = failure(query);
      expect({ query, status: got.status }).toEqual({ query, status });
      expect(got.message, query).toContain(name);
    }
  });
});
