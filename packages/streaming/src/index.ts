export type { ConnectOptions } from "./connect.js";
export { isStreamingError, StreamingError, StreamingErrorCode } from "./errors.js";
export type { ExecOptions, ExecSession, Transport } from "./exec.js";
export { attach, exec } from "./exec.js";
export type {
  ForwardedPort,
  ForwardPortOptions,
  PortForwardConnection,
  PortForwardOptions,
  PortForwardSession,
} from "./port-forward.js";
export { forwardPort, portForward } from "./port-forward.js";
export type { StreamOptions, TerminalSize } from "./protocol.js";
export {
  SPDY_PORTFORWARD,
  SPDY_REMOTECOMMAND_V4,
  WEBSOCKET_PROTOCOLS,
  WS_V4,
  WS_V4_BASE64,
  WS_V5,
} from "./protocol.js";
export type { StreamingServer, StreamingServerOptions, StreamingTargets } from "./server/index.js";
export { createStreamingServer, isStreamingPath } from "./server/index.js";
export type { SessionLimits } from "./server/limits.js";
export type { ContainerTarget } from "./server/request.js";
export { SpdySession, type SpdySessionOptions } from "./spdy/session.js";
export { SpdyStream } from "./spdy/stream.js";
export type { V1Status } from "./status.js";
export { exitCodeFromStatus } from "./status.js";
