export interface RemoteServiceOptions {
  /** The kubelet's runtimeRequestTimeout: the default deadline of a call, in ms. Default 2 minutes. */
  requestTimeoutMs?: number | undefined;
  /** Largest message sent or received, in bytes. Default 16 MiB. */
  maxMessageBytes?: number | undefined;
  /** Deadline of the connect-time check (Version or ImageFsInfo), in ms. Default 10 s. */
  connectTimeoutMs?: number | undefined;
  /** Cancels the connect-time check. */
  signal?: AbortSignal | undefined;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 2 * 60 * 1000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10 * 1000;
