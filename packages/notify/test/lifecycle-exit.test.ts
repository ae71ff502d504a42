// Signals and exits, with real signals sent to a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, start, stopped } from './lifecycle-child.js';

test('success: another SIGTERM listener plus a pending timer still ends in exit 0, with one warning naming the exit option', { timeout: 30_000 }, async () => {
  const app = await start({ OTHER_LISTENER: '1', PENDING_TIMER: '1', LC_OPTIONS: JSON.stringify({ gracePeriodMs: 20_000 }) });
  try {
    app.child.kill('SIGTERM');
    const exit = await app.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, app.lines.join('\n'));
    assert.ok(app.lines.includes('app-sigterm') && app.lines.includes('drained'));
    const warnings = app.logged('signal-shared');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /exit: 'always'/);
    assert.match(warnings[0]!.message, /exit: false/);
    assert.equal(app.logged('exit-forced').length, 0);
  } finally {
    await stopped(app);
  }
});

test("success: exit: 'always' with another listener exits right after the drain, without a warning", { timeout: 30_000 }, async () => {
  const app = await start({ OTHER_LISTENER: '1', PENDING_TIMER: '1', LC_OPTIONS: JSON.stringify({ exit: 'always' }) });
  try {
    app.child.kill('SIGTERM');
    assert.deepEqual(await app.exited, { code: 0, signal: null });
    assert.equal(app.logged('signal-shared').length, 0);
  } finally {
    await stopped(app);
  }
});

test('success: exit: false leaves the process to the app after the drain', { timeout: 30_000 }, async () => {
  const app = await start({ LC_OPTIONS: JSON.stringify({ exit: false }), PENDING_TIMER: '1' });
  try {
    app.child.kill('SIGTERM');
    await app.waitLine(/^drained$/);
    // Still alive and answering a signal-free probe: the manager gets nothing more.
    await app.manager.waitFor('STATUS', { value: 'drained' });
    assert.equal(app.child.exitCode, null);
    assert.equal(app.logged('signal-shared').length, 0);
  } finally {
    await stopped(app);
  }
});

test('failure: Ctrl-C twice during a long drain exits at once with forcedExitCode', { timeout: 20_000 }, async () => {
  const app = await start({ LC_OPTIONS: JSON.stringify({ gracePeriodMs: 60_000, forcedExitCode: 3 }) });
  try {
    const hung = request(app.port, '/hang').catch((error: Error) => error);
    await app.waitLine(/^hang$/);
    app.child.kill('SIGINT');
    await app.waitLine(/"drain-started"/);
    app.child.kill('SIGINT');
    assert.deepEqual(await app.exited, { code: 3, signal: null });
    assert.match(app.logged('exit-forced')[0]!.message, /a second SIGINT/);
    await hung;
  } finally {
    await stopped(app);
  }
});

test('failure: a SIGTERM after the grace period ends a hung close hook at once with forcedExitCode', { timeout: 20_000 }, async () => {
  const app = await start({ HANG_CLOSE: '1', LC_OPTIONS: JSON.stringify({ gracePeriodMs: 200 }) });
  try {
    app.child.kill('SIGTERM');
    await app.waitLine(/^close-started$/);
    // The close hook starts only after the drain, which starts with the signal: the grace period is over.
    await new Promise<void>((resolve) => setTimeout(resolve, 300));
    app.child.kill('SIGTERM');
    assert.deepEqual(await app.exited, { code: 1, signal: null });
    assert.match(app.logged('exit-forced')[0]!.message, /SIGTERM after the grace period/);
  } finally {
    await stopped(app);
  }
});

test('failure: a hung close hook is ended by the backstop with forcedExitCode', { timeout: 30_000 }, async () => {
  const app = await start({ HANG_CLOSE: '1', LC_OPTIONS: JSON.stringify({ gracePeriodMs: 100, forcedExitCode: 4 }) });
  try {
    app.child.kill('SIGTERM');
    assert.deepEqual(await app.exited, { code: 4, signal: null });
    assert.match(app.logged('exit-forced')[0]!.message, /did not finish before the deadline/);
  } finally {
    await stopped(app);
  }
});

test('success: an SSE stream that ends on lifecycle.signal drains cleanly: exit 0, not forced', { timeout: 30_000 }, async () => {
  const app = await start({ LC_OPTIONS: JSON.stringify({ gracePeriodMs: 20_000 }) });
  try {
    const stream = request(app.port, '/sse');
    await app.waitLine(/^sse$/);
    app.child.kill('SIGTERM');
    assert.deepEqual(await stream, { status: 200, body: 'data: hello\n\ndata: bye\n\n' });
    assert.deepEqual(await app.exited, { code: 0, signal: null });
    assert.equal(app.logged('drain-forced').length, 0);
    assert.equal(app.manager.valuesOf('STATUS').at(-1), 'drained');
  } finally {
    await stopped(app);
  }
});
