import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { closeSync, mkdtempSync, mkdirSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNotifyError, serverFd } from '../src/index.js';
import { runCluster } from '../src/cluster/index.js';
import { CrashBackoff } from '../src/cluster/backoff.js';
import { IpcNotifier } from '../src/cluster/ipc-notifier.js';
import { parseSharedFds } from '../src/cluster/membership.js';
import { fdsOfSockets, isWorkerNotification } from '../src/cluster/messages.js';
import { checkClusterOptions } from '../src/cluster/options.js';
import { clusterStatusLine } from '../src/cluster/status-line.js';
import { versionNear } from '../src/cluster/version.js';
import { repoRoot } from './helpers.js';

test('IpcNotifier: validated assignments go to the primary over IPC; READY=1 marks readySent', async () => {
  const sent: unknown[] = [];
  const channel = { connected: true, send: (message: unknown, _h: unknown, _o: unknown, done: (error: Error | null) => void) => (sent.push(message), done(null), true) };
  const notifier = new IpcNotifier(channel as never);
  const seen: string[] = [];
  notifier.onSent((assignments) => seen.push(assignments.map(([k, v]) => `${k}=${v}`).join(',')));
  assert.equal(notifier.supervised, true);
  assert.equal(notifier.readySent, false);
  assert.equal(await notifier.ready('listening on fd 3'), true);
  assert.equal(notifier.readySent, true);
  assert.equal(await notifier.watchdogPing(), true);
  assert.ok(sent.every(isWorkerNotification));
  assert.deepEqual(seen, ['READY=1,STATUS=listening on fd 3', 'WATCHDOG=1']);
});

test('IpcNotifier: bad input and fds reject with typed errors; a closed channel rejects ERR_NOTIFY_SEND_FAILED', async () => {
  const channel = { connected: true, send: (_m: unknown, _h: unknown, _o: unknown, done: (error: Error | null) => void) => (done(null), true) };
  const notifier = new IpcNotifier(channel as never);
  await assert.rejects(notifier.status('a\nREADY=1'), (error) => isNotifyError(error) && error.code === 'ERR_NOTIFY_INVALID_FIELD');
  const file = openSync('/dev/null', 'r');
  try {
    await assert.rejects(notifier.notify([['FDSTORE', '1'], ['FDNAME', 'http']], { fds: [file] }), (error) => isNotifyError(error) && error.code === 'ERR_NOTIFY_INVALID_FDS');
  } finally {
    closeSync(file);
  }
  await assert.rejects(notifier.notify([['FDSTORE', '1'], ['FDNAME', 'http']]), (error) => isNotifyError(error) && error.code === 'ERR_NOTIFY_INVALID_FDS');
  const closed = new IpcNotifier({ connected: false, send: undefined } as never);
  await assert.rejects(closed.ready(), (error) => isNotifyError(error) && error.code === 'ERR_NOTIFY_SEND_FAILED');
});

test('IpcNotifier: FDSTORE=1 of a listening socket goes to the primary as the socket\'s inode, which the primary finds among its own fds', async () => {
  const sent: Array<{ inodes?: number[] }> = [];
  const channel = { connected: true, send: (message: { inodes?: number[] }, _h: unknown, _o: unknown, done: (error: Error | null) => void) => (sent.push(message), done(null), true) };
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const fd = serverFd(server)!;
    assert.equal(await new IpcNotifier(channel as never).notify([['FDSTORE', '1'], ['FDNAME', 'http']], { fds: [fd] }), true);
    const inodes = sent[0]!.inodes!;
    assert.equal(inodes.length, 1);
    assert.deepEqual(fdsOfSockets(inodes), [fd]);
    assert.deepEqual(fdsOfSockets([1]), [undefined]);
  } finally {
    server.close();
  }
});

test('the shared fd list: what the primary wrote, nothing from malformed input', () => {
  assert.deepEqual(parseSharedFds('[{"fd":3,"name":"http"},{"fd":4,"name":"a:b,c"}]'), [{ fd: 3, name: 'http' }, { fd: 4, name: 'a:b,c' }]);
  assert.deepEqual(parseSharedFds(undefined), []);
  assert.deepEqual(parseSharedFds('3:http'), []);
  assert.deepEqual(parseSharedFds('[{"fd":-1,"name":"x"},{"fd":3}]'), []);
  assert.equal(isWorkerNotification({ type: 'node-systemd:notify', assignments: [['READY', 1]] }), false);
});

test('crash backoff: the first crash restarts at once, further ones double up to the cap; a stable worker resets the count', () => {
  const backoff = new CrashBackoff({ initialMs: 100, maxMs: 500, stableMs: 10_000 });
  assert.deepEqual([0, 0, 0, 0, 0, 0].map(() => backoff.crashed(50)), [0, 100, 200, 400, 500, 500]);
  assert.match(backoff.describe(Date.now()), /^workers crash-looping \(6 crashes in a row, next start in 1 s\)$/);
  assert.equal(backoff.crashed(60_000), 0);
  assert.equal(backoff.describe(Date.now()), '');
});

test('STATUS= lines of the primary', () => {
  const base = { workers: 2, ready: 2, draining: 0, version: '1.4.0', notes: [] };
  assert.equal(clusterStatusLine({ ...base, phase: 'ready' }), '2/2 workers ready, version 1.4.0');
  assert.equal(clusterStatusLine({ ...base, phase: 'starting', ready: 1 }), 'starting: 1/2 workers ready, version 1.4.0');
  assert.equal(
    clusterStatusLine({ ...base, phase: 'reloading', draining: 1, reload: { to: '1.5.0', replaced: 1 } }),
    'reloading to 1.5.0: 1/2 workers replaced; 2/2 workers ready, 1 draining, version 1.4.0',
  );
  assert.equal(clusterStatusLine({ ...base, phase: 'stopping', draining: 2, notes: ['', 'x'] }), 'stopping: 2 of 2 workers draining; x');
});

test('options: defaults stated, bad values rejected with ERR_NOTIFY_INVALID_OPTION', () => {
  const resolved = checkClusterOptions({ worker: 'w.js', workers: 3 });
  assert.equal(resolved.minWorkers, 2);
  assert.equal(resolved.startTimeoutMs, 30_000);
  const bad = [{ worker: '' }, { worker: 'w.js', workers: 0 }, { worker: 'w.js', workers: 2, minWorkers: 3 }, { worker: 'w.js', stopTimeoutMs: -1 }, { worker: 'w.js', version: 1 }];
  for (const options of bad) {
    assert.throws(() => checkClusterOptions(options as never), (error) => isNotifyError(error) && error.code === 'ERR_NOTIFY_INVALID_OPTION', JSON.stringify(options));
  }
  assert.throws(() => runCluster(null as never), (error) => isNotifyError(error) && error.code === 'ERR_NOTIFY_INVALID_OPTION');
});

test('the version is read from the package.json nearest the worker, through a symlink switch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsd-version-'));
  try {
    for (const version of ['1.0.0', '2.0.0']) {
      mkdirSync(join(dir, version, 'src'), { recursive: true });
      writeFileSync(join(dir, version, 'package.json'), JSON.stringify({ version }));
      writeFileSync(join(dir, version, 'src', 'worker.js'), '');
    }
    symlinkSync(join(dir, '1.0.0'), join(dir, 'current'));
    assert.equal(versionNear(join(dir, 'current', 'src', 'worker.js')), '1.0.0');
    rmSync(join(dir, 'current'));
    symlinkSync(join(dir, '2.0.0'), join(dir, 'current'));
    assert.equal(versionNear(join(dir, 'current', 'src', 'worker.js')), '2.0.0');
    assert.equal(versionNear(join(dir, 'missing.js')), 'unknown');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker started by the primary takes the IPC notifier and the primary\'s fds as the default; a plain forked child does not', async () => {
  const probe = `
    const { defaultNotifier, listenFds } = require(${JSON.stringify(join(repoRoot, 'packages/notify/dist/index.js'))});
    process.send({ kind: defaultNotifier().constructor.name, fds: listenFds(), marker: process.env.NODE_SYSTEMD_CLUSTER_WORKER ?? null }, () => process.exit(0));
  `;
  const run = (env: Record<string, string>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const child = fork('-e', [probe], { env: { ...process.env, ...env }, execArgv: [] });
      child.once('message', resolve);
      child.once('error', reject);
    });
  const worker = await run({ NODE_SYSTEMD_CLUSTER_WORKER: '1', NODE_SYSTEMD_CLUSTER_FDS: '[{"fd":3,"name":"http"}]' });
  assert.deepEqual(worker, { kind: 'IpcNotifier', fds: [{ fd: 3, name: 'http' }], marker: null });
  const plain = await run({});
  assert.deepEqual(plain, { kind: 'Notifier', fds: [], marker: null });
});
