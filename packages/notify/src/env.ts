import { NotifyError } from './errors.js';

/**
 * The variables systemd hands a service, read once and (by default) removed from
 * process.env so that children and cluster workers do not act on them: a child
 * that sends READY=1 under NotifyAccess=main is ignored, and a child that sees
 * LISTEN_FDS would try to take fds that are not its own.
 */
export const ENVIRONMENT_VARIABLES = [
  'NOTIFY_SOCKET',
  'WATCHDOG_USEC',
  'WATCHDOG_PID',
  'LISTEN_PID',
  'LISTEN_FDS',
  'LISTEN_FDNAMES',
  'FDSTORE',
] as const;

export type EnvironmentVariable = (typeof ENVIRONMENT_VARIABLES)[number];
export type EnvironmentSnapshot = Readonly<Partial<Record<EnvironmentVariable, string>>>;

/** Where NOTIFY_SOCKET points: a filesystem path or an abstract name. */
export interface NotifyAddress {
  readonly kind: 'path' | 'abstract';
  /** The variable as given (`/run/systemd/notify`, `@name`). */
  readonly raw: string;
  /** The sun_path bytes to send to: a leading NUL for abstract names, exact length. */
  readonly address: Buffer;
}

/** sizeof(sockaddr_un.sun_path) */
const SUN_PATH_SIZE = 108;

/**
 * Parses NOTIFY_SOCKET. `undefined` (unset) means "not supervised", which is not an
 * error. Anything that cannot be an AF_UNIX address throws.
 */
export function parseNotifySocket(value: string | undefined): NotifyAddress | undefined {
  if (value === undefined) return undefined;
  const fail = (code: 'ERR_NOTIFY_SOCKET_INVALID' | 'ERR_NOTIFY_SOCKET_UNSUPPORTED', why: string): never => {
    throw new NotifyError(code, `NOTIFY_SOCKET=${JSON.stringify(value)} ${why}`);
  };
  if (value === '') fail('ERR_NOTIFY_SOCKET_INVALID', 'is empty; unset it when the process is not supervised.');
  if (/^vsock(-stream|-dgram|-seqpacket)?:/.test(value)) {
    fail('ERR_NOTIFY_SOCKET_UNSUPPORTED', 'is an AF_VSOCK address (systemd in a VM); only AF_UNIX paths and @abstract names are supported.');
  }
  if (value.includes('\0')) fail('ERR_NOTIFY_SOCKET_INVALID', 'contains a NUL byte.');
  if (value.startsWith('@')) {
    const name = Buffer.from(value.slice(1), 'utf8');
    if (name.length === 0) fail('ERR_NOTIFY_SOCKET_INVALID', 'is an empty abstract name.');
    if (name.length > SUN_PATH_SIZE - 1) {
      fail('ERR_NOTIFY_SOCKET_INVALID', `is an abstract name of ${name.length} bytes; at most ${SUN_PATH_SIZE - 1} fit in sockaddr_un.`);
    }
    return Object.freeze({ kind: 'abstract', raw: value, address: Buffer.concat([Buffer.from([0]), name]) });
  }
  if (!value.startsWith('/')) {
    fail('ERR_NOTIFY_SOCKET_INVALID', 'is neither an absolute path nor an @abstract name.');
  }
  const path = Buffer.from(value, 'utf8');
  if (path.length > SUN_PATH_SIZE - 1) {
    fail('ERR_NOTIFY_SOCKET_INVALID', `is a path of ${path.length} bytes; at most ${SUN_PATH_SIZE - 1} fit in sockaddr_un.`);
  }
  return Object.freeze({ kind: 'path', raw: value, address: path });
}

const decimal = /^(0|[1-9][0-9]*)$/;

function parsePid(variable: string, value: string): number {
  const pid = decimal.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(pid) || pid < 1 || pid > 2 ** 31 - 1) {
    throw new NotifyError('ERR_NOTIFY_ENV_INVALID', `${variable}=${JSON.stringify(value)} is not a process id.`);
  }
  return pid;
}

export interface WatchdogSettings {
  /** The timeout systemd enforces, in µs, as given. */
  readonly usec: bigint;
  /** The same in ms, capped at what a Node timer can wait (about 24.8 days). */
  readonly timeoutMs: number;
}

/** The longest delay a Node timer honours; longer ones fire after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Parses WATCHDOG_USEC / WATCHDOG_PID the way sd_watchdog_enabled(3) does:
 * unset, or meant for another PID, means "no watchdog for this process".
 */
export function parseWatchdog(env: EnvironmentSnapshot, pid: number = process.pid): WatchdogSettings | undefined {
  const raw = env.WATCHDOG_USEC;
  if (raw === undefined) return undefined;
  if (!decimal.test(raw)) {
    throw new NotifyError('ERR_NOTIFY_ENV_INVALID', `WATCHDOG_USEC=${JSON.stringify(raw)} is not a decimal number of microseconds.`);
  }
  const usec = BigInt(raw);
  if (usec === 0n) {
    throw new NotifyError('ERR_NOTIFY_ENV_INVALID', 'WATCHDOG_USEC=0 is not a timeout; systemd never sets it to 0.');
  }
  if (usec >= 2n ** 64n - 1n) {
    throw new NotifyError('ERR_NOTIFY_ENV_INVALID', `WATCHDOG_USEC=${raw} does not fit in 64 bits.`);
  }
  if (env.WATCHDOG_PID !== undefined && parsePid('WATCHDOG_PID', env.WATCHDOG_PID) !== pid) return undefined;
  const ms = usec / 1000n;
  return Object.freeze({ usec, timeoutMs: ms > BigInt(MAX_TIMER_MS) ? MAX_TIMER_MS : Math.max(1, Number(ms)) });
}

/** A file descriptor passed by the manager, with its FileDescriptorName= / FDNAME=. */
export interface ListenFd {
  readonly fd: number;
  readonly name: string;
}

/** sd_listen_fds(3): passed fds start at 3. */
export const LISTEN_FDS_START = 3;

/**
 * Parses LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES as sd_listen_fds_with_names(3)
 * does. Fds meant for another process (LISTEN_PID differs) are not ours: [].
 */
export function parseListenFds(env: EnvironmentSnapshot, pid: number = process.pid): ListenFd[] {
  // Without LISTEN_PID nobody addressed the fds to us (sd_listen_fds returns 0, as
  // go-systemd does): a parent that leaked LISTEN_FDS must not make us grab fd 3.
  if (env.LISTEN_PID === undefined) return [];
  if (parsePid('LISTEN_PID', env.LISTEN_PID) !== pid) return [];
  const rawCount = env.LISTEN_FDS ?? '0';
  const count = decimal.test(rawCount) ? Number(rawCount) : NaN;
  if (!Number.isSafeInteger(count) || count > 2 ** 31 - 1 - LISTEN_FDS_START) {
    throw new NotifyError('ERR_NOTIFY_ENV_INVALID', `LISTEN_FDS=${JSON.stringify(rawCount)} is not a valid fd count.`);
  }
  if (count > 65_536) {
    throw new NotifyError('ERR_NOTIFY_ENV_INVALID', `LISTEN_FDS=${rawCount} is larger than any fd table this process can have.`);
  }
  let names: string[];
  if (env.LISTEN_FDNAMES === undefined) {
    names = new Array<string>(count).fill('unknown');
  } else {
    names = count === 0 ? [] : env.LISTEN_FDNAMES.split(':');
    if (names.length !== count) {
      throw new NotifyError(
        'ERR_NOTIFY_ENV_INVALID',
        `LISTEN_FDNAMES=${JSON.stringify(env.LISTEN_FDNAMES)} names ${names.length} fds but LISTEN_FDS=${count}.`,
      );
    }
  }
  return names.map((name, index) => Object.freeze({ fd: LISTEN_FDS_START + index, name }));
}

export interface CaptureOptions {
  /** Remove the variables from process.env after reading them. Default true. */
  unsetEnvironment?: boolean;
}

let captured: EnvironmentSnapshot | undefined;
let unsetByDefault = true;

/**
 * The systemd variables as they were when first asked for. The first call reads
 * them (and removes them from process.env unless told not to); later calls return
 * the same snapshot.
 */
export function systemdEnvironment(options: CaptureOptions = {}): EnvironmentSnapshot {
  if (captured) return captured;
  const snapshot: Partial<Record<EnvironmentVariable, string>> = {};
  for (const name of ENVIRONMENT_VARIABLES) {
    const value = process.env[name];
    if (value !== undefined) snapshot[name] = value;
  }
  captured = Object.freeze(snapshot);
  if (options.unsetEnvironment ?? unsetByDefault) {
    for (const name of ENVIRONMENT_VARIABLES) delete process.env[name];
  }
  return captured;
}

/**
 * Keeps NOTIFY_SOCKET, WATCHDOG_* and LISTEN_* in process.env after they are read.
 * Call it before anything else of this package (for a child that must act for the
 * service, say with NotifyAccess=all).
 */
export function keepEnvironment(): void {
  unsetByDefault = false;
}

/** True when the snapshot was taken. */
export function environmentCaptured(): boolean {
  return captured !== undefined;
}
