/**
 * The `node-systemd` command: `unit` and `doctor`. Arguments by util.parseArgs;
 * returns the exit code instead of exiting, so tests can run it in-process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_GRACE_PERIOD_MS, isNotifyError } from '@node-systemd/notify';
import { hasReloadHook, lowestNodeMajor, readPackage, unitNameOf } from './app.js';
import { doctor } from './doctor.js';
import { formatJson, formatReport } from './format.js';
import { defaultUnitOptions, generateService, generateSocket, STOP_MARGIN_SEC, type UnitOptions } from './generate.js';
import { installedSystemdVersion } from './systemd.js';
import { runtimeReport } from './runtime.js';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  cwd: string;
  isTty: boolean;
}

const defaultIo = (): Io => ({ out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), cwd: process.cwd(), isTty: process.stdout.isTTY === true && !process.env.NO_COLOR });

export const HELP = `node-systemd: run a Node app as a first-class systemd service

  node-systemd unit [options]   write NAME.service (and NAME.socket) for this app
  node-systemd doctor [UNIT]    find what is wrong with a unit before systemd does

  node-systemd unit --help      its options
  node-systemd doctor --help    its options

Both take the app's defaults from @node-systemd/notify (grace period, watchdog
fraction, socket name), so the unit and the app agree.
`;

export const UNIT_HELP = `node-systemd unit [options]: a hardened Type=notify unit for the app in .

  --entry FILE       the script node runs (default: package.json main, else bin)
  --name NAME        unit name (default: package.json name without its scope)
  --socket ADDR      also write NAME.socket: ListenStream=ADDR (80, /run/x.sock)
  --port N           no socket unit: the app binds port N itself
  --user USER        User=USER (default: DynamicUser=yes, a transient user)
  --watchdog SEC     WatchdogSec= (default 10, 0 for none); the app pings at half
  --grace SEC        the app's drain grace period (default ${DEFAULT_GRACE_PERIOD_MS / 1000});
                     TimeoutStopSec= is ${STOP_MARGIN_SEC} s longer
  --writable PATH    ReadWritePaths= (repeatable); all else is read-only
  --env-file PATH    EnvironmentFile=PATH
  --fd-store         the app keeps its listener in the fd store
  --reload           Type=notify-reload (default: systemd >= 253 and the entry
  --no-reload        has a reload hook)
  --systemd N        target systemd version (default: the installed one)
  --node PATH        absolute node on the target (default: this node)
  --app-dir DIR      the app's directory on the target (default: this one)
  --description TEXT, --documentation URL
  --print            to stdout instead of files (--out DIR: where; default .)
  --install          into /etc/systemd/system, then daemon-reload (root only)
`;

export const DOCTOR_HELP = `node-systemd doctor [UNIT] [options]: lint a unit for a Node app

  UNIT             a unit file (with FILE.d/*.conf and NAME.socket beside it)
                   or an installed unit's name (read with systemctl cat);
                   default: NAME.service here, NAME from package.json
  --json           machine-readable output
  --systemd N      check against systemd N (default: the installed one)
  --grace SEC      the app's drain grace period (default ${DEFAULT_GRACE_PERIOD_MS / 1000})
  --fd-name NAME   the socket name the app asks for (default http)
  --root DIR       look for the app's files under DIR instead of /
  --no-analyze     skip systemd-analyze verify and security
  --runtime        check this process's systemd environment instead

Each finding: severity, file:line, and the fix as a unit-file line. Runs
systemd-analyze verify and security --offline=yes when installed, and says
what it could not check. Exit 1 on any error, 2 on bad usage.
`;

function positiveSeconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} takes a number of seconds, got ${JSON.stringify(value)}.`);
  return n;
}

class UsageError extends Error {}

const quote = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

function unitCommand(args: string[], io: Io): number {
  const { values } = parseArgs({
    args,
    options: {
      entry: { type: 'string' }, name: { type: 'string' }, socket: { type: 'string' }, port: { type: 'string' }, user: { type: 'string' },
      watchdog: { type: 'string' }, grace: { type: 'string' }, writable: { type: 'string', multiple: true }, 'env-file': { type: 'string' },
      'fd-store': { type: 'boolean' }, reload: { type: 'boolean' }, 'no-reload': { type: 'boolean' }, systemd: { type: 'string' },
      node: { type: 'string' }, 'app-dir': { type: 'string' }, description: { type: 'string' }, documentation: { type: 'string' },
      print: { type: 'boolean' }, install: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return io.out(UNIT_HELP), 0;
  const pkg = readPackage(io.cwd) ?? {};
  const name = values.name ?? (pkg.name ? unitNameOf(pkg.name) : undefined);
  if (!name) throw new UsageError('No unit name: run in the app directory (package.json "name") or pass --name.');
  const entry = values.entry ?? pkg.entry;
  if (!entry) throw new UsageError('No entry script: package.json has no "main" or "bin"; pass --entry FILE.');
  const systemd = values.systemd === undefined ? installedSystemdVersion() : Number(values.systemd);
  let reload = values.reload ? true : values['no-reload'] ? false : undefined;
  const notes: string[] = [];
  if (reload === undefined) {
    reload = hasReloadHook(path.resolve(io.cwd, entry)) ?? false;
    notes.push(`reload hook ${reload ? 'found' : 'not found'} in ${entry} (--reload / --no-reload to decide)`);
  }
  const canReload = systemd !== undefined && systemd >= 253;
  if (reload && !canReload) notes.push(`Type=notify, not notify-reload: it needs systemd 253, this is ${systemd ?? 'unknown (pass --systemd N)'}`);
  const node = values.node ?? realpathSync(process.execPath);
  const wanted = lowestNodeMajor(pkg.engines);
  if (wanted !== undefined && values.node === undefined && Number(process.versions.node.split('.')[0]) < wanted) {
    notes.push(`package.json engines.node is "${pkg.engines}", and ${node} is Node ${process.versions.node}: pass --node with a newer one`);
  }
  if (/^\/(home|root|tmp)\//.test(node)) notes.push(`node is ${node}, which ProtectHome=/PrivateTmp= hide from the service: install node system-wide and pass --node`);
  const appDir = values['app-dir'] ?? io.cwd;
  if (/^\/(home|root|tmp|var\/tmp)(\/|$)/.test(appDir)) notes.push(`the app is in ${appDir}, which the service cannot see (ProtectHome=, PrivateTmp=): install it under /opt or /srv and pass --app-dir`);
  const options: UnitOptions = {
    ...defaultUnitOptions,
    name,
    description: values.description ?? pkg.description ?? name,
    ...(values.documentation ?? pkg.homepage ? { documentation: values.documentation ?? pkg.homepage } : {}),
    node,
    appDir,
    entry,
    ...(values.socket === undefined ? {} : { socket: values.socket }),
    ...(values.port === undefined ? {} : { port: Number(values.port) }),
    ...(values.user === undefined ? {} : { user: values.user }),
    watchdogSec: positiveSeconds('--watchdog', values.watchdog) ?? defaultUnitOptions.watchdogSec,
    gracePeriodMs: (positiveSeconds('--grace', values.grace) ?? DEFAULT_GRACE_PERIOD_MS / 1000) * 1000,
    writablePaths: values.writable ?? [],
    ...(values['env-file'] === undefined ? {} : { environmentFile: values['env-file'] }),
    fdStore: values['fd-store'] ?? false,
    type: reload && canReload ? 'notify-reload' : 'notify',
    command: ['node-systemd', 'unit', ...args.filter((a) => a !== '--print' && a !== '--install' && !a.startsWith('--out'))].map(quote).join(' '),
  };
  const files: [string, string][] = [[`${name}.service`, generateService(options)]];
  const socket = generateSocket(options);
  if (socket) files.push([`${name}.socket`, socket]);
  if (values.print) {
    io.out(files.map(([, text]) => text).join('\n'));
  } else {
    const dir = values.install ? '/etc/systemd/system' : path.resolve(io.cwd, values.out ?? '.');
    if (values.install && process.getuid?.() !== 0) throw new UsageError('--install writes to /etc/systemd/system: run it as root (or use --print).');
    for (const [file, text] of files) {
      writeFileSync(path.join(dir, file), text);
      io.out(`wrote ${path.join(dir, file)}\n`);
    }
    if (values.install) {
      const r = spawnSync('systemctl', ['daemon-reload'], { encoding: 'utf8' });
      if (r.error || r.status !== 0) throw new UsageError(`systemctl daemon-reload failed: ${r.error?.message ?? r.stderr}`);
      io.out(`ran systemctl daemon-reload\nnext: systemctl enable --now ${socket ? `${name}.socket` : `${name}.service`}\n`);
    }
  }
  for (const n of notes) io.err(`note: ${n}\n`);
  return 0;
}

function doctorCommand(args: string[], io: Io): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' }, systemd: { type: 'string' }, grace: { type: 'string' }, 'fd-name': { type: 'string' }, root: { type: 'string' },
      'no-analyze': { type: 'boolean' }, runtime: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return io.out(DOCTOR_HELP), 0;
  if (values.runtime) {
    const report = runtimeReport(values['fd-name'] === undefined ? {} : { fdName: values['fd-name'] });
    io.out(values.json ? formatJson(report) : formatReport(report, io.isTty));
    return report.ok ? 0 : 1;
  }
  if (positionals.length > 1) throw new UsageError('doctor takes one unit.');
  let target = positionals[0];
  if (target === undefined) {
    const pkg = readPackage(io.cwd);
    const guess = pkg?.name ? path.join(io.cwd, `${unitNameOf(pkg.name)}.service`) : undefined;
    target = guess;
    if (!target) throw new UsageError('Which unit? Pass a .service file or an installed unit name.');
  } else if (target.includes('/') || /\.(service|socket)$/.test(target)) {
    const local = path.resolve(io.cwd, target);
    if (target.includes('/') || existsSync(local)) target = local;
  }
  const grace = positiveSeconds('--grace', values.grace);
  const report = doctor(target, {
    ...(values.systemd === undefined ? {} : { systemdVersion: Number(values.systemd) }),
    ...(grace === undefined ? {} : { gracePeriodMs: grace * 1000 }),
    ...(values['fd-name'] === undefined ? {} : { fdName: values['fd-name'] }),
    ...(values.root === undefined ? {} : { root: path.resolve(io.cwd, values.root) }),
    analyze: !values['no-analyze'],
  });
  io.out(values.json ? formatJson(report) : formatReport(report, io.isTty));
  return report.ok ? 0 : 1;
}

export function main(argv: string[], io: Io = defaultIo()): number {
  const [command, ...rest] = argv;
  try {
    if (command === 'unit') return unitCommand(rest, io);
    if (command === 'doctor') return doctorCommand(rest, io);
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') return io.out(HELP), command === undefined ? 2 : 0;
    throw new UsageError(`Unknown command ${JSON.stringify(command)}.`);
  } catch (error) {
    if (error instanceof UsageError || isNotifyError(error) || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`node-systemd: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}
