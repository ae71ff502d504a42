import { Server } from 'node:net';
import { listenAdopting } from '../adopt.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { passedSockets, passedUnixSockets } from '../passed-sockets.js';
import { registerOptions } from './options.js';
import { Readiness } from './readiness.js';

const kService = Symbol.for('node-systemd.register');

/** What the register entry keeps process-wide (under a global symbol, so two copies of the package find one). */
interface Service {
  lifecycle: Lifecycle;
  /** An adapter made its own lifecycle: this one stops handling signals, the watchdog and READY. */
  stepAside(): void;
}

type Listen = (this: Server, ...args: unknown[]) => Server;

/**
 * What `--import`/`--require @node-systemd/notify/register` does under systemd:
 *
 * - every net/http/https/http2 server whose listen() names an address a passed
 *   socket holds (by port and host, or a unix socket's path) takes that fd
 *   instead of binding; other
 *   listen() calls are unchanged;
 * - READY=1 once the servers listen (see Readiness), STATUS= says where;
 * - SIGTERM/SIGINT drain every listening server (STOPPING=1, draining, drained,
 *   exit), the watchdog runs when WATCHDOG_USEC applies, with the event-loop
 *   guard on: a lifecycle as createLifecycle() makes, with the options read from
 *   NODE_SYSTEMD_* variables; with NODE_SYSTEMD_FDSTORE=1 each listening socket
 *   goes into the fd store, and comes back to the same listen() after a restart.
 *
 * An adapter's lifecycle (the Fastify plugin, Express/Koa serve()) takes over
 * when it is created: two lifecycles would both send READY=1 and both ping the
 * watchdog, one of them ignoring the app's health check. listen() keeps taking
 * passed sockets.
 *
 * Idempotent: a second copy of the package (or a second preload) finds the
 * first one's lifecycle and changes nothing.
 */
export function startService(): Lifecycle {
  const holder = globalThis as { [kService]?: Service };
  if (holder[kService]) return holder[kService].lifecycle;
  const options = registerOptions();
  // Read before the app runs: this captures LISTEN_* and NOTIFY_SOCKET and
  // removes them from the environment, so the app's children do not act on them.
  const wanted = (socket: { name: string }): boolean => options.fdNames === undefined || options.fdNames.includes(socket.name);
  const sockets = passedSockets().filter(wanted);
  const unixSockets = passedUnixSockets().filter(wanted);
  const lifecycle = new Lifecycle({
    gracePeriodMs: options.gracePeriodMs,
    idleLingerMs: options.idleLingerMs,
    forcedExitCode: options.forcedExitCode,
    fdStore: options.fdStore,
    watchdog: options.eventLoopMaxMs > 0 ? { eventLoop: { maxDelayMs: options.eventLoopMaxMs } } : {},
  });
  const readiness = new Readiness(lifecycle, [...sockets, ...unixSockets], { unusedWarningMs: options.unusedWarningMs, storeName: options.fdNames?.[0] ?? 'http' });
  const original = Server.prototype.listen as Listen;
  Server.prototype.listen = function listen(this: Server, ...args: unknown[]): Server {
    readiness.watch(this);
    return listenAdopting(this, original, args, sockets, unixSockets);
  } as typeof Server.prototype.listen;
  holder[kService] = {
    lifecycle,
    stepAside() {
      readiness.stop();
      lifecycle.dispose();
    },
  };
  return lifecycle;
}
