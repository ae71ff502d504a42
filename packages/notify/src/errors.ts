/**
 * Every error this package throws or rejects with is a `NotifyError` with a stable
 * `code`. Messages name the variable or field and its bad value, and carry the
 * underlying system error as `cause`.
 */
export type NotifyErrorCode =
  /** `NOTIFY_SOCKET` is set but is not a usable address. */
  | 'ERR_NOTIFY_SOCKET_INVALID'
  /** `NOTIFY_SOCKET` names a transport we do not implement (`vsock:`). */
  | 'ERR_NOTIFY_SOCKET_UNSUPPORTED'
  /** A field name or value cannot be encoded without changing its meaning. */
  | 'ERR_NOTIFY_INVALID_FIELD'
  /** The encoded datagram is larger than the 4096 bytes systemd reads, or a journal entry has more than 1024 fields. */
  | 'ERR_NOTIFY_MESSAGE_TOO_LARGE'
  /** The fds passed with a message are not valid for it. */
  | 'ERR_NOTIFY_INVALID_FDS'
  /** The receiver's queue stayed full through every retry. */
  | 'ERR_NOTIFY_QUEUE_FULL'
  /** The kernel refused the datagram (see `cause` and `errno`). */
  | 'ERR_NOTIFY_SEND_FAILED'
  /** The native transport cannot be loaded while `NOTIFY_SOCKET` is set. */
  | 'ERR_NOTIFY_NATIVE_UNAVAILABLE'
  /** An environment variable (`LISTEN_*`, `WATCHDOG_*`) is malformed. */
  | 'ERR_NOTIFY_ENV_INVALID'
  /** An option passed to this package is invalid. */
  | 'ERR_NOTIFY_INVALID_OPTION'
  /** A barrier was not answered in time. */
  | 'ERR_NOTIFY_BARRIER_TIMEOUT'
  /** A named fd was asked for and is not there. */
  | 'ERR_NOTIFY_FD_NOT_FOUND';

export class NotifyError extends Error {
  override name = 'NotifyError';
  readonly code: NotifyErrorCode;
  /** The system error name (`ENOENT`, `EAGAIN`, ...) when the kernel said no. */
  readonly syscallCode: string | undefined;

  constructor(code: NotifyErrorCode, message: string, options: { cause?: unknown; syscallCode?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.syscallCode = options.syscallCode;
  }
}

/** True when `error` is a NotifyError, optionally with the given code. */
export function isNotifyError(error: unknown, code?: NotifyErrorCode): error is NotifyError {
  return error instanceof NotifyError && (code === undefined || error.code === code);
}
