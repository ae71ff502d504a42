// doctor beyond the single rules: drop-ins, an installed unit read through
// `systemctl cat`, systemd-analyze folded in, the output formats and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { doctor } from '../src/index.js';
import { main } from '../src/cli.js';
import { parseSystemctlCat } from '../src/systemd.js';
import { parseUnitText } from '../src/unit-file.js';
import { timeSpanMs } from '../src/unit-file.js';

const hasAnalyze = !spawnSync('systemd-analyze', ['--version']).error;

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'nsd-doctor-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function cli(args: string[], cwd = process.cwd(), isTty = false) {
  let out = '';
  let err = '';
  const code = main(args, { cwd, isTty, out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const GOOD = '[Service]\nType=notify\nExecStart=/usr/bin/node /opt/app/app.js\nRestart=on-failure\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n';

test('drop-ins apply in name order; an empty assignment resets a list; findings point into the drop-in', () => {
  const dir = tree({
    'app.service': GOOD,
    'app.service.d/10-kill.conf': '[Service]\nKillMode=process\n',
    'app.service.d/20-net.conf': '# narrower\n[Service]\nRestrictAddressFamilies=\nRestrictAddressFamilies=AF_INET\n',
    'app.service.d/30-kill.conf': '[Service]\nKillMode=mixed\n',
    'app.service.d/notes.txt': '[Service]\nMemoryDenyWriteExecute=yes\n',
  });
  try {
    const report = doctor(path.join(dir, 'app.service'), { analyze: false, systemdVersion: 257 });
    assert.deepEqual(report.files.map((f) => path.relative(dir, f)), ['app.service', 'app.service.d/10-kill.conf', 'app.service.d/20-net.conf', 'app.service.d/30-kill.conf']);
    assert.deepEqual(report.findings.map((f) => f.rule), ['restrict-af-no-unix'], 'KillMode=process was overridden; .txt is not a drop-in');
    assert.equal(path.relative(dir, report.findings[0]!.file!), 'app.service.d/20-net.conf');
    assert.equal(report.findings[0]!.line, 4);
    assert.equal(report.ok, false);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('systemctl cat output: the main file and its drop-ins, each with its path', () => {
  const sources = parseSystemctlCat('# /etc/systemd/system/app.service\n[Service]\nType=simple\n\n# /etc/systemd/system/app.service.d/override.conf\n[Service]\nType=notify\n');
  assert.deepEqual(sources?.map((s) => s.file), ['/etc/systemd/system/app.service', '/etc/systemd/system/app.service.d/override.conf']);
  assert.equal(parseUnitText(sources![1]!.text, sources![1]!.file)[1]!.value, 'notify');
});

test('an installed unit that does not exist is a clear error (exit 2)', () => {
  const r = cli(['doctor', 'no-such-unit-for-nsd-tests']);
  assert.equal(r.code, 2);
  assert.match(r.err, /is not a file, and `systemctl cat no-such-unit-for-nsd-tests\.service` found no such installed unit/);
});

test('systemd-analyze verify is folded in with its file and line', (t) => {
  if (!hasAnalyze) return t.skip('systemd-analyze is not installed');
  const dir = tree({ 'app.service': `${GOOD}Frobnicate=yes\n` });
  try {
    const report = doctor(path.join(dir, 'app.service'), { systemdVersion: 252 });
    const verify = report.findings.filter((f) => f.rule === 'systemd-analyze-verify');
    assert.ok(verify.some((f) => f.line === 6 && /Frobnicate/.test(f.message)), JSON.stringify(report.findings, null, 2));
    assert.ok(report.findings.some((f) => f.rule === 'systemd-analyze-security'));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('without systemd-analyze or a known systemd version it says what it did not check', () => {
  const dir = tree({ 'app.service': GOOD });
  try {
    const report = doctor(path.join(dir, 'app.service'), { analyze: false });
    const r = cli(['doctor', path.join(dir, 'app.service'), '--no-analyze', '--systemd', '252']);
    assert.equal(r.code, 0);
    assert.match(r.out, /not checked whether the app sends READY=1/);
    assert.match(r.out, /ok: 0 warning\(s\), no errors/);
    if (report.systemdVersion === undefined) assert.ok(report.notChecked.some((n) => /which systemd/.test(n)));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('text on a TTY has colours, without one none; --json is the report; an error exits 1', () => {
  const dir = tree({ 'app.service': '[Service]\nExecStart=/usr/bin/npm start\n' });
  try {
    const file = path.join(dir, 'app.service');
    const plain = cli(['doctor', file, '--no-analyze', '--systemd', '252']);
    assert.equal(plain.code, 1);
    assert.doesNotMatch(plain.out, /\x1b\[/);
    assert.match(plain.out, /^error\s+exec-package-manager\s+\S+app\.service:2$/m);
    assert.match(plain.out, /^\s+fix: ExecStart=\/usr\/bin\/node /m);
    assert.match(cli(['doctor', file, '--no-analyze', '--systemd', '252'], dir, true).out, /\x1b\[31merror/);
    const json = JSON.parse(cli(['doctor', file, '--no-analyze', '--json', '--systemd', '252']).out);
    assert.equal(json.ok, false);
    assert.deepEqual(json.findings.map((f: { rule: string }) => f.rule).sort(), ['exec-package-manager', 'no-restart', 'type-not-notify']);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('doctor on a .socket file lints it with its service', () => {
  const dir = tree({ 'web.service': GOOD.replace('AF_INET AF_INET6', ''), 'web.socket': '[Socket]\nListenStream=80\nAccept=yes\n' });
  try {
    const report = doctor(path.join(dir, 'web.socket'), { analyze: false, systemdVersion: 257 });
    assert.equal(report.unit, 'web.service');
    assert.deepEqual(report.findings.map((f) => f.rule).sort(), ['socket-accept', 'socket-fd-name']);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('--help: the overview and each command fit one screen (24 lines)', () => {
  for (const args of [['--help'], ['unit', '--help'], ['doctor', '--help']]) {
    const r = cli(args);
    assert.equal(r.code, 0);
    const lines = r.out.trimEnd().split('\n');
    assert.ok(lines.length <= 24 && lines.every((l) => l.length <= 100), `${args.join(' ')}: ${lines.length} lines`);
  }
  assert.match(cli(['--help']).out, /node-systemd unit[\s\S]*node-systemd doctor/);
  assert.equal(cli([]).code, 2);
  assert.equal(cli(['frob']).code, 2);
});

test('time spans as systemd reads them', () => {
  assert.equal(timeSpanMs('45'), 45_000);
  assert.equal(timeSpanMs('1min 30s'), 90_000);
  assert.equal(timeSpanMs('500ms'), 500);
  assert.equal(timeSpanMs('2h'), 7_200_000);
  assert.equal(timeSpanMs('infinity'), Infinity);
  assert.equal(timeSpanMs('soon'), undefined);
});

test('doctor --runtime in a real child process: the notify socket, its parent, its watchdog', async () => {
  const { FakeNotifyManager } = await import('@node-systemd/notify/testing');
  const manager = await FakeNotifyManager.start();
  const bin = path.resolve(__dirname, '../dist/bin.js');
  try {
    const env = { ...process.env, ...manager.env(), WATCHDOG_USEC: '1000000' };
    // Started by this node process: the parent is not systemd, which is reported, not an error.
    const direct = spawnSync(process.execPath, [bin, 'doctor', '--runtime', '--json'], { env, encoding: 'utf8' });
    assert.equal(direct.status, 0, direct.stderr);
    const report = JSON.parse(direct.stdout);
    assert.deepEqual(report.findings.map((f: { rule: string; severity: string }) => `${f.severity}:${f.rule}`), ['warning:runtime-watchdog', 'info:runtime-parent']);
    // Under a shell that stays the parent (as with ExecStart=/bin/sh -c '...' without exec): an error, exit 1.
    const shell = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${bin}" doctor --runtime; exit $?`], { env, encoding: 'utf8' });
    assert.equal(shell.status, 1, shell.stdout);
    assert.match(shell.stdout, /error\s+runtime-parent[\s\S]*node runs under sh/);
  } finally {
    manager.close();
  }
});
