import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { LISTEN_FDS_START } from '../env.js';
import { checkFdName } from '../fdname.js';

export interface PassedFd {
  /** An fd of this process (a listening socket's `server._handle.fd`, say). */
  fd: number;
  /** Its FileDescriptorName= (checked as systemd checks it); default "unknown", what sd_listen_fds_with_names() reports for a socket with no name. */
  fdName?: string;
}

/**
 * Starts a child the way systemd starts a socket-activated service: the given fds
 * become its fds 3, 4, ..., and LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID are set.
 * LISTEN_PID must be the child's own PID, which is only known once it runs, so the
 * child is started through `/bin/sh -c 'LISTEN_PID=$$ exec "$@"'` (exec keeps the PID).
 */
export function spawnWithListenFds(
  command: string,
  args: readonly string[],
  fds: readonly PassedFd[],
  options: SpawnOptions = {},
): ChildProcess {
  const stdio: unknown[] = Array.isArray(options.stdio) ? options.stdio.slice(0, LISTEN_FDS_START) : ['inherit', 'inherit', 'inherit'];
  while (stdio.length < LISTEN_FDS_START) stdio.push('inherit');
  for (const { fd, fdName } of fds) {
    if (fdName !== undefined) checkFdName(fdName, 'A passed fd\'s fdName');
    stdio.push(fd);
  }
  const env: NodeJS.ProcessEnv = {
    ...(options.env ?? process.env),
    LISTEN_FDS: String(fds.length),
    LISTEN_FDNAMES: fds.map((f) => f.fdName ?? 'unknown').join(':'),
  };
  delete env.LISTEN_PID;
  return spawn('/bin/sh', ['-c', 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"', 'sh', command, ...args], {
    ...options,
    env,
    stdio: stdio as SpawnOptions['stdio'],
  });
}
