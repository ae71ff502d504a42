/**
 * Where the lifecycle's own messages go. Console-compatible, so `console`,
 * pino/winston wrappers and the journal logger all fit. Every message carries
 * `fields.NODE_SYSTEMD_EVENT` (one of `LifecycleEvent`) and, for failures, the
 * Error as `fields.err`.
 */
export interface LifecycleLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The stable names in `fields.NODE_SYSTEMD_EVENT`. */
export type LifecycleEvent =
  /** info: the drain began (listeners closed). */
  | 'drain-started'
  /** info: `shutdownDelayMs` began: readiness says draining, the listeners still accept. */
  | 'shutdown-delay'
  /** warn: the grace period ran out and open connections were destroyed. */
  | 'drain-forced'
  /** info: the drain and the close hook finished. */
  | 'drained'
  /** warn: the process is ended with forcedExitCode (second SIGINT, late SIGTERM, backstop). */
  | 'exit-forced'
  /** warn: another listener holds the signal; says what the lifecycle will do and how to choose. */
  | 'signal-shared'
  /** error: the `close` hook threw. */
  | 'close-failed'
  /** error: a notification to systemd failed. */
  | 'notify-failed'
  /** error: the watchdog withheld a ping (health check false, threw, timed out, or event-loop lag). */
  | 'unhealthy'
  /** error: the reload function threw. */
  | 'reload-failed'
  /** warn: no READY=1 within 10 s of start-up under systemd. */
  | 'not-ready'
  /** warn: started through npm/npx/yarn/pnpm or a shell: systemd ignores READY=1 from the child. */
  | 'wrapped-start'
  /** error: NOTIFY_SOCKET cannot be used (RestrictAddressFamilies= without AF_UNIX). */
  | 'notify-socket-unusable';

/** Sends a message with its event name; a logger that throws never breaks the lifecycle. */
export type Log = (level: keyof LifecycleLogger, event: LifecycleEvent, message: string, error?: Error) => void;

/**
 * The default: problems (warn, error) become process warnings, which Node
 * prints to stderr (the journal, under systemd); info stays silent, STATUS=
 * already tells systemd. An error is emitted as itself, so the line shows its
 * code and class (`[ERR_NOTIFY_SEND_FAILED] NotifyError: ...`).
 */
export const defaultLogger: LifecycleLogger = {
  info() {},
  warn: (message, fields) => process.emitWarning(message, { code: codeOf(fields) }),
  error: (message, fields) => (fields?.err instanceof Error ? process.emitWarning(fields.err) : process.emitWarning(message, { code: codeOf(fields) })),
};

function codeOf(fields: Record<string, unknown> | undefined): string {
  return `NODE_SYSTEMD_${String(fields?.NODE_SYSTEMD_EVENT ?? 'lifecycle').toUpperCase().replace(/-/g, '_')}`;
}

/** A Log over the logger; errors go to `onError` instead when the app gave one. */
export function createLog(logger: LifecycleLogger, onError: ((error: Error) => void) | undefined): Log {
  return (level, event, message, error) => {
    try {
      if (level === 'error' && error && onError) return onError(error);
      const fields: Record<string, unknown> = { NODE_SYSTEMD_EVENT: event };
      if (error) fields.err = error;
      logger[level](message, fields);
    } catch {
      // A broken logger must not stop a drain.
    }
  };
}

/** Anything thrown, as an Error. */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
