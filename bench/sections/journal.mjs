// Section: the cost of one log entry to the journal, from our API and integrations
// and from the peers, side by side: python-systemd's journal.send (libsystemd) as
// the floor, the npm libsystemd binding and unix-dgram-based peer, and the stream
// protocol (pino and console.log to stdout). Every sender runs in a child of its
// own inside a private mount namespace (unshare), where /run/systemd/journal/socket
// is the child's own receiver: libsystemd sends nowhere else.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { benchDir } from '../lib/paths.mjs';
import { ensureNativePeer } from '../lib/peers.mjs';
import { median, p99, mean, fmt, fmtRatio, ratio, table, goal } from '../lib/stats.mjs';
import { setupLine } from '../lib/setup.mjs';

const SENDERS = [
  { id: 'ours-send', label: '`sendJournal(fields)` (@node-systemd/notify)', same: 'python' },
  { id: 'ours-logger', label: '`createJournalLogger().info()`, native mode (+ SYSLOG_PID)' },
  { id: 'ours-logger-code', label: 'the same with `code: true` (CODE_FILE/LINE/FUNC from a stack capture)' },
  { id: 'pino-journal', label: 'pino → `journal()` (@node-systemd/pino)' },
  { id: 'pino-stdout', label: 'pino → stdout, sync (the stream protocol: a pipe here)' },
  { id: 'console-log', label: '`console.log` → stdout (a pipe)' },
  { id: 'python', label: 'python3-systemd `journal.send` (libsystemd sd_journal_sendv): the floor', kind: 'python' },
  { id: 'systemd-journald', label: 'npm systemd-journald 1.5.2 (libsystemd binding)', peer: 'systemd-journald' },
  { id: 'sd-journald', label: 'npm sd-journald 0.3.3 (unix-dgram)', peer: 'sd-journald' },
];

// Debian's python3-systemd installs for Debian's own python3, which may not be the first on PATH (pyenv).
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** python3-systemd from Debian (root only): the floor. Returns why not, or null. */
function ensurePythonSystemd(log) {
  const probe = () => spawnSync(PYTHON, ['-c', 'import systemd.journal'], { stdio: 'ignore' }).status === 0;
  if (probe()) return null;
  if (process.getuid?.() !== 0) return 'python3-systemd is not installed and this is not root';
  log('journal: installing python3-systemd with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'python3-systemd'], { stdio: 'ignore', env, timeout: 300_000 });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 300_000 });
    r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'python3-systemd'], { stdio: 'ignore', env, timeout: 300_000 });
  }
  return probe() ? null : `apt-get install python3-systemd failed (exit ${r.status})`;
}

/**
 * npm systemd-journald is a node-gyp addon over libsystemd that pnpm may leave
 * unbuilt; build it with npm's node-gyp against the system Node's headers (no
 * download). Returns why not, or null.
 */
function ensureSystemdJournald(log) {
  let reason = ensureNativePeer('systemd-journald', log);
  if (!reason) return null;
  const gyp = '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js';
  const nodedir = join(process.execPath, '..', '..');
  if (!existsSync(gyp) || !existsSync(join(nodedir, 'include', 'node', 'node.h'))) return reason;
  const dir = dirname(createRequire(join(benchDir, 'package.json')).resolve('systemd-journald/package.json'));
  log(`journal: building systemd-journald with node-gyp (--nodedir=${nodedir})`);
  const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], { cwd: dir, stdio: 'ignore', timeout: 300_000 });
  reason = spawnSync(process.execPath, ['-e', 'require("systemd-journald")'], { cwd: benchDir, stdio: 'ignore' }).status === 0 ? null : `systemd-journald does not build (node-gyp exit ${r.status})`;
  return reason;
}

/** One round of one sender: n entries, in its own mount namespace. */
function runSender(spec, n) {
  const command = spec.kind === 'python'
    ? [PYTHON, join(benchDir, 'sections', 'journal_sender.py'), String(n)]
    : [process.execPath, join(benchDir, 'sections', 'journal-sender.cjs'), spec.id, String(n)];
  // A tmpfs on /run/systemd in a private mount namespace: the host's /run is untouched.
  const script = 'mount -t tmpfs tmpfs /run/systemd 2>/dev/null || { mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd; } && exec "$@"';
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...command], {
      cwd: benchDir, stdio: ['ignore', 'pipe', 'inherit', 'pipe'],
    });
    let lines = 0;
    child.stdout.on('data', (chunk) => { for (const byte of chunk) if (byte === 10) lines++; });
    let result = '';
    child.stdio[3].setEncoding('utf8').on('data', (chunk) => (result += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(result);
        if (parsed.error) return reject(new Error(parsed.error));
        // Entries to stdout are counted at the pipe (the warm-up's 400 included).
        if (parsed.received === null) parsed.received = lines - 400;
        resolve(parsed);
      } catch {
        reject(new Error(`${spec.id} exited ${code} without a result`));
      }
    });
  });
}

export async function run({ log, setup, quick }) {
  const rounds = quick ? 2 : 5;
  const perRound = quick ? 1000 : 4000;
  const skipped = [];
  const active = [];
  if (process.getuid?.() !== 0) return { section: 'journal', setup, rounds, perRound, rows: [], skipped: [{ id: 'all', label: 'every sender', reason: 'needs root (a private mount namespace for /run/systemd/journal/socket)' }] };
  for (const spec of SENDERS) {
    const reason = spec.kind === 'python' ? ensurePythonSystemd(log) : spec.peer === 'systemd-journald' ? ensureSystemdJournald(log) : spec.peer ? ensureNativePeer(spec.peer, log) : null;
    if (reason) {
      skipped.push({ id: spec.id, label: spec.label, reason });
      log(`journal: skipping ${spec.id}: ${reason}`);
      continue;
    }
    active.push({ spec, samples: [], cpuUs: 0, wallUs: 0, sent: 0, received: 0, viaMemfd: 0, roundMedians: [] });
  }
  for (let round = 0; round < rounds; round++) {
    const order = active.map((_, i) => active[(i + round) % active.length]);
    for (const entry of order) {
      try {
        const r = await runSender(entry.spec, perRound);
        entry.samples.push(...r.samples);
        entry.cpuUs += r.cpuUs;
        entry.wallUs += r.wallUs;
        entry.sent += perRound;
        entry.received += r.received;
        entry.viaMemfd += r.viaMemfd;
        entry.roundMedians.push(median(r.samples));
      } catch (error) {
        entry.error = error.message.split('\n')[0];
        log(`journal: ${entry.spec.id} failed: ${entry.error}`);
      }
    }
    log(`journal: round ${round + 1}/${rounds} done`);
  }
  const rows = active.filter((e) => e.samples.length > 0).map((e) => ({
    id: e.spec.id,
    label: e.spec.label,
    median: median(e.samples),
    p99: p99(e.samples),
    mean: mean(e.samples),
    cpuPerEntry: e.cpuUs / e.sent,
    sent: e.sent,
    received: e.received,
    roundMedians: e.roundMedians,
  }));
  for (const e of active.filter((x) => x.samples.length === 0)) skipped.push({ id: e.spec.id, label: e.spec.label, reason: e.error ?? 'no result' });
  return { section: 'journal', setup, rounds, perRound, rows, skipped };
}

export function render(result) {
  const byId = Object.fromEntries(result.rows.map((r) => [r.id, r]));
  const floor = byId.python?.median;
  const lines = ['## Journal: one log entry', ''];
  lines.push(setupLine(result.setup, `${result.rounds} alternating rounds × ${result.perRound} entries per sender, batches of 8 drained between batches (untimed), six fields per native entry`));
  lines.push('');
  lines.push(table(['sender', 'median µs', 'p99 µs', 'entries/s (1 ÷ mean)', 'CPU µs per entry', '× python-systemd (median)', 'received/sent'], result.rows.map((r) => [
    r.label, fmt(r.median), fmt(r.p99), fmt(1e6 / r.mean, 0), fmt(r.cpuPerEntry), fmtRatio(ratio(r.median, floor)), `${r.received}/${r.sent}`,
  ])));
  for (const s of result.skipped) lines.push(`\nSkipped ${s.label}: ${s.reason}`);
  lines.push('');
  lines.push('Each native entry carries MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and CODE_FILE/LINE/FUNC (given explicitly, so python-systemd does not inspect its caller\'s frame); our logger adds SYSLOG_PID, pino\'s destination parses pino\'s JSON line first. The stream rows write one line to a pipe, which is what journald reads for stdout; their cost does not include journald splitting the line. "No entry lost at 5000 entries/s for 10 s" needs a real journald: it is measured by test/e2e/journal.test.mjs under systemd 252 and 257 and reported there.');
  const goals = [
    goal('sendJournal vs python-systemd journal.send, median µs per entry', ratio(byId['ours-send']?.median, floor), '<=', 1.2),
    goal('pino → journal() vs pino → stdout, CPU per line', ratio(byId['pino-journal']?.cpuPerEntry, byId['pino-stdout']?.cpuPerEntry), '<=', 2),
  ];
  const drops = result.rows.filter((r) => r.received !== r.sent);
  return { markdown: lines.join('\n'), goals, notes: drops.map((r) => `${r.label}: ${r.sent - r.received} of ${r.sent} entries did not arrive`) };
}
