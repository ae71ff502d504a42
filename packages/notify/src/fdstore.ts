import type { Server } from 'node:net';
import { NotifyError } from './errors.js';
import type { ListenFd } from './env.js';
import { listenFds } from './activation.js';
import { defaultNotifier } from './default-notifier.js';
import type { Notifier } from './notifier.js';
import { FDNAME, FDPOLL, FDSTORE, FDSTOREREMOVE, type FieldValue } from './protocol.js';
import { checkFdName } from './fdname.js';

/**
 * The fd store (FileDescriptorStoreMax= > 0): the manager keeps fds for the
 * service across restarts and passes them back through LISTEN_FDS with their
 * FDNAME. Storing the listening socket lets `systemctl restart` keep the port open
 * without a .socket unit, where systemd keeps the store across restarts.
 */
export interface StoreOptions {
  /** The FDNAME= to store under (1 to 255 printable ASCII characters, no ":"). */
  fdName: string;
  /** false sends FDPOLL=0: the manager will not drop the fd on POLLHUP/POLLERR. */
  poll?: boolean;
  notifier?: Notifier;
}

/** The listening fd of a server, if it has one (it must be listening). */
export function serverFd(server: Server): number | undefined {
  const handle = (server as unknown as { _handle?: { fd?: unknown } | null })._handle;
  return handle && typeof handle.fd === 'number' && handle.fd >= 0 ? handle.fd : undefined;
}

/** FDSTORE=1 + FDNAME= with the fds. Resolves false when not supervised. */
export async function storeFds(fds: readonly number[], options: StoreOptions): Promise<boolean> {
  const fields: Array<[string, FieldValue]> = [[FDSTORE, '1'], [FDNAME, checkFdName(options?.fdName)]];
  if (options.poll === false) fields.push([FDPOLL, '0']);
  return (options.notifier ?? defaultNotifier()).notify(fields, { fds });
}

/** Stores a listening server's socket under `name`. */
export function storeServer(server: Server, name: string, options: Omit<StoreOptions, 'fdName'> = {}): Promise<boolean> {
  try {
    checkFdName(name, 'The fd name');
  } catch (error) {
    return Promise.reject(error);
  }
  const fd = serverFd(server);
  if (fd === undefined) {
    return Promise.reject(new NotifyError('ERR_NOTIFY_INVALID_FDS', `Cannot store the server under ${JSON.stringify(name)}: it is not listening on an fd of its own.`));
  }
  return storeFds([fd], { ...options, fdName: name });
}

/** The fds passed back from the store under `name` (after a restart). */
export function storedFds(name: string): ListenFd[] {
  checkFdName(name, 'The fd name');
  return listenFds().filter((fd) => fd.name === name);
}

/** FDSTOREREMOVE=1 + FDNAME=: the manager closes every stored fd of that name. */
export async function removeStoredFds(name: string, notifier: Notifier = defaultNotifier()): Promise<boolean> {
  checkFdName(name, 'The fd name');
  return notifier.notify([[FDSTOREREMOVE, '1'], [FDNAME, name]]);
}
