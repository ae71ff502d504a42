import { readFileSync, readlinkSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { listenFds, listenOptions, type ListenFallback } from '../activation.js';
import { serverFd } from '../fdstore.js';

/** What server.listen() gets: a passed fd, a port (and host), or a path. */
export type ListenTarget = ReturnType<typeof listenOptions>;

/**
 * The options for server.listen(): the fd systemd passed under `fallback.fdName`
 * (or the only one), else the fallback port/host or path. Remembers the fd's
 * origin for STATUS=.
 */
export function resolveListen(server: Server, fallback: ListenFallback): ListenTarget {
  const options = listenOptions(fallback);
  if ('fd' in options) recordOrigin(server, options.fd, listenFds().find((passed) => passed.fd === options.fd)?.name);
  return options;
}

/** Where a server listens, for STATUS= and for logs. */
const origins = new WeakMap<Server, string>();

/** Remembers that the server listens on a passed fd (the address alone does not say so). */
export function recordOrigin(server: Server, fd: number, name: string | undefined): void {
  origins.set(server, `socket-activated fd ${fd}${name ? ` "${name}"` : ''}`);
}

/**
 * One line saying where the server listens: `127.0.0.1:3000`, `/run/app.sock`,
 * `[::1]:80 (socket-activated fd 3 "http")`. A unix socket received as an fd has
 * no address in Node (server.address() is null), so its path is looked up in
 * /proc/net/unix.
 */
export function describeServer(server: Server): string {
  const address = server.address() as AddressInfo | string | null;
  const origin = origins.get(server);
  let where: string;
  if (typeof address === 'string') where = address;
  else if (address) where = address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
  else where = unixPathOf(serverFd(server)) ?? 'an unnamed socket';
  return origin ? `${where} (${origin})` : where;
}

/** The path (or @abstract name) a unix socket fd is bound to, if any. */
export function unixPathOf(fd: number | undefined): string | undefined {
  if (fd === undefined) return undefined;
  try {
    const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
    if (!inode) return undefined;
    for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      // /proc shows NUL bytes as "@": an abstract name bound with the whole
      // sun_path (as Node does) ends in a run of them.
      if (columns[6] === inode) return columns[7]?.startsWith('@') ? columns[7].replace(/@+$/, '') : columns[7];
    }
  } catch {
    // No /proc (or no access): the description just says less.
  }
  return undefined;
}

/** server.listen() as a promise: resolves once listening, rejects on 'error' (EADDRINUSE, EBADF, ...). */
export function listenAsync(server: Server, options: ListenTarget): Promise<void> {
  const listening = whenListening(server);
  server.listen(options);
  return listening;
}

/** Resolves once the server listens; rejects if it fails to. */
export function whenListening(server: Server): Promise<void> {
  if (server.listening) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
  });
}
