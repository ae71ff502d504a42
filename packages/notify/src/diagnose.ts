/**
 * What only the running process can see about how systemd started it: whether
 * NOTIFY_SOCKET can be reached, whether node is the main process (not a child of
 * npm or a shell), whether WATCHDOG_USEC suits the ping interval, and whether the
 * passed sockets include the one the app asks for. Call it at start-up and log
 * what it finds; `node-systemd doctor --runtime` prints the same.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { DEFAULT_FD_NAME, DEFAULT_WATCHDOG_FRACTION } from './defaults.js';
import { isNotifyError } from './errors.js';
import { checkFdName } from './fdname.js';
import { readProcess, wrapperAt } from './diagnostics.js';
import { parseListenFds, parseNotifySocket, parseWatchdog, systemdEnvironment, type EnvironmentSnapshot } from './env.js';

export interface Diagnosis {
  severity: 'error' | 'warning' | 'info';
  check: 'notify-socket' | 'parent' | 'watchdog' | 'listen-fds';
  message: string;
  /** The unit-file line that fixes it, when one does. */
  fix?: string;
}

export interface DiagnoseOptions {
  /** The socket name the app asks for. Default "http". */
  fdName?: string;
  /** The watchdog's ping fraction. Default 0.5. */
  watchdogFraction?: number;
  /** For tests: the variables (default: the process's captured snapshot), pids and /proc. */
  env?: EnvironmentSnapshot;
  pid?: number;
  ppid?: number;
  proc?: string;
}

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

function notifySocket(env: EnvironmentSnapshot, proc: string): Diagnosis[] {
  let address;
  try {
    address = parseNotifySocket(env.NOTIFY_SOCKET);
  } catch (error) {
    return [{ severity: 'error', check: 'notify-socket', message: isNotifyError(error) ? error.message : String(error) }];
  }
  if (!address) return [{ severity: 'info', check: 'notify-socket', message: 'NOTIFY_SOCKET is not set: not started by systemd as Type=notify (or WatchdogSec=), so every notification is a no-op.', fix: 'Type=notify' }];
  if (address.kind === 'abstract') {
    // Abstract sockets are listed in /proc/net/unix with a leading "@"; they belong to the network namespace.
    const table = read(`${proc}/net/unix`);
    if (table === undefined) return [{ severity: 'info', check: 'notify-socket', message: `NOTIFY_SOCKET=${address.raw}: ${proc}/net/unix is unreadable, so whether it exists was not checked.` }];
    return table.split('\n').some((line) => line.endsWith(` ${address.raw}`))
      ? []
      : [{ severity: 'error', check: 'notify-socket', message: `NOTIFY_SOCKET=${address.raw} is an abstract socket that does not exist in this network namespace (PrivateNetwork=yes hides abstract sockets): READY=1 cannot arrive.` }];
  }
  try {
    if (!statSync(address.raw).isSocket()) return [{ severity: 'error', check: 'notify-socket', message: `NOTIFY_SOCKET=${address.raw} is not a socket.` }];
    accessSync(address.raw, constants.W_OK);
    return [];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return [{ severity: 'error', check: 'notify-socket', message: `NOTIFY_SOCKET=${address.raw} cannot be reached (${code}): READY=1 and watchdog pings will fail. Is a mount namespace (RootDirectory=, TemporaryFileSystem=) hiding /run/systemd?` }];
  }
}

function parent(ppid: number, proc: string): Diagnosis[] {
  if (ppid === 1) return [];
  const info = readProcess(ppid, proc);
  if (info?.comm === 'systemd' || info?.comm === '(sd-pam)') return [];
  // The same detection the lifecycle runs at start-up (diagnostics.ts).
  const wrapper = wrapperAt(ppid, proc);
  if (!wrapper) return [{ severity: 'info', check: 'parent', message: `The parent process is ${info?.comm || ppid} (${(info?.argv ?? []).join(' ').slice(0, 80)}), not systemd: fine under a supervisor you chose, wrong if this is a service.` }];
  const { tool, pid } = wrapper;
  return [{ severity: 'error', check: 'parent', message: `node runs under ${tool} (PID ${pid}), so ${tool} is the service's main PID: systemd drops READY=1 and pings from node under NotifyAccess=main, and SIGTERM stops at ${tool}. Start node itself.`, fix: `ExecStart=${process.execPath} ${process.argv[1] ?? 'app.js'}` }];
}

function watchdog(env: EnvironmentSnapshot, pid: number, fraction: number): Diagnosis[] {
  if (env.WATCHDOG_USEC === undefined) return [];
  try {
    const settings = parseWatchdog(env, pid);
    if (!settings) return [{ severity: 'error', check: 'watchdog', message: `WATCHDOG_USEC is set for PID ${env.WATCHDOG_PID}, not this process (${pid}): node is not the main PID, nobody pings, and systemd kills the service every ${Number(env.WATCHDOG_USEC) / 1e6} s.` }];
    const intervalMs = Math.floor(settings.timeoutMs * fraction);
    if (intervalMs < 1000) return [{ severity: 'warning', check: 'watchdog', message: `WatchdogSec=${settings.timeoutMs / 1000}s makes the app ping every ${intervalMs} ms: one GC pause or busy tick that long is taken for a hang.`, fix: 'WatchdogSec=10s' }];
    return [];
  } catch (error) {
    return [{ severity: 'error', check: 'watchdog', message: isNotifyError(error) ? error.message : String(error) }];
  }
}

function listenFds(env: EnvironmentSnapshot, pid: number, fdName: string): Diagnosis[] {
  if (env.LISTEN_FDS === undefined) return [];
  if (env.LISTEN_PID !== undefined && env.LISTEN_PID !== String(pid)) {
    return [{ severity: 'error', check: 'listen-fds', message: `LISTEN_FDS was addressed to PID ${env.LISTEN_PID}, not this process (${pid}): a wrapper (npm, a shell) was started instead of node, so the passed sockets are not used.` }];
  }
  try {
    const fds = parseListenFds(env, pid);
    if (fds.length === 0 || fds.some((fd) => fd.name === fdName)) return [];
    const names = fds.map((fd) => `${fd.fd}=${JSON.stringify(fd.name)}`).join(', ');
    return [{ severity: fds.length === 1 ? 'warning' : 'error', check: 'listen-fds', message: `The app asks for the socket "${fdName}", and the passed fds are ${names}: ${fds.length === 1 ? 'the only one is taken anyway, but a second one would make it fail' : 'none matches, so the app fails to listen'}.`, fix: `FileDescriptorName=${fdName}` }];
  } catch (error) {
    return [{ severity: 'error', check: 'listen-fds', message: isNotifyError(error) ? error.message : String(error) }];
  }
}

/** Everything found, worst first; [] when all is well. Reads only the environment snapshot and /proc. */
export function diagnose(options: DiagnoseOptions = {}): Diagnosis[] {
  const fdName = options.fdName === undefined ? DEFAULT_FD_NAME : checkFdName(options.fdName);
  const env = options.env ?? systemdEnvironment();
  const pid = options.pid ?? process.pid;
  const proc = options.proc ?? '/proc';
  const found = [
    ...notifySocket(env, proc),
    ...(env.NOTIFY_SOCKET === undefined ? [] : parent(options.ppid ?? process.ppid, proc)),
    ...watchdog(env, pid, options.watchdogFraction ?? DEFAULT_WATCHDOG_FRACTION),
    ...listenFds(env, pid, fdName),
  ];
  const order = { error: 0, warning: 1, info: 2 };
  return found.sort((a, b) => order[a.severity] - order[b.severity]);
}
