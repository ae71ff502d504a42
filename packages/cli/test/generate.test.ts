// node-systemd unit: what it writes, checked the way systemd would read it
// (systemd-analyze verify and security --offline=yes when installed) and by doctor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_GRACE_PERIOD_MS } from '@node-systemd/notify';
import { doctor } from '../src/index.js';
import { main } from '../src/cli.js';

const hasAnalyze = !spawnSync('systemd-analyze', ['--version']).error;

/** A throwaway app directory with a package.json and an entry. */
function app(entrySource = "require('@node-systemd/fastify');\n", pkg: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'nsd-cli-app-'));
  mkdirSync(path.join(dir, 'dist'));
  writeFileSync(path.join(dir, 'dist', 'server.js'), entrySource);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: '@acme/orders-api', description: 'Orders API', main: 'dist/server.js', dependencies: { '@node-systemd/fastify': '0.1.0' }, ...pkg }));
  return dir;
}

function unit(dir: string, args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = main(['unit', ...args], { cwd: dir, isTty: false, out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('socket mode: package.json gives name, description and entry; the unit and socket pass doctor, verify, and score <= 1.0', (t) => {
  const dir = app();
  try {
    const r = unit(dir, ['--socket', '80', '--node', '/usr/bin/node', '--app-dir', '/opt/orders-api', '--systemd', '252']);
    assert.equal(r.code, 0, r.err);
    const service = readFileSync(path.join(dir, 'orders-api.service'), 'utf8');
    const socket = readFileSync(path.join(dir, 'orders-api.socket'), 'utf8');
    assert.match(service, /^Description=Orders API$/m);
    assert.match(service, /^Type=notify$/m);
    assert.match(service, /^NotifyAccess=main$/m);
    assert.match(service, /^ExecStart=\/usr\/bin\/node \/opt\/orders-api\/dist\/server\.js$/m);
    assert.match(service, /^KillMode=mixed$/m);
    assert.match(service, /^Restart=on-failure$/m);
    assert.match(service, /^MemoryDenyWriteExecute=no$/m);
    assert.match(service, /^RestrictAddressFamilies=AF_UNIX$/m);
    assert.match(service, /^PrivateNetwork=yes$/m);
    assert.match(service, /^Requires=orders-api\.socket$/m);
    // TimeoutStopSec= is the core's grace period plus the stated margin; WatchdogSec= says how often the app pings.
    assert.match(service, new RegExp(`^TimeoutStopSec=${DEFAULT_GRACE_PERIOD_MS / 1000 + 15}s$`, 'm'));
    assert.match(service, /pings every 5 s \(0\.5 of this\)[^\n]*\n[^\n]*\nWatchdogSec=10s$/m);
    assert.match(socket, /^ListenStream=80$/m);
    assert.match(socket, /^FileDescriptorName=http$/m);
    const report = doctor(path.join(dir, 'orders-api.service'), { systemdVersion: 252 });
    assert.deepEqual(report.findings.filter((f) => f.severity !== 'info'), [], JSON.stringify(report.findings, null, 2));
    if (!hasAnalyze) return t.skip('systemd-analyze is not installed: verify and the exposure score not checked');
    assert.ok(report.exposure, 'systemd-analyze security gave a score');
    t.diagnostic(`exposure ${report.exposure.score} ${report.exposure.rating}`);
    assert.ok(report.exposure.score <= 1.0, `exposure ${report.exposure.score}`);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('port mode with a user, writable paths, an environment file, the fd store and a 10 s grace period', (t) => {
  const dir = app();
  try {
    const r = unit(dir, ['--port', '8080', '--user', 'orders', '--writable', '/var/lib/orders', '--writable', '/var/cache/orders', '--env-file', '/etc/orders.env', '--fd-store', '--grace', '10', '--watchdog', '20', '--node', '/usr/bin/node', '--app-dir', '/srv/orders', '--no-reload', '--print']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^User=orders$/m);
    assert.doesNotMatch(r.out, /DynamicUser/);
    assert.match(r.out, /^ReadWritePaths=\/var\/lib\/orders \/var\/cache\/orders$/m);
    assert.match(r.out, /^EnvironmentFile=\/etc\/orders\.env$/m);
    assert.match(r.out, /^FileDescriptorStoreMax=1$/m);
    assert.match(r.out, /^TimeoutStopSec=25s$/m);
    assert.match(r.out, /^WatchdogSec=20s$/m);
    assert.match(r.out, /^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6$/m);
    assert.match(r.out, /^Environment=PORT=8080$/m);
    assert.doesNotMatch(r.out, /PrivateNetwork|\.socket/);
    writeFileSync(path.join(dir, 'orders-api.service'), r.out);
    const report = doctor(path.join(dir, 'orders-api.service'), { systemdVersion: 252, gracePeriodMs: 10_000 });
    assert.deepEqual(report.findings.filter((f) => f.severity === 'error'), [], JSON.stringify(report.findings, null, 2));
    if (report.exposure) t.diagnostic(`exposure without a socket unit, as user "orders": ${report.exposure.score} ${report.exposure.rating}`);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('Type=notify-reload only with a reload hook and systemd >= 253; --reload / --no-reload decide', () => {
  const withHook = app("serve(app, { reload: async () => config.reload() });\n");
  const without = app("serve(app, { port: 3000 });\n");
  try {
    const type = (dir: string, args: string[]) => /^Type=(\S+)$/m.exec(unit(dir, ['--print', '--node', '/usr/bin/node', ...args]).out)?.[1];
    assert.equal(type(withHook, ['--systemd', '257']), 'notify-reload');
    assert.equal(type(withHook, ['--systemd', '252']), 'notify');
    assert.equal(type(without, ['--systemd', '257']), 'notify');
    assert.equal(type(without, ['--systemd', '257', '--reload']), 'notify-reload');
    assert.equal(type(withHook, ['--systemd', '257', '--no-reload']), 'notify');
    const r = unit(withHook, ['--print', '--node', '/usr/bin/node', '--systemd', '252']);
    assert.match(r.err, /needs systemd 253, this is 252/);
  } finally {
    rmSync(withHook, { recursive: true });
    rmSync(without, { recursive: true });
  }
});

test('bad input: a clear message and exit 2, no file written', () => {
  const dir = app('', { main: undefined, name: undefined });
  try {
    assert.match(unit(dir, ['--print']).err, /No unit name/);
    assert.equal(unit(dir, ['--print', '--name', 'x']).code, 2);
    assert.match(unit(dir, ['--print', '--name', 'x']).err, /No entry script/);
    const bad = (args: string[], re: RegExp) => {
      const r = unit(dir, ['--name', 'x', '--entry', 'a.js', '--node', '/usr/bin/node', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')} should fail`);
      assert.match(r.err, re);
    };
    bad(['--node', 'node'], /must be absolute/);
    bad(['--port', '70000'], /from 1 to 65535/);
    bad(['--port', '80', '--socket', '80'], /either a socket/);
    bad(['--watchdog', '1'], /under 2 s/);
    bad(['--grace', 'soon'], /number of seconds/);
    bad(['--writable', 'data'], /must be absolute/);
    bad(['--frobnicate'], /Unknown option/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('notes: engines.node above the node that would run it; an app directory the sandbox hides', () => {
  const dir = app("require('@node-systemd/fastify');\n", { engines: { node: '>=99' } });
  try {
    const r = unit(dir, ['--print', '--no-reload']);
    assert.equal(r.code, 0);
    assert.match(r.err, /engines\.node is ">=99", and \S+ is Node \d+/);
    assert.match(r.err, /the app is in \/tmp\/[^,]+, which the service cannot see/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('--install refuses to run as anyone but root, and writes nothing', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to run the command as another user');
  const dir = app();
  try {
    const bin = path.resolve(__dirname, '../dist/bin.js');
    const r = spawnSync(process.execPath, [bin, 'unit', '--install', '--name', 'orders', '--entry', 'dist/server.js', '--no-reload', '--node', '/usr/bin/node'], { cwd: '/', uid: 65534, gid: 65534, encoding: 'utf8' });
    if (r.error) return t.skip(`cannot run as nobody here: ${r.error.message}`);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--install writes to \/etc\/systemd\/system: run it as root/);
    assert.equal(existsSync('/etc/systemd/system/orders.service'), false);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
