export { installPackedPackage, type PackedInstall } from "./consumer.js";
export { type DownOptions, down } from "./down.js";
export { NOT_UP_MESSAGE, type ReadOptions, readTestEnv, type TestEnv } from "./env-file.js";
export { isTestEnvError, TestEnvError, type TestEnvErrorCode } from "./errors.js";
export type { Logger } from "./log.js";
export { STATE_DIR_ENV } from "./paths.js";
export { type ComponentStatus, type StatusOptions, type StatusReport, status } from "./status.js";
export { type UpOptions, up } from "./up.js";
