import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { FakeNotifyManager } from '../src/testing/index.js';
import { loadNative } from '../src/native.js';
import { Notifier } from '../src/index.js';
import { childEnv, collect, fixture, nodeArgs, repoRoot, runFixture } from './helpers.js';

test('no-op: off systemd the whole API answers without loading native code or keeping the process alive', async () => {
  const result = await runFixture('off-systemd.ts');
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.deepEqual(report.results, [false, false, false, false, false]);
  assert.equal(report.supervised, false);
  assert.equal(report.watchdog, false);
  assert.deepEqual(report.fds, []);
  assert.deepEqual(report.options, { port: 8080 });
  assert.deepEqual(report.nativeLoaded, [], 'no .node file was loaded');
  assert.doesNotMatch(result.stderr, /READY=1/, 'and no readiness warning either');
});

test('success: a process exits by itself with a notify socket open, and the addon works from a worker thread', async () => {
  const manager = await FakeNotifyManager.start();
  try {
    const child = spawn(process.execPath, nodeArgs(fixture('open-socket.ts'), [manager.socket]), {
      cwd: repoRoot,
      env: childEnv(manager.env()),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = await collect(child, 30_000);
    assert.equal(result.signal, null, 'it was not killed by the timeout');
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { worker: 'sent' });
    assert.deepEqual(manager.valuesOf('STATUS').sort(), ['main thread', 'worker thread']);
    assert.ok(manager.messages.every((m) => m.pid === child.pid));
  } finally {
    manager.close();
  }
});

test('success: close is idempotent (native and Notifier) and kernel errors come back as Node-style codes', () => {
  const native = loadNative();
  const fd = native.socket();
  assert.ok(fd >= 0);
  assert.equal(native.close(fd), 0);
  assert.equal(native.close(fd), -9, 'a second close reports EBADF instead of aborting');
  const notifier = new Notifier({ socket: null });
  notifier.close();
  notifier.close();
  const missing = native.socket();
  try {
    const result = native.connect(missing, Buffer.from('/nonexistent/node-systemd.sock'));
    assert.equal(result, -2);
  } finally {
    native.close(missing);
  }
});
