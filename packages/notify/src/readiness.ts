import { defaultNotifier } from './default-notifier.js';
import { NotifyError } from './errors.js';
import type { Notifier } from './notifier.js';
import { READY } from './protocol.js';

export interface ReadinessWarningOptions {
  notifier?: Notifier;
  /** How long after this call READY=1 should have been sent. Default 10 000 ms. */
  afterMs?: number;
  /** Where the warning goes. Default process.emitWarning. */
  warn?: (message: string) => void;
}

/**
 * Warns once when a supervised service has not sent READY=1 within `afterMs`:
 * under Type=notify, systemd is still waiting and will fail the start at
 * TimeoutStartSec=. Returns a function that cancels the warning. Off systemd it
 * does nothing (no timer).
 */
export function warnIfNotReady(options: ReadinessWarningOptions = {}): () => void {
  const afterMs = options.afterMs ?? 10_000;
  if (typeof afterMs !== 'number' || !Number.isFinite(afterMs) || afterMs < 0) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `warnIfNotReady() afterMs must be a finite number of milliseconds >= 0, got ${String(afterMs)}.`);
  }
  const notifier = options.notifier ?? defaultNotifier();
  if (!notifier.supervised || notifier.readySent) return () => {};
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, { code: 'NODE_SYSTEMD_NOT_READY' }));
  let stopListening = (): void => {};
  const timer = setTimeout(() => {
    stopListening();
    warn(`No READY=1 was sent to systemd within ${afterMs} ms of start-up; under Type=notify the service stays "activating" until it is, and the start fails at TimeoutStartSec=.`);
  }, afterMs);
  timer.unref();
  const cancel = (): void => {
    clearTimeout(timer);
    stopListening();
  };
  stopListening = notifier.onSent((assignments) => {
    if (assignments.some(([key, value]) => key === READY && value === '1')) cancel();
  });
  return cancel;
}
