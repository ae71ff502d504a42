import { Notifier } from './notifier.js';
import { clusterMembership } from './cluster/membership.js';
import { IpcNotifier } from './cluster/ipc-notifier.js';

let shared: Notifier | undefined;

/**
 * The process-wide notifier, talking to $NOTIFY_SOCKET (read once, at first use);
 * in a runCluster() worker, to the primary over IPC. Everything that sends by
 * default (lifecycle, adapters, watchdog) goes through this one choice.
 */
export function defaultNotifier(): Notifier {
  return (shared ??= clusterMembership() ? new IpcNotifier() : new Notifier());
}

/** True when NOTIFY_SOCKET was set for this process. */
export function isSupervised(): boolean {
  return defaultNotifier().supervised;
}
