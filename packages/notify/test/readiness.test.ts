import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Notifier, isNotifyError, warnIfNotReady } from '../src/index.js';
import { FakeNotifyManager } from '../src/testing/index.js';
import { sleep } from './helpers.js';

async function supervised(body: (notifier: Notifier) => Promise<void>): Promise<void> {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  try {
    await body(notifier);
  } finally {
    notifier.close();
    manager.close();
  }
}

test('failure: supervised and no READY=1 in time: warns exactly once, naming READY=1', async () => {
  await supervised(async (notifier) => {
    const warnings: string[] = [];
    warnIfNotReady({ notifier, afterMs: 30, warn: (m) => warnings.push(m) });
    await notifier.status('still loading');
    await sleep(150);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /READY=1/);
    assert.match(warnings[0]!, /30 ms/);
  });
});

test('success: READY=1 before the deadline cancels the warning', async () => {
  await supervised(async (notifier) => {
    const warnings: string[] = [];
    warnIfNotReady({ notifier, afterMs: 80, warn: (m) => warnings.push(m) });
    await notifier.ready();
    await sleep(200);
    assert.deepEqual(warnings, []);
  });
});

test('success: READY=1 already sent: nothing to warn about', async () => {
  await supervised(async (notifier) => {
    await notifier.ready();
    const warnings: string[] = [];
    warnIfNotReady({ notifier, afterMs: 10, warn: (m) => warnings.push(m) });
    await sleep(100);
    assert.deepEqual(warnings, []);
  });
});

test('success: the returned cancel() stops the warning', async () => {
  await supervised(async (notifier) => {
    const warnings: string[] = [];
    const cancel = warnIfNotReady({ notifier, afterMs: 30, warn: (m) => warnings.push(m) });
    cancel();
    await sleep(120);
    assert.deepEqual(warnings, []);
  });
});

test('success: the default warning goes through process.emitWarning with a code', async () => {
  await supervised(async (notifier) => {
    const seen: Error[] = [];
    const onWarning = (w: Error): void => void seen.push(w);
    process.on('warning', onWarning);
    try {
      warnIfNotReady({ notifier, afterMs: 10 });
      await sleep(120);
    } finally {
      process.off('warning', onWarning);
    }
    assert.equal(seen.filter((w) => (w as NodeJS.ErrnoException).code === 'NODE_SYSTEMD_NOT_READY').length, 1);
  });
});

test('no-op: off systemd there is no timer and no warning', async () => {
  const warnings: string[] = [];
  warnIfNotReady({ notifier: new Notifier({ socket: null }), afterMs: 5, warn: (m) => warnings.push(m) });
  await sleep(60);
  assert.deepEqual(warnings, []);
});

test('failure: a negative or non-numeric afterMs is ERR_NOTIFY_INVALID_OPTION', () => {
  for (const afterMs of [-1, Number.NaN, Infinity]) {
    assert.throws(() => warnIfNotReady({ notifier: new Notifier({ socket: null }), afterMs }), (e) => isNotifyError(e, 'ERR_NOTIFY_INVALID_OPTION'));
  }
});
