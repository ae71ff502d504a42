import { Notifier } from './notifier.js';

let shared: Notifier | undefined;

/** The process-wide notifier, talking to $NOTIFY_SOCKET (read once, at first use). */
export function defaultNotifier(): Notifier {
  return (shared ??= new Notifier());
}

/** True when NOTIFY_SOCKET was set for this process. */
export function isSupervised(): boolean {
  return defaultNotifier().supervised;
}
