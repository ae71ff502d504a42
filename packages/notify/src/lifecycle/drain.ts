import type { Server } from 'node:net';
import type { ConnectionTracker } from './connections.js';

/**
 * Stops accepting. With socket activation the fd systemd holds stays open, so new
 * connections wait in its queue for the next process instead of being accepted
 * here and reset.
 *
 * http.Server#close() (Node 19+) also calls closeIdleConnections(), which
 * destroys idle keep-alive sockets at once, racing a busy client's next request
 * (under real systemd that lost 40 of 52 000 requests over 5 restarts). The
 * tracker closes them after a linger instead, so Node's call is skipped here for
 * this one close().
 */
export function closeListener(server: Server): void {
  if (!server.listening) return;
  const target = server as Server & { closeIdleConnections?: () => void };
  if (typeof target.closeIdleConnections !== 'function') {
    server.close();
    return;
  }
  const own = Object.getOwnPropertyDescriptor(target, 'closeIdleConnections');
  target.closeIdleConnections = () => {};
  try {
    server.close();
  } finally {
    if (own) Object.defineProperty(target, 'closeIdleConnections', own);
    else delete target.closeIdleConnections;
  }
}

/**
 * Resolves once the server is closed and its last connection is gone. A server
 * that never listened has nothing to drain (if it starts listening later, the
 * lifecycle closes it at once).
 */
export function whenClosed(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const connections = (server as unknown as { _connections?: number })._connections ?? 0;
    if (!server.listening && connections === 0) {
      resolve();
      return;
    }
    server.once('close', () => resolve());
  });
}

export interface DrainResult {
  /** True when the grace period ran out and connections were destroyed. */
  forced: boolean;
}

/**
 * The server half of the drain: every tracker starts draining (Connection: close,
 * idle linger, GOAWAY), every listener closes, and after `gracePeriodMs` what is
 * left is destroyed. Resolves when every server has closed.
 */
export async function drainServers(trackers: readonly ConnectionTracker[], gracePeriodMs: number): Promise<DrainResult> {
  let forced = false;
  for (const tracker of trackers) tracker.startDraining();
  const closed = Promise.all(trackers.map((tracker) => whenClosed(tracker.server)));
  for (const tracker of trackers) closeListener(tracker.server);
  // Node stops its header/request timeouts on close(), so this timer is the only
  // backstop. unref(): it must not keep an otherwise finished process alive.
  const grace = setTimeout(() => {
    forced = true;
    for (const tracker of trackers) {
      tracker.destroyAll();
      (tracker.server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    }
  }, gracePeriodMs);
  grace.unref();
  try {
    await closed;
  } finally {
    clearTimeout(grace);
  }
  return { forced };
}
