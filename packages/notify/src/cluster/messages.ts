import { readdirSync, readlinkSync } from 'node:fs';

/**
 * What a worker's notifier sends its primary over the cluster IPC channel: the
 * assignments of one sd_notify message, already validated by the worker.
 */
export const MESSAGE_TAG = 'node-systemd:notify';

export interface WorkerNotification {
  readonly type: typeof MESSAGE_TAG;
  readonly assignments: ReadonlyArray<readonly [string, string]>;
  /**
   * FDSTORE=1: the socket inodes of the fds to store. Fds cannot cross the IPC
   * channel by number, but a worker's listening socket is one the primary holds
   * too (cluster handle sharing), and the same socket has the same inode in both.
   */
  readonly inodes?: readonly number[];
}

export function isWorkerNotification(message: unknown): message is WorkerNotification {
  const candidate = message as Partial<WorkerNotification> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.type === MESSAGE_TAG &&
    Array.isArray(candidate.assignments) &&
    candidate.assignments.every((pair) => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string') &&
    (candidate.inodes === undefined || (Array.isArray(candidate.inodes) && candidate.inodes.every((inode) => Number.isSafeInteger(inode) && inode > 0)))
  );
}

/** The inode of the socket open as `fd` in this process, from /proc; undefined when it is not a socket. */
export function socketInode(fd: number, pid: number | 'self' = 'self'): number | undefined {
  try {
    const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** This process's fds that are the sockets with these inodes, in the same order (undefined where none is). */
export function fdsOfSockets(inodes: readonly number[]): Array<number | undefined> {
  const found = new Map<number, number>();
  for (const entry of readdirSync('/proc/self/fd')) {
    const fd = Number(entry);
    const inode = socketInode(fd);
    if (inode !== undefined && !found.has(inode)) found.set(inode, fd);
  }
  return inodes.map((inode) => found.get(inode));
}
