// diagnose(): what only the running process can see. A real notify socket (the
// fake manager binds one) for the reachable case; everything else from the
// variables and /proc of this very process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { diagnose } from '../src/index.js';
import { FakeNotifyManager } from '../src/testing/index.js';

const checks = (found: ReturnType<typeof diagnose>) => found.map((d) => `${d.severity}:${d.check}`);

test('a reachable NOTIFY_SOCKET, node started by PID 1, a sane watchdog and the named socket: nothing to report', async () => {
  const manager = await FakeNotifyManager.start();
  try {
    const found = diagnose({ env: { ...manager.env(), WATCHDOG_USEC: '10000000', WATCHDOG_PID: '4242', LISTEN_PID: '4242', LISTEN_FDS: '1', LISTEN_FDNAMES: 'http' }, pid: 4242, ppid: 1 });
    assert.deepEqual(found, []);
  } finally {
    manager.close();
  }
});

test('a NOTIFY_SOCKET path that does not exist, or is not a socket, is an error', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nsd-diagnose-'));
  try {
    const file = path.join(dir, 'plain-file');
    writeFileSync(file, '');
    assert.deepEqual(checks(diagnose({ env: { NOTIFY_SOCKET: path.join(dir, 'missing') }, ppid: 1 })), ['error:notify-socket']);
    assert.match(diagnose({ env: { NOTIFY_SOCKET: file }, ppid: 1 })[0]!.message, /is not a socket/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('an abstract NOTIFY_SOCKET is looked up in /proc/net/unix', async () => {
  const manager = await FakeNotifyManager.start({ abstract: true });
  const name = manager.env().NOTIFY_SOCKET;
  try {
    assert.deepEqual(diagnose({ env: { NOTIFY_SOCKET: name }, ppid: 1 }), []);
  } finally {
    manager.close();
  }
  assert.deepEqual(checks(diagnose({ env: { NOTIFY_SOCKET: name }, ppid: 1 })), ['error:notify-socket']);
});

test('no NOTIFY_SOCKET: one info line, and the parent is not judged', () => {
  assert.deepEqual(checks(diagnose({ env: {}, ppid: process.ppid })), ['info:notify-socket']);
});

test('a parent that is npm or a shell is an error naming it; another parent is info', async () => {
  const manager = await FakeNotifyManager.start();
  const proc = mkdtempSync(path.join(tmpdir(), 'nsd-proc-'));
  try {
    const fakeParent = (pid: number, comm: string, cmdline: string[]) => {
      const dir = path.join(proc, String(pid));
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'comm'), `${comm}\n`);
      writeFileSync(path.join(dir, 'cmdline'), `${cmdline.join('\0')}\0`);
    };
    fakeParent(10, 'npm start', ['npm', 'start']);
    fakeParent(11, 'sh', ['/bin/sh', '-c', 'node app.js']);
    fakeParent(12, 'tini', ['/sbin/tini', '--', 'node']);
    fakeParent(13, 'systemd', ['/usr/lib/systemd/systemd', '--user']);
    const env = manager.env();
    const npm = diagnose({ env, ppid: 10, proc });
    assert.deepEqual(checks(npm), ['error:parent']);
    assert.match(npm[0]!.message, /under npm/);
    assert.match(npm[0]!.fix!, /^ExecStart=\//);
    assert.match(diagnose({ env, ppid: 11, proc })[0]!.message, /under sh/);
    assert.deepEqual(checks(diagnose({ env, ppid: 12, proc })), ['info:parent']);
    assert.deepEqual(diagnose({ env, ppid: 13, proc }), []);
  } finally {
    rmSync(proc, { recursive: true });
    manager.close();
  }
});

test('WATCHDOG_USEC for another PID, or so short that pings come under a second apart', async () => {
  const manager = await FakeNotifyManager.start();
  try {
    const env = manager.env();
    const other = diagnose({ env: { ...env, WATCHDOG_USEC: '10000000', WATCHDOG_PID: '99' }, pid: 42, ppid: 1 });
    assert.deepEqual(checks(other), ['error:watchdog']);
    assert.match(other[0]!.message, /PID 99, not this process \(42\)/);
    const short = diagnose({ env: { ...env, WATCHDOG_USEC: '1500000' }, ppid: 1 });
    assert.deepEqual(checks(short), ['warning:watchdog']);
    assert.match(short[0]!.message, /every 750 ms/);
    assert.deepEqual(diagnose({ env: { ...env, WATCHDOG_USEC: '1500000' }, ppid: 1, watchdogFraction: 0.9 }), []);
    assert.deepEqual(checks(diagnose({ env: { ...env, WATCHDOG_USEC: 'soon' }, ppid: 1 })), ['error:watchdog']);
  } finally {
    manager.close();
  }
});

test('LISTEN_FDS: addressed to another PID, or without the name the app asks for', () => {
  const env = { LISTEN_PID: '7', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:b' };
  const other = diagnose({ env, pid: 8, ppid: 1 });
  assert.deepEqual(checks(other), ['error:listen-fds', 'info:notify-socket']);
  assert.match(other[0]!.message, /addressed to PID 7/);
  const unnamed = diagnose({ env, pid: 7, ppid: 1 });
  assert.match(unnamed[0]!.message, /"http".*none matches/);
  assert.equal(unnamed[0]!.fix, 'FileDescriptorName=http');
  assert.equal(diagnose({ env: { LISTEN_PID: '7', LISTEN_FDS: '1', LISTEN_FDNAMES: 'web' }, pid: 7, ppid: 1 })[0]!.severity, 'warning');
  assert.deepEqual(checks(diagnose({ env, pid: 7, ppid: 1, fdName: 'b' })), ['info:notify-socket']);
});
