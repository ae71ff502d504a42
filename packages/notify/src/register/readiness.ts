import type { AddressInfo, Server } from 'node:net';
import { serverOfFd, unusedSockets } from '../adopt.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import { describePassed } from '../passed-socket-messages.js';
import type { PassedSocket, PassedUnixSocket } from '../passed-sockets.js';

/**
 * When an app we did not write is ready. The register entry cannot be told, so
 * it decides from the servers that listen:
 *
 * - sockets were passed: READY=1 once every one of them was taken by a server
 *   that listens (the unit's sockets are what the service is for);
 * - none were passed: READY=1 once the first server listens, one turn of the
 *   event loop later, so that servers listened in the same turn count too;
 * - a passed socket still unused `unusedWarningMs` after start: a warning names
 *   it and the fix, and READY=1 goes out if any server listens by then (the
 *   service works, minus that socket; a start timeout would hide the cause).
 *
 * Every server that listens is attached to the lifecycle, so a signal drains it.
 */
export class Readiness {
  private readonly watched = new WeakSet<Server>();
  private readonly listening = new Set<Server>();
  private readonly stores: Promise<void>[] = [];
  private sent = false;
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly sockets: ReadonlyArray<PassedSocket | PassedUnixSocket>,
    private readonly options: { unusedWarningMs: number; storeName: string },
  ) {
    if (sockets.length > 0) setTimeout(() => this.checkUnused(), options.unusedWarningMs).unref();
  }

  /** Follows a server that is about to listen. Idempotent. */
  watch(server: Server): void {
    if (this.watched.has(server)) return;
    this.watched.add(server);
    server.on('listening', () => this.listened(server));
    server.on('close', () => this.listening.delete(server));
  }

  /** Another lifecycle took over: no more READY=1, no more servers attached. */
  stop(): void {
    this.stopped = true;
  }

  private listened(server: Server): void {
    if (this.stopped) return;
    this.listening.add(server);
    this.lifecycle.addServer(server);
    // With the fdStore option: FDSTORE=1 under the name of the passed socket it
    // took (systemd drops a duplicate of an fd it holds), else the default name.
    const taken = this.sockets.find((socket) => serverOfFd(socket.fd) === server);
    this.stores.push(this.lifecycle.storeListener(server, taken?.name ?? this.options.storeName));
    if (this.sent) return;
    if (this.sockets.length > 0) {
      if (this.sockets.every((socket) => serverOfFd(socket.fd)?.listening)) this.ready();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.ready());
    }
  }

  private ready(): void {
    if (this.sent || this.stopped) return;
    this.sent = true;
    // READY=1 after the sockets are in the store: a stop right after READY keeps them.
    Promise.all(this.stores)
      .then(() => this.lifecycle.ready())
      .catch((error: Error) => process.emitWarning(error));
  }

  private checkUnused(): void {
    const unused = unusedSockets(this.sockets);
    if (unused.length === 0) return;
    const own = [...this.listening].map(where).filter((text): text is string => text !== undefined);
    const listens = own.length > 0 ? `The app listens on ${own.join(', ')}. ` : 'No server of the app listens yet. ';
    for (const socket of unused) {
      const [what, fix] =
        'path' in socket
          ? [`fd ${socket.fd} ${JSON.stringify(socket.name)} (${socket.path.replace(/^\0/, '@')})`, `listen on ${socket.path.replace(/^\0/, '@')}`]
          : [describePassed(socket), `listen on port ${socket.port}`];
      process.emitWarning(
        `systemd passed ${what}, but no server listened on it: connections to it wait unanswered. ${listens}` +
          `Fix: ${fix} (the passed socket is then used), or change ListenStream= in the .socket unit to the address the app uses.`,
        { code: 'NODE_SYSTEMD_UNUSED_SOCKET' },
      );
    }
    if (this.listening.size > 0) this.ready();
  }
}

function where(server: Server): string | undefined {
  const address = server.address() as AddressInfo | string | null;
  if (address === null) return undefined;
  if (typeof address === 'string') return address;
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}
