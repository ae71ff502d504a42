import { NotifyError } from '../errors.js';
import { checkFdName } from '../fdname.js';

/**
 * The register entry's options: environment variables, since the app's code is
 * not ours to change (set them with Environment= in the unit). One table, in
 * the package README, documents them; keep the two in step.
 */
export interface RegisterOptions {
  /** NODE_SYSTEMD_GRACE_MS: how long a drain may take before connections are destroyed. */
  gracePeriodMs: number;
  /** NODE_SYSTEMD_IDLE_LINGER_MS: while draining, an idle keep-alive connection closes after this long. */
  idleLingerMs: number;
  /** NODE_SYSTEMD_FORCED_EXIT_CODE: exit code after a drain that had to destroy connections. */
  forcedExitCode: number;
  /** NODE_SYSTEMD_EVENT_LOOP_MAX_MS: the watchdog withholds its ping while the event loop lags more; 0 turns the guard off. */
  eventLoopMaxMs: number;
  /** NODE_SYSTEMD_FDNAME: only passed sockets with these names (comma-separated) are taken; unset: all. */
  fdNames: string[] | undefined;
  /** NODE_SYSTEMD_FDSTORE=1: store each listening socket in systemd's fd store (FileDescriptorStoreMax= > 0), so a restart gets it back. */
  fdStore: boolean;
  /** NODE_SYSTEMD_UNUSED_WARNING_MS: after this long a passed socket no server took gets a warning. */
  unusedWarningMs: number;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, max = 2 ** 31 - 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value > max) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `${name}=${JSON.stringify(raw)} is not an integer from 0 to ${max}; unset it for the default (${fallback}).`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0') return false;
  if (raw === '1') return true;
  throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `${name}=${JSON.stringify(raw)} must be 1 (on) or 0 (off).`);
}

/** Reads the NODE_SYSTEMD_* variables; a bad value throws a NotifyError naming it. */
export function registerOptions(env: NodeJS.ProcessEnv = process.env): RegisterOptions {
  const names = env.NODE_SYSTEMD_FDNAME;
  return {
    gracePeriodMs: integer(env, 'NODE_SYSTEMD_GRACE_MS', 30_000),
    idleLingerMs: integer(env, 'NODE_SYSTEMD_IDLE_LINGER_MS', 250),
    forcedExitCode: integer(env, 'NODE_SYSTEMD_FORCED_EXIT_CODE', 1, 255),
    eventLoopMaxMs: integer(env, 'NODE_SYSTEMD_EVENT_LOOP_MAX_MS', 1000),
    fdNames: names === undefined || names === '' ? undefined : names.split(',').map((name) => name.trim()).filter(Boolean).map((name) => checkFdName(name, 'Each name in NODE_SYSTEMD_FDNAME')),
    fdStore: flag(env, 'NODE_SYSTEMD_FDSTORE'),
    unusedWarningMs: integer(env, 'NODE_SYSTEMD_UNUSED_WARNING_MS', 5000),
  };
}
