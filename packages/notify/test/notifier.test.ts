import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Notifier, barrier, isNotifyError, removeStoredFds, storeFds } from '../src/index.js';
import { barrier as barrierOf } from '../src/barrier.js';
import { loadNative } from '../src/native.js';
import { FakeNotifyManager } from '../src/testing/index.js';
import { withManager } from './helpers.js';

const rejects = (code: string, syscallCode?: string) => (error: unknown) =>
  isNotifyError(error) && error.code === code && (syscallCode === undefined || error.syscallCode === syscallCode);

type Case = [label: string, send: (n: Notifier) => Promise<boolean>, expected: Array<[string, string | RegExp]>];
const cases: Case[] = [
  ['ready(status)', (n) => n.ready('serving'), [['READY', '1'], ['STATUS', 'serving']]],
  ['reloading()', (n) => n.reloading(), [['RELOADING', '1'], ['MONOTONIC_USEC', /^[1-9][0-9]*$/]]],
  ['stopping(status)', (n) => n.stopping('draining'), [['STOPPING', '1'], ['STATUS', 'draining']]],
  ['status(text)', (n) => n.status('3 jobs queued'), [['STATUS', '3 jobs queued']]],
  ['errno(n)', (n) => n.errno(98), [['ERRNO', '98']]],
  ['busError(name)', (n) => n.busError('org.freedesktop.DBus.Error.Failed'), [['BUSERROR', 'org.freedesktop.DBus.Error.Failed']]],
  ['mainPid(pid)', (n) => n.mainPid(process.pid), [['MAINPID', String(process.pid)]]],
  ['watchdogPing()', (n) => n.watchdogPing(), [['WATCHDOG', '1']]],
  ['watchdogTrigger()', (n) => n.watchdogTrigger(), [['WATCHDOG', 'trigger']]],
  ['setWatchdogTimeout(ms)', (n) => n.setWatchdogTimeout(1500), [['WATCHDOG_USEC', '1500000']]],
  ['extendTimeout(ms)', (n) => n.extendTimeout(2000), [['EXTEND_TIMEOUT_USEC', '2000000']]],
  ['notifyAccess(mode)', (n) => n.notifyAccess('all'), [['NOTIFYACCESS', 'all']]],
  ['exitStatus(n)', (n) => n.exitStatus(3), [['EXIT_STATUS', '3']]],
  ['notify(X_ key)', (n) => n.notify({ X_ROLE: 'primary', STATUS: 'a=b' }), [['X_ROLE', 'primary'], ['STATUS', 'a=b']]],
  ['removeStoredFds(name)', (n) => removeStoredFds('http', n), [['FDSTOREREMOVE', '1'], ['FDNAME', 'http']]],
];

for (const abstract of [false, true]) {
  const kind = abstract ? 'abstract' : 'path';
  for (const [label, send, expected] of cases) {
    test(`success: ${label} reaches a ${kind} socket as exactly ${expected.map(([k]) => k).join('+')}, from this PID`, async () => {
      await withManager({ abstract }, async (manager, notifier) => {
        assert.equal(await send(notifier), true);
        const message = await manager.waitFor(() => true);
        assert.equal(message.assignments.length, expected.length, JSON.stringify(message.assignments));
        expected.forEach(([key, value], index) => {
          assert.equal(message.assignments[index]![0], key);
          if (typeof value === 'string') assert.equal(message.assignments[index]![1], value);
          else assert.match(message.assignments[index]![1], value);
        });
        assert.equal(message.pid, process.pid);
        assert.equal(message.uid, process.getuid!());
      });
    });
  }

  test(`success: reloading() sends CLOCK_MONOTONIC in µs (${kind})`, async () => {
    await withManager({ abstract }, async (manager, notifier) => {
      const before = process.hrtime.bigint() / 1000n;
      await notifier.reloading();
      const after = process.hrtime.bigint() / 1000n;
      const sent = BigInt((await manager.waitFor('RELOADING')).fields.MONOTONIC_USEC!);
      assert.ok(sent >= before && sent <= after, `${before} <= ${sent} <= ${after}`);
    });
  });

  test(`success: FDSTORE=1 passes a pipe fd that still works on the other side (${kind})`, async () => {
    await withManager({ abstract }, async (manager, notifier) => {
      const native = loadNative();
      const pipe = native.pipe();
      assert.ok(Array.isArray(pipe));
      const [readFd, writeFd] = pipe;
      try {
        assert.equal(await storeFds([writeFd], { fdName: 'pipe', poll: false, notifier }), true);
        const message = await manager.waitFor('FDSTORE');
        assert.deepEqual(message.assignments, [['FDSTORE', '1'], ['FDNAME', 'pipe'], ['FDPOLL', '0']]);
        assert.equal(message.fds.length, 1);
        // Write through the received copy, read from our end.
        const { writeSync, readSync } = await import('node:fs');
        writeSync(message.fds[0]!, 'through the store');
        const buffer = Buffer.alloc(64);
        const n = readSync(readFd, buffer);
        assert.equal(buffer.subarray(0, n).toString(), 'through the store');
      } finally {
        native.close(readFd);
        native.close(writeFd);
      }
    });
  });

  test(`success: barrier() resolves after the manager read everything sent before (${kind})`, async () => {
    await withManager({ abstract }, async (manager, notifier) => {
      await notifier.status('one');
      await notifier.status('two');
      assert.equal(await barrierOf(notifier, 5000), true);
      // The fake answers a barrier while reading it, so everything before it was read already.
      assert.deepEqual(manager.valuesOf('STATUS'), ['one', 'two']);
      assert.equal(manager.messages.at(-1)!.fields.BARRIER, '1');
    });
  });

  test(`failure: barrier() times out with ERR_NOTIFY_BARRIER_TIMEOUT when the manager ignores it (${kind})`, async () => {
    await withManager({ abstract, answerBarriers: false }, async (_manager, notifier) => {
      await assert.rejects(barrierOf(notifier, 100), rejects('ERR_NOTIFY_BARRIER_TIMEOUT'));
    });
  });
}

test('no-op: without a socket every call resolves false and validation still runs', async () => {
  const notifier = new Notifier({ socket: null });
  assert.equal(notifier.supervised, false);
  for (const [, send] of cases) assert.equal(await send(notifier), false);
  assert.equal(await barrierOf(notifier), false);
  await assert.rejects(notifier.status('a\nb'), rejects('ERR_NOTIFY_INVALID_FIELD'));
});

test('no-op: the module-level barrier() resolves false in an unsupervised process', async () => {
  assert.equal(await barrier(), false);
});

test('failure: a STATUS with a newline is rejected before sending, and nothing reaches the manager', async () => {
  await withManager({}, async (manager, notifier) => {
    await assert.rejects(notifier.status('ok\nREADY=1'), rejects('ERR_NOTIFY_INVALID_FIELD'));
    await assert.rejects(notifier.ready('x'.repeat(5000)), rejects('ERR_NOTIFY_MESSAGE_TOO_LARGE'));
    await notifier.status('after');
    await manager.waitFor('STATUS', { value: 'after' });
    assert.equal(manager.messages.length, 1);
  });
});

test('failure: NOTIFY_SOCKET pointing at a missing path rejects with ERR_NOTIFY_SEND_FAILED (ENOENT)', async () => {
  const notifier = new Notifier({ socket: '/nonexistent/node-systemd/notify.sock' });
  await assert.rejects(notifier.ready(), rejects('ERR_NOTIFY_SEND_FAILED', 'ENOENT'));
});

test('failure: NOTIFY_SOCKET pointing at a file that is not a socket rejects with ERR_NOTIFY_SEND_FAILED (ECONNREFUSED)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsd-notasocket-'));
  try {
    writeFileSync(join(dir, 'plain'), 'not a socket');
    const notifier = new Notifier({ socket: join(dir, 'plain') });
    await assert.rejects(notifier.ready(), rejects('ERR_NOTIFY_SEND_FAILED', 'ECONNREFUSED'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const [label, socket, code] of [
  ['empty', '', 'ERR_NOTIFY_SOCKET_INVALID'],
  ['relative', 'notify.sock', 'ERR_NOTIFY_SOCKET_INVALID'],
  ['over 107 bytes', `/tmp/${'n'.repeat(110)}`, 'ERR_NOTIFY_SOCKET_INVALID'],
  ['vsock:', 'vsock:2:999', 'ERR_NOTIFY_SOCKET_UNSUPPORTED'],
] as const) {
  test(`failure: a Notifier on NOTIFY_SOCKET ${label} counts as supervised and rejects with ${code}`, async () => {
    const notifier = new Notifier({ socket });
    assert.equal(notifier.supervised, true, 'a broken NOTIFY_SOCKET must not look like "not under systemd"');
    await assert.rejects(notifier.ready(), rejects(code));
  });
}

test('failure: fds must be non-negative integers', async () => {
  const notifier = new Notifier({ socket: null });
  await assert.rejects(notifier.notify({ FDSTORE: 1, FDNAME: 'x' }, { fds: [-1] }), rejects('ERR_NOTIFY_INVALID_FDS'));
  await assert.rejects(notifier.notify({ FDSTORE: 1, FDNAME: 'x' }, { fds: [1.5] }), rejects('ERR_NOTIFY_INVALID_FDS'));
});

test('success: a connected notifier reconnects when the manager re-creates its socket (daemon-reexec)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsd-reexec-'));
  const socket = join(dir, 'notify');
  const first = await FakeNotifyManager.start({ socket });
  const notifier = new Notifier({ socket });
  let second: FakeNotifyManager | undefined;
  try {
    await notifier.status('before');
    await first.waitFor('STATUS');
    first.close();
    second = await FakeNotifyManager.start({ socket });
    // Same notifier, same (now stale) connected socket: the send must find the new one.
    assert.equal(await notifier.status('after'), true);
    assert.equal((await second.waitFor('STATUS')).fields.STATUS, 'after');
  } finally {
    notifier.close();
    second?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
