import { Server } from 'node:net';
import { listenAdopting } from '../adopt.js';
import { createLifecycle, type Lifecycle } from '../lifecycle/lifecycle.js';
import { passedSockets } from '../passed-sockets.js';
import { registerOptions } from './options.js';
import { Readiness } from './readiness.js';

const kService = Symbol.for('node-systemd.register');

type Listen = (this: Server, ...args: unknown[]) => Server;

/**
 * What `--import`/`--require @node-systemd/notify/register` does under systemd:
 *
 * - every net/http/https/http2 server whose listen() names an address a passed
 *   socket holds (by port and host) takes that fd instead of binding; other
 *   listen() calls are unchanged;
 * - READY=1 once the servers listen (see Readiness), STATUS= says where;
 * - SIGTERM/SIGINT drain every listening server (STOPPING=1, draining, drained,
 *   exit), the watchdog runs when WATCHDOG_USEC applies, with the event-loop
 *   guard on: the lifecycle of createLifecycle(), with the options read from
 *   NODE_SYSTEMD_* variables; with NODE_SYSTEMD_FDSTORE=1 each listening socket
 *   goes into the fd store, and comes back to the same listen() after a restart.
 *
 * Idempotent: a second copy of the package (or a second preload) finds the
 * first one's lifecycle and changes nothing.
 */
export function startService(): Lifecycle {
  const holder = globalThis as { [kService]?: Lifecycle };
  if (holder[kService]) return holder[kService];
  const options = registerOptions();
  // Read before the app runs: this captures LISTEN_* and NOTIFY_SOCKET and
  // removes them from the environment, so the app's children do not act on them.
  const sockets = passedSockets().filter((socket) => options.fdNames === undefined || options.fdNames.includes(socket.name));
  const lifecycle = createLifecycle({
    gracePeriodMs: options.gracePeriodMs,
    idleLingerMs: options.idleLingerMs,
    stopTimeoutMs: options.stopTimeoutMs,
    forcedExitCode: options.forcedExitCode,
    fdStore: options.fdStore,
    watchdog: options.eventLoopMaxMs > 0 ? { eventLoop: { maxDelayMs: options.eventLoopMaxMs } } : {},
  });
  holder[kService] = lifecycle;
  const readiness = new Readiness(lifecycle, sockets, { unusedWarningMs: options.unusedWarningMs, storeName: options.fdNames?.[0] ?? 'http' });
  const original = Server.prototype.listen as Listen;
  Server.prototype.listen = function listen(this: Server, ...args: unknown[]): Server {
    readiness.watch(this);
    return listenAdopting(this, original, args, sockets);
  } as typeof Server.prototype.listen;
  return lifecycle;
}
