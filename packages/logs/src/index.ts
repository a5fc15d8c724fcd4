export type { CriLine, LogStream, LogTime } from "./cri-format.js";
export { formatLogTime, parseCriLine, parseLogTime } from "./cri-format.js";
export type { LogManager, LogManagerOptions, LogOperation, LogRuntimeService } from "./log-manager.js";
export { createLogManager, LOG_MANAGER_DEFAULTS, rotationSuffix } from "./log-manager.js";
export type { LogManagerMetrics } from "./metrics.js";
export { legacyLogSymlinkName } from "./paths.js";
export type { ReadLogsOptions, ReadLogsResult } from "./read-logs.js";
export { readLogs } from "./read-logs.js";
export { findTailStart } from "./tail.js";
