// GET /containerLogs/{namespace}/{podName}/{containerName}: a container's output, with the kubelet's
// query parameters (follow, previous, sinceSeconds, sinceTime, timestamps, tailLines, limitBytes)
// and its answers: 400 for a value that cannot be parsed, 422 for one that parses but is invalid
// (both naming the parameter), 400 for previous=true without a previous instance, 404 for an
// unknown namespace, pod or container. A following response is written as lines arrive and ends
// by itself once the container stopped; a client that goes away aborts the read.

import type { IncomingMessage, ServerResponse } from "node:http";
import { ErrorCode, isNodeletError, type V1PodLogOptions } from "@nodelet/runtime-api";
import { sendText } from "./http-response.js";

/** What the route reads through; the agent implements it with its pods and the runtime. */
export interface ContainerLogsSource {
  /**
   * Resolves the container (NotFound for an unknown pod or container, InvalidArgument when there is
   * no such instance) and resolves with a function that writes its logs, so that errors come
   * before the response's headers.
   */
  open(
    namespace: string,
    podName: string,
    containerName: string,
    options: V1PodLogOptions,
  ): Promise<(out: NodeJS.WritableStream, signal: AbortSignal) => Promise<void>>;
}

/** An HTTP answer with its status (the server turns it into a text/plain response). */
export class LogsHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "LogsHttpError";
  }
}

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

function parseBool(params: URLSearchParams, name: string): boolean | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  // `?follow` alone means true, as with the kubelet's query decoding of an empty value.
  if (value === "" || TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new LogsHttpError(400, `${name}: invalid boolean value ${JSON.stringify(value)}`);
}

function parseInteger(params: URLSearchParams, name: string): number | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  if (!/^[+-]?\d{1,18}$/.test(value)) {
    throw new LogsHttpError(400, `${name}: invalid integer value ${JSON.stringify(value)}`);
  }
  return Number(value);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The kubelet's PodLogOptions from the query, validated as the API server would. */
export function parseLogOptions(params: URLSearchParams): V1PodLogOptions {
  const options: V1PodLogOptions = {};
  const follow = parseBool(params, "follow");
  const previous = parseBool(params, "previous");
  const timestamps = parseBool(params, "timestamps");
  const sinceSeconds = parseInteger(params, "sinceSeconds");
  const tailLines = parseInteger(params, "tailLines");
  const limitBytes = parseInteger(params, "limitBytes");
  const sinceTime = params.get("sinceTime");
  if (sinceTime !== null && (!RFC3339.test(sinceTime) || Number.isNaN(Date.parse(sinceTime)))) {
    throw new LogsHttpError(400, `sinceTime: invalid RFC3339 time ${JSON.stringify(sinceTime)}`);
  }
  if (sinceSeconds !== undefined && sinceSeconds < 1) {
    throw new LogsHttpError(422, `sinceSeconds: Invalid value: ${sinceSeconds}: must be greater than 0`);
  }
  if (tailLines !== undefined && tailLines < 0) {
    throw new LogsHttpError(
      422,
      `tailLines: Invalid value: ${tailLines}: must be greater than or equal to 0`,
    );
  }
  if (limitBytes !== undefined && limitBytes < 1) {
    throw new LogsHttpError(422, `limitBytes: Invalid value: ${limitBytes}: must be greater than 0`);
  }
  if (sinceSeconds !== undefined && sinceTime !== null) {
    throw new LogsHttpError(
      422,
      "sinceSeconds, sinceTime: at most one of sinceSeconds or sinceTime may be specified",
    );
  }
  if (follow !== undefined) options.follow = follow;
  if (previous !== undefined) options.previous = previous;
  if (timestamps !== undefined) options.timestamps = timestamps;
  if (sinceSeconds !== undefined) options.sinceSeconds = sinceSeconds;
  if (sinceTime !== null) options.sinceTime = sinceTime;
  if (tailLines !== undefined) options.tailLines = tailLines;
  if (limitBytes !== undefined) options.limitBytes = limitBytes;
  return options;
}

function statusFor(err: unknown): number | undefined {
  if (isNodeletError(err, ErrorCode.NotFound)) return 404;
  if (isNodeletError(err, ErrorCode.InvalidArgument)) return 400;
  return undefined;
}

export interface ContainerLogsRoute {
  /** Serves the request when `path` is a /containerLogs path; undefined otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<number | undefined>;
}

export function createContainerLogsRoute(source: ContainerLogsSource): ContainerLogsRoute {
  return {
    async handle(req, res, path, url) {
      if (path !== "/containerLogs" && !path.startsWith("/containerLogs/")) return undefined;
      try {
        return await serve(req, res, path, url);
      } catch (err) {
        if (!(err instanceof LogsHttpError) || res.headersSent) throw err;
        return sendText(res, err.status, `${err.message}\n`, req.method === "HEAD");
      }
    },
  };

  async function serve(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<number> {
    const segments = path.split("/").slice(2);
    if (segments.length !== 3 || segments.some((s) => s === "")) {
      throw new LogsHttpError(404, "expected /containerLogs/{namespace}/{podName}/{containerName}");
    }
    let names: string[];
    try {
      names = segments.map((s) => decodeURIComponent(s));
    } catch {
      throw new LogsHttpError(400, "malformed percent-encoding in the path");
    }
    const [namespace, podName, containerName] = names as [string, string, string];
    const options = parseLogOptions(url.searchParams);
    let write: Awaited<ReturnType<ContainerLogsSource["open"]>>;
    try {
      write = await source.open(namespace, podName, containerName, options);
    } catch (err) {
      const status = statusFor(err);
      if (status !== undefined) throw new LogsHttpError(status, (err as Error).message);
      throw err;
    }
    res.writeHead(200, {
      "Content-Type": "text/plain; charset=utf-8",
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-cache",
    });
    if (req.method === "HEAD") {
      res.end();
      return 200;
    }
    // A following client sees the answer before the first line; otherwise the headers go out
    // with the first bytes (one write less).
    if (options.follow) res.flushHeaders();
    const aborter = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) aborter.abort();
    };
    res.on("close", onClose);
    try {
      await write(res, aborter.signal);
    } finally {
      res.off("close", onClose);
    }
    if (!aborter.signal.aborted) res.end();
    return 200;
  }
}
