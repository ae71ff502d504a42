/**
 * `node-systemd unit`: the text of NAME.service (and NAME.socket) for a Node app.
 * Pure: everything it needs is in UnitOptions, so the same options always give
 * the same bytes (the examples' committed units are checked against it).
 */
import { DEFAULT_FD_NAME, DEFAULT_GRACE_PERIOD_MS, DEFAULT_WATCHDOG_FRACTION, NotifyError } from '@node-systemd/notify';

export interface UnitOptions {
  /** Unit name without suffix: NAME.service, NAME.socket. */
  name: string;
  description: string;
  documentation?: string;
  /** Absolute path of node on the target machine. */
  node: string;
  /** Absolute directory the app is installed in on the target machine (WorkingDirectory=). */
  appDir: string;
  /** The entry script, relative to appDir (or absolute). */
  entry: string;
  /** ListenStream= of a NAME.socket unit (a port, ADDRESS:PORT or a socket path). */
  socket?: string;
  /** The port the app binds itself, when there is no socket unit. */
  port?: number;
  /** Run as this user (User=) instead of a transient one (DynamicUser=yes). */
  user?: string;
  /** WatchdogSec= in seconds; 0 for none. */
  watchdogSec: number;
  /** The app's drain grace period, ms. */
  gracePeriodMs: number;
  /** Directories the app writes to (ReadWritePaths=). */
  writablePaths: string[];
  environmentFile?: string;
  /** The app keeps its listener in systemd's fd store. */
  fdStore: boolean;
  /** Type=notify-reload (systemd 253+, the app has a reload hook) or Type=notify. */
  type: 'notify' | 'notify-reload';
  /** The command line that regenerates these files, written into their headers. */
  command?: string;
}

/** systemd gets this long after the grace period for the close hook, the final BARRIER=1 and the exit. */
export const STOP_MARGIN_SEC = 15;

export const defaultUnitOptions = { watchdogSec: 10, gracePeriodMs: DEFAULT_GRACE_PERIOD_MS, writablePaths: [] as string[], fdStore: false, type: 'notify' as const };

function check(o: UnitOptions): void {
  const bad = (message: string): never => {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', message);
  };
  if (!/^[A-Za-z0-9:_.\\-]+$/.test(o.name)) bad(`The unit name ${JSON.stringify(o.name)} may only contain ASCII letters, digits, ":", "-", "_", "." and "\\".`);
  if (!o.node.startsWith('/')) bad(`The node path must be absolute (systemd does not search your PATH), got ${JSON.stringify(o.node)}.`);
  if (!o.appDir.startsWith('/')) bad(`The app directory must be absolute, got ${JSON.stringify(o.appDir)}.`);
  if (!(Number.isFinite(o.watchdogSec) && o.watchdogSec >= 0)) bad(`The watchdog interval must be a number of seconds >= 0, got ${String(o.watchdogSec)}.`);
  if (o.watchdogSec > 0 && o.watchdogSec < 2) bad(`A watchdog under 2 s mistakes a GC pause for a hang; got ${o.watchdogSec} s.`);
  if (!(Number.isFinite(o.gracePeriodMs) && o.gracePeriodMs >= 0)) bad(`The grace period must be a number of ms >= 0, got ${String(o.gracePeriodMs)}.`);
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port > 0 && o.port < 65536)) bad(`The port must be an integer from 1 to 65535, got ${String(o.port)}.`);
  if (o.socket !== undefined && o.port !== undefined) bad('Give either a socket (a .socket unit listens) or a port (the app listens itself), not both.');
  for (const p of o.writablePaths) if (!p.startsWith('/')) bad(`Writable paths must be absolute, got ${JSON.stringify(p)}.`);
}

const seconds = (ms: number): number => Math.ceil(ms / 1000);

export function generateService(o: UnitOptions): string {
  check(o);
  const socket = o.socket !== undefined;
  const script = o.entry.startsWith('/') ? o.entry : `${o.appDir.replace(/\/$/, '')}/${o.entry.replace(/^\.\//, '')}`;
  const lowPort = !socket && o.port !== undefined && o.port < 1024;
  const caps = lowPort ? 'CAP_NET_BIND_SERVICE' : '';
  const grace = seconds(o.gracePeriodMs);
  const L: string[] = [];
  const add = (...lines: (string | false | undefined)[]): void => {
    for (const l of lines) if (typeof l === 'string') L.push(l);
  };
  add(`# ${o.name}.service: ${o.description}`, `# A hardened Type=notify service${o.command ? `, written by: ${o.command}` : ''}`);
  add(`# Regenerate rather than edit; check with: node-systemd doctor ${o.name}.service`, '');
  add('[Unit]', `Description=${o.description}`, o.documentation && `Documentation=${o.documentation}`);
  if (socket) add(`# The listening socket comes from ${o.name}.socket: the service itself needs no network.`, `Requires=${o.name}.socket`, `After=${o.name}.socket`);
  else add('After=network.target');
  add('', '[Service]');
  if (o.type === 'notify-reload') add('# READY=1 comes from node once it listens; systemctl reload sends SIGHUP and waits for the', "# app's reload hook (RELOADING=1 ... READY=1). Needs systemd 253 or newer.", 'Type=notify-reload');
  else add('# READY=1 comes from node itself once it listens: systemctl start waits for it.', 'Type=notify');
  add('# node is the main PID (no npm or shell in between), so only it may notify.', 'NotifyAccess=main');
  add(`ExecStart=${o.node} ${script}`, `WorkingDirectory=${o.appDir}`, 'Environment=NODE_ENV=production');
  if (!socket && o.port !== undefined) add(`Environment=PORT=${o.port}`);
  if (o.environmentFile) add(`EnvironmentFile=${o.environmentFile}`);
  if (o.watchdogSec > 0) {
    add(`# The app pings every ${o.watchdogSec * DEFAULT_WATCHDOG_FRACTION} s (${DEFAULT_WATCHDOG_FRACTION} of this) while its health check passes; a stalled`, '# event loop or a failing check stops the pings, and systemd kills and restarts it.', `WatchdogSec=${o.watchdogSec}s`);
  }
  add('Restart=on-failure');
  add(socket || o.fdStore ? '# Restart at once: connections wait in the held socket meanwhile.' : undefined, 'RestartSec=100ms', 'TimeoutStartSec=30s');
  add(`# The drain's grace period (${grace} s) plus ${STOP_MARGIN_SEC} s for the close hook and exit; then SIGKILL.`, `TimeoutStopSec=${grace + STOP_MARGIN_SEC}s`);
  add('# SIGTERM to node alone (it drains); SIGKILL to any child left once node is gone.', 'KillMode=mixed');
  if (o.fdStore) add(`# The app keeps its listening socket ("${DEFAULT_FD_NAME}") here, so restarts do not close the port.`, 'FileDescriptorStoreMax=1');
  add('', `# Hardening (systemd-analyze security --offline=yes). ${socket ? 'No capabilities: systemd opens the socket.' : lowPort ? `Only CAP_NET_BIND_SERVICE, for port ${o.port}.` : 'No capabilities.'}`);
  if (o.user) add(`User=${o.user}`);
  else add('# A transient user; it cannot see /home, /root or /tmp: install the app under /opt or /srv.', 'DynamicUser=yes');
  add(`CapabilityBoundingSet=${caps}`, `AmbientCapabilities=${caps}`, 'NoNewPrivileges=yes', 'UMask=0077', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'PrivateDevices=yes');
  add(lowPort ? undefined : 'PrivateUsers=yes');
  if (socket) add('# The socket from the .socket unit lives outside this empty network namespace.', 'PrivateNetwork=yes');
  add('PrivateIPC=yes', 'PrivateMounts=yes', 'ProtectHostname=yes', 'ProtectClock=yes', 'ProtectKernelTunables=yes', 'ProtectKernelModules=yes', 'ProtectKernelLogs=yes', 'ProtectControlGroups=yes', 'ProtectProc=invisible', 'ProcSubset=pid');
  if (socket) add('# AF_UNIX only: the notify socket and the journal. The listener comes ready-made.', 'RestrictAddressFamilies=AF_UNIX');
  else add('# AF_UNIX for the notify socket and the journal; AF_INET/AF_INET6 for the port.', 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6');
  add('RestrictNamespaces=yes', 'RestrictRealtime=yes', 'RestrictSUIDSGID=yes', 'LockPersonality=yes');
  add("# V8's JIT needs writable and executable memory.", 'MemoryDenyWriteExecute=no');
  add('RemoveIPC=yes', 'DevicePolicy=closed', 'KeyringMode=private', 'SystemCallArchitectures=native', 'SystemCallFilter=@system-service', 'SystemCallFilter=~@privileged @resources', 'SystemCallErrorNumber=EPERM');
  if (o.writablePaths.length > 0) add('# Everything else is read-only (ProtectSystem=strict).', `ReadWritePaths=${o.writablePaths.join(' ')}`);
  add('', '[Install]', 'WantedBy=multi-user.target', '');
  return L.join('\n');
}

export function generateSocket(o: UnitOptions): string | undefined {
  if (o.socket === undefined) return undefined;
  check(o);
  return [
    `# ${o.name}.socket: the listening socket of ${o.name}.service, held by systemd. The app gets`,
    `# it as the fd named "${DEFAULT_FD_NAME}" (LISTEN_FDNAMES), needs no capability for a low port, and`,
    '# connections queue here while the service restarts.',
    ...(o.command ? [`# Written by: ${o.command}`] : []),
    '',
    '[Unit]',
    `Description=${o.description}, listening socket`,
    '',
    '[Socket]',
    `ListenStream=${o.socket}`,
    '# The name the app asks for; without it the fd is named after this unit.',
    `FileDescriptorName=${DEFAULT_FD_NAME}`,
    `Service=${o.name}.service`,
    '',
    '[Install]',
    'WantedBy=sockets.target',
    '',
  ].join('\n');
}
