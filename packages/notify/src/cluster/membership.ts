import type { ListenFd } from '../env.js';

/**
 * Whether this process is a worker started by runCluster(), decided once. The
 * primary marks its workers with an environment variable and hands them the fds
 * it holds; a worker then reports to the primary over the cluster's IPC channel
 * instead of NOTIFY_SOCKET, and listens on the primary's sockets through Node's
 * cluster handle sharing. Nothing here loads the cluster module.
 */
export const WORKER_MARKER = 'NODE_SYSTEMD_CLUSTER_WORKER';
/** JSON `[{"fd":3,"name":"http"}]`: fds of the primary (its numbers) that the worker may listen on. */
export const WORKER_FDS = 'NODE_SYSTEMD_CLUSTER_FDS';

export interface ClusterMembership {
  /** The primary's passed fds; listen({ fd }) in a worker is served by the primary's handle. */
  readonly sharedFds: readonly ListenFd[];
}

let decided: ClusterMembership | null | undefined;

/** The membership when this process is a runCluster() worker with its IPC channel, else null. */
export function clusterMembership(): ClusterMembership | null {
  if (decided !== undefined) return decided;
  const marker = process.env[WORKER_MARKER];
  const fds = process.env[WORKER_FDS];
  // Children of a worker must not take themselves for workers.
  delete process.env[WORKER_MARKER];
  delete process.env[WORKER_FDS];
  decided = marker !== undefined && typeof process.send === 'function' ? Object.freeze({ sharedFds: parseSharedFds(fds) }) : null;
  return decided;
}

/** The fd list as the primary wrote it (JSON); anything malformed means none. */
export function parseSharedFds(value: string | undefined): ListenFd[] {
  if (!value) return [];
  try {
    const parsed: unknown = JSON.parse(value);
    if (!Array.isArray(parsed)) return [];
    return parsed
      .filter((entry): entry is ListenFd => Number.isInteger(entry?.fd) && entry.fd >= 0 && typeof entry?.name === 'string')
      .map(({ fd, name }) => Object.freeze({ fd, name }));
  } catch {
    return [];
  }
}
