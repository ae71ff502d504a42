import { NotifyError } from './errors.js';
import { parseListenFds, systemdEnvironment, type ListenFd } from './env.js';
import { loadNative, systemError, type SocketInfo } from './native.js';
import { clusterMembership } from './cluster/membership.js';
import { checkFdName } from './fdname.js';

/**
 * Socket activation (sd_listen_fds(3)): the fds a socket unit, or the fd store,
 * passed to this process. Read once; FD_CLOEXEC is set on each so child processes
 * do not inherit listening sockets that are not theirs.
 */
let passed: ListenFd[] | undefined;

/**
 * Every fd passed to this process, in order, with its name. [] when none were.
 * In a runCluster() worker: the fds its primary was passed (the primary's
 * numbers; listen({ fd }) in a worker is served with the primary's handle).
 */
export function listenFds(): ListenFd[] {
  const shared = clusterMembership()?.sharedFds;
  if (shared) return shared.slice();
  if (!passed) {
    const fds = parseListenFds(systemdEnvironment());
    if (fds.length > 0) setCloexec(fds);
    passed = fds;
  }
  return passed.slice();
}

function setCloexec(fds: readonly ListenFd[]): void {
  let native;
  try {
    native = loadNative();
  } catch (error) {
    // The fds still work; only children would inherit them. Say so and go on.
    process.emitWarning(`Cannot set FD_CLOEXEC on socket-activated fds: ${(error as Error).message}`, { code: 'NODE_SYSTEMD_CLOEXEC' });
    return;
  }
  for (const { fd } of fds) {
    const result = native.setCloexec(fd);
    if (result < 0) {
      throw new NotifyError('ERR_NOTIFY_ENV_INVALID', `LISTEN_FDS includes fd ${fd}, but it is not open in this process (${systemError(result, 'fcntl').code}).`, {
        cause: systemError(result, 'fcntl'),
      });
    }
  }
}

/**
 * The passed fd with this FileDescriptorName=, or, when `name` is undefined, the
 * only passed fd (undefined when there are none or several).
 */
export function listenFd(name?: string): ListenFd | undefined {
  if (name !== undefined) checkFdName(name, 'The fd name');
  const fds = listenFds();
  if (name === undefined) return fds.length === 1 ? fds[0] : undefined;
  return fds.find((fd) => fd.name === name);
}

export interface ListenFallback {
  /** Which passed fd to use (its FileDescriptorName=). Default: the only one. */
  fdName?: string;
  port?: number;
  host?: string;
  /** A unix socket path to listen on instead of a port. */
  path?: string;
}

export type ListenTarget = { fd: number } | { port: number; host?: string } | { path: string };

/**
 * Options for `server.listen()`: the socket-activated fd when there is one,
 * otherwise the fallback port/host (or path). Works for node:http, Express, Koa.
 *
 * Which fd: the one named `fallback.fdName`; failing that, the only fd passed (one
 * socket cannot be mistaken, and a .socket unit without FileDescriptorName= names
 * it after the unit). Several fds and none with that name throws
 * ERR_NOTIFY_FD_NOT_FOUND rather than falling back: binding the port ourselves
 * would collide with the socket systemd holds.
 */
export function listenOptions(fallback: ListenFallback = {}): ListenTarget {
  const wanted = fallback.fdName === undefined ? undefined : checkFdName(fallback.fdName);
  const fds = listenFds();
  if (fds.length > 0) {
    const chosen = (wanted === undefined ? undefined : fds.find((fd) => fd.name === wanted)) ?? (fds.length === 1 ? fds[0] : undefined);
    if (chosen) {
      // A worker's fd numbers are the primary's, which checked them.
      if (!clusterMembership()) checkStreamSocket(chosen);
      return { fd: chosen.fd };
    }
    throw new NotifyError(
      'ERR_NOTIFY_FD_NOT_FOUND',
      `${fds.length} fds were passed (${fds.map((fd) => `${fd.fd}=${JSON.stringify(fd.name)}`).join(', ')}) and none is named ${JSON.stringify(wanted)}; ` +
        'set FileDescriptorName= in the .socket unit or ask for one of these names.',
    );
  }
  if (fallback.path !== undefined) return { path: fallback.path };
  const port = fallback.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `The fallback port must be an integer from 0 to 65535, got ${String(fallback.port)}.`);
  }
  return fallback.host === undefined ? { port } : { port, host: fallback.host };
}

/**
 * server.listen({ fd }) on anything but a stream socket fails with a bare EINVAL
 * (or worse, listens on an fd Node opened for itself when LISTEN_FDS lies); say
 * which fd and what it is instead.
 */
function checkStreamSocket({ fd, name }: ListenFd): void {
  const SOCK_STREAM = 1;
  let info: SocketInfo;
  try {
    info = describeFd(fd);
  } catch (error) {
    if ((error as NotifyError).code === 'ERR_NOTIFY_NATIVE_UNAVAILABLE') return;
    throw new NotifyError('ERR_NOTIFY_INVALID_FDS', `The passed fd ${fd} (${JSON.stringify(name)}) is not a socket; check LISTEN_FDS and the .socket unit.`, { cause: error });
  }
  if (info.type !== SOCK_STREAM) {
    throw new NotifyError('ERR_NOTIFY_INVALID_FDS', `The passed fd ${fd} (${JSON.stringify(name)}) is not a stream socket (SO_TYPE ${info.type}); an HTTP server needs ListenStream=.`);
  }
}

/** What kind of socket an fd is (family AF_UNIX=1/AF_INET=2/AF_INET6=10, type, listening). */
export function describeFd(fd: number): SocketInfo {
  const info = loadNative().socketInfo(fd);
  if (typeof info === 'number') {
    throw new NotifyError('ERR_NOTIFY_INVALID_FDS', `fd ${fd} is not a usable socket (${systemError(info, 'getsockopt').code}).`, { cause: systemError(info, 'getsockopt') });
  }
  return info;
}
