// Start-up diagnostics under a (fake) manager, with real parent processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explainNotifyFailure } from '../src/diagnostics.js';
import { NotifyError, Notifier, createLifecycle } from '../src/index.js';
import { FakeNotifyManager } from '../src/testing/index.js';
import { start, stopped } from './lifecycle-child.js';

/** Runs the command from a shell script called `name` that does not exec it (as `npm start` runs `sh -c`). */
function wrappedIn(name: string): { wrap: (command: string[]) => string[]; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nsd-wrapper-'));
  const script = join(dir, name);
  writeFileSync(script, '#!/bin/sh\n"$@"\nexit $?\n');
  chmodSync(script, 0o755);
  return { wrap: (command) => [script, ...command], cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

for (const [name, kind, fix] of [
  ['npm', 'a package manager', /ExecStart=\/usr\/bin\/node .*lifecycle-app\.ts in the unit/],
  ['sh', 'a shell', /`exec node \.\.\.`/],
] as const) {
  test(`failure: started through ${name}: one warning naming the fix`, { timeout: 20_000 }, async () => {
    const wrapper = wrappedIn(name);
    const app = await start({}, wrapper.wrap);
    try {
      const warnings = app.logged('wrapped-start');
      assert.equal(warnings.length, 1, app.lines.join('\n'));
      assert.equal(warnings[0]!.level, 'warn');
      assert.match(warnings[0]!.message, new RegExp(`runs under ${kind} \\(pid \\d+: `));
      assert.match(warnings[0]!.message, /NotifyAccess=main/);
      assert.match(warnings[0]!.message, fix);
    } finally {
      await stopped(app);
      wrapper.cleanup();
    }
  });
}

test('no-op: started by its parent directly (as systemd does): no wrapper warning', { timeout: 20_000 }, async () => {
  const app = await start({});
  try {
    assert.equal(app.logged('wrapped-start').length, 0);
  } finally {
    await stopped(app);
  }
});

test('failure: EAFNOSUPPORT from NOTIFY_SOCKET is explained by RestrictAddressFamilies=', () => {
  const error = new NotifyError('ERR_NOTIFY_SEND_FAILED', 'socket failed', { syscallCode: 'EAFNOSUPPORT' });
  assert.match(explainNotifyFailure(error)!, /RestrictAddressFamilies= must include AF_UNIX/);
  assert.equal(explainNotifyFailure(new NotifyError('ERR_NOTIFY_SEND_FAILED', 'x', { syscallCode: 'ENOENT' })), undefined);
});

test('failure: under a manager, no READY=1 within 10 s of start-up gives one not-ready warning; READY=1 in time gives none', async (t) => {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  // The warning waits 10 s of real time: fake the clock instead of sleeping.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const events: string[] = [];
  const logger = {
    info() {},
    warn: (_message: string, fields?: Record<string, unknown>) => events.push(String(fields?.NODE_SYSTEMD_EVENT)),
    error() {},
  };
  try {
    const silent = createLifecycle({ notifier, handleSignals: false, watchdog: false, logger });
    t.mock.timers.tick(9_999);
    assert.deepEqual(events.filter((event) => event === 'not-ready'), [], 'not before 10 s');
    t.mock.timers.tick(1);
    assert.deepEqual(events.filter((event) => event === 'not-ready'), ['not-ready']);
    t.mock.timers.tick(60_000);
    assert.equal(events.filter((event) => event === 'not-ready').length, 1, 'once');
    silent.dispose();

    events.length = 0;
    const prompt = createLifecycle({ notifier: new Notifier({ socket: manager.socket }), handleSignals: false, watchdog: false, logger });
    await prompt.ready('up');
    t.mock.timers.tick(20_000);
    assert.deepEqual(events.filter((event) => event === 'not-ready'), []);
    prompt.dispose();
  } finally {
    t.mock.timers.reset();
    notifier.close();
    manager.close();
  }
});
