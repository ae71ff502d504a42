import type { Server } from 'node:net';
import { recordOrigin } from './lifecycle/listen.js';
import { explainMismatch } from './passed-socket-messages.js';
import { matchListen, parseListenArgs, parseListenPath, passedSockets, passedUnixSockets, type PassedSocket, type PassedUnixSocket } from './passed-sockets.js';

/**
 * A `server.listen(port, host)` (or `listen(path)`) that takes the socket
 * systemd passed for that address instead of binding it again (which fails with EADDRINUSE). Used by the
 * register entry (for every server) and by adapters (for the framework's own).
 */

type Listen = (this: Server, ...args: unknown[]) => Server;

/** Which server took which passed fd: one process-wide record, so two callers never hand one fd to two servers. */
const taken = new Map<number, Server>();
const kAdopting = Symbol('node-systemd.adopting');

/** The passed sockets no server has taken. */
export function unusedSockets<T extends { fd: number }>(sockets: readonly T[]): T[] {
  return sockets.filter((socket) => !taken.has(socket.fd));
}

/** The server that took a passed fd, if any. */
export function serverOfFd(fd: number): Server | undefined {
  return taken.get(fd);
}

/**
 * Runs `original` (net.Server's listen) for `server` with `args`, except that a
 * TCP listen on an address a passed socket holds listens on that socket's fd.
 * A call that will collide with a passed socket or leave it unused
 * (`exclusive: true`, another host) gets a warning naming the fd and the fix
 * before it goes ahead. `sockets` limits which passed sockets may be taken.
 */
export function listenAdopting(server: Server, original: Listen, args: unknown[], sockets: readonly PassedSocket[] = passedSockets(), unixSockets: readonly PassedUnixSocket[] = passedUnixSockets()): Server {
  if (unixSockets.length > 0) {
    const path = parseListenPath(args);
    const socket = path === undefined ? undefined : unixSockets.find((passed) => passed.path === path && !taken.has(passed.fd));
    if (socket) return adopt(server, original, args, socket);
  }
  const request = sockets.length === 0 ? undefined : parseListenArgs(args);
  if (!request) return original.apply(server, args);
  const takenFds = new Set(taken.keys());
  const match = matchListen(request, sockets, takenFds);
  if (match.kind === 'adopt') return adopt(server, original, args, match.socket);
  const message = explainMismatch(request, match);
  if (message) process.emitWarning(message, { code: 'NODE_SYSTEMD_PASSED_SOCKET' });
  return original.apply(server, args);
}

function adopt(server: Server, original: Listen, args: unknown[], { fd, name }: { fd: number; name: string }): Server {
  taken.set(fd, server);
  server.once('close', () => {
    if (taken.get(fd) === server) taken.delete(fd);
  });
  recordOrigin(server, fd, name);
  return original.apply(server, fdArgs(fd, args));
}

/** The same call with `{ fd }` for the address: backlog, signal and the callback are kept. */
function fdArgs(fd: number, args: unknown[]): unknown[] {
  const callback = args.find((arg) => typeof arg === 'function');
  const options: { fd: number; backlog?: unknown; signal?: unknown } = { fd };
  const first = args[0];
  if (first !== null && typeof first === 'object') {
    const given = first as { backlog?: unknown; signal?: unknown };
    if (given.backlog !== undefined) options.backlog = given.backlog;
    if (given.signal !== undefined) options.signal = given.signal;
  } else {
    // listen(port, host, backlog, cb) / listen(port, backlog, cb)
    const backlog = typeof args[1] === 'number' ? args[1] : typeof args[2] === 'number' ? args[2] : undefined;
    if (backlog !== undefined) options.backlog = backlog;
  }
  return callback === undefined ? [options] : [options, callback];
}

/**
 * Makes this one server's `listen(port, host)` take the passed socket for that
 * address (as the register entry does for every server). For adapters whose
 * framework calls listen() itself: `app.listen({ port, host })` then works under
 * socket activation. Idempotent; with no passed socket nothing changes.
 */
export function adoptPassedSocket(server: Server): void {
  const target = server as Server & { [kAdopting]?: true };
  if (target[kAdopting] || (passedSockets().length === 0 && passedUnixSockets().length === 0)) return;
  target[kAdopting] = true;
  const inherited = server.listen as Listen;
  Object.defineProperty(server, 'listen', {
    configurable: true,
    writable: true,
    value: function listen(this: Server, ...args: unknown[]): Server {
      return listenAdopting(this, inherited, args);
    },
  });
}
