// The version constants live in runtime-api; re-exported for cri-remote's existing users.
export { CRI_API_VERSION, CRI_VERSION } from "@nodelet/runtime-api";
export { DEFAULT_MAX_MESSAGE_BYTES } from "./connection.js";
export type { ParsedEndpoint } from "./endpoint.js";
export { parseEndpoint } from "./endpoint.js";
export type { InstrumentOptions, RuntimeOperationMetrics } from "./instrumented.js";
export { instrumentImageService, instrumentRuntimeService, runtimeOperationMetrics } from "./instrumented.js";
export type { RemoteServiceOptions } from "./options.js";
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from "./options.js";
export { createRemoteImageService } from "./remote-image.js";
export { createRemoteRuntimeService } from "./remote-runtime.js";
