import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Notifier, isNotifyError } from '../src/index.js';
import { FakeNotifyManager } from '../src/testing/index.js';

const settle = (promises: Array<Promise<unknown>>) => Promise.allSettled(promises);

test('failure: a full receive queue is retried without blocking the event loop, then rejected with ERR_NOTIFY_QUEUE_FULL', async () => {
  const manager = await FakeNotifyManager.start({ paused: true, receiveBufferBytes: 2048 });
  const notifier = new Notifier({ socket: manager.socket, retryDelaysMs: [5, 10, 20, 40], maxQueued: 8 });
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  try {
    // Fill the kernel queue: sends succeed until the receiver's queue is full.
    let sent = 0;
    for (; sent < 100_000; sent++) {
      const outcome = await Promise.race([notifier.status(`fill ${sent}`).then(() => 'sent'), new Promise((r) => setImmediate(() => r('waiting')))]);
      if (outcome === 'waiting') break;
    }
    assert.ok(sent > 0 && sent < 100_000, `the queue filled after ${sent} datagrams`);
    // Now one message waits for room (the one above) and more queue behind it, up to maxQueued.
    const burst = Array.from({ length: 50 }, (_, i) => notifier.status(`burst ${i}`));
    const ticksBefore = ticks;
    const results = await settle(burst);
    // The event loop kept running while the sender retried.
    assert.ok(ticks - ticksBefore >= 5, `the interval ticked ${ticks - ticksBefore} times during the retries`);
    const queueFull = results.filter((r) => r.status === 'rejected' && isNotifyError(r.reason, 'ERR_NOTIFY_QUEUE_FULL'));
    assert.equal(queueFull.length, results.length, 'every message behind a full queue is rejected with ERR_NOTIFY_QUEUE_FULL');
    const error = (queueFull[0] as PromiseRejectedResult).reason;
    assert.equal(error.syscallCode, 'EAGAIN');
    assert.match(error.message, /not reading/);

    // Once the manager reads again, messages flow: the failure is not sticky.
    manager.resume();
    assert.equal(await notifier.status('recovered'), true);
    await manager.waitFor('STATUS', { value: 'recovered' });
    assert.equal(manager.valuesOf('STATUS').filter((v) => v.startsWith('burst')).length, 0, 'rejected messages were never sent');
  } finally {
    clearInterval(ticker);
    notifier.close();
    manager.close();
  }
});

test('failure: memory stays flat when a service keeps sending to a manager that stopped reading', async () => {
  const manager = await FakeNotifyManager.start({ paused: true, receiveBufferBytes: 2048 });
  const notifier = new Notifier({ socket: manager.socket, retryDelaysMs: [1, 1], maxQueued: 16 });
  // Retry timers are unref'd (an exiting service must not wait on a deaf manager); keep the test alive.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    // Warm up: fill the kernel queue and let the first retry cycle end.
    await settle(Array.from({ length: 200 }, (_, i) => notifier.status(`warm ${i}`)));
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let rejected = 0;
    for (let round = 0; round < 40; round++) {
      const results = await settle(Array.from({ length: 1000 }, () => notifier.watchdogPing()));
      rejected += results.filter((r) => r.status === 'rejected' && isNotifyError(r.reason, 'ERR_NOTIFY_QUEUE_FULL')).length;
    }
    global.gc?.();
    const grownMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
    // 40 000 messages went nowhere; each was rejected instead of kept.
    assert.equal(rejected, 40_000);
    // A loose bound (GC timing varies): keeping 40 000 pending promises and buffers would be far above it.
    assert.ok(grownMb < 32, `heap grew ${grownMb.toFixed(1)} MB`);
  } finally {
    clearInterval(keepAlive);
    notifier.close();
    manager.close();
  }
});

test('failure: close() rejects a message still waiting for room instead of leaving it pending', async () => {
  const manager = await FakeNotifyManager.start({ paused: true, receiveBufferBytes: 2048 });
  const notifier = new Notifier({ socket: manager.socket, retryDelaysMs: [60_000] });
  const keepAlive = setInterval(() => {}, 1000);
  try {
    const pending: Array<Promise<boolean>> = [];
    for (let i = 0; i < 5000; i++) {
      pending.push(notifier.status(`m ${i}`));
      const outcome = await Promise.race([pending.at(-1)!.then(() => 'sent'), new Promise((r) => setImmediate(() => r('waiting')))]);
      if (outcome === 'waiting') break;
    }
    notifier.close();
    const last = await Promise.allSettled([pending.at(-1)!]);
    assert.equal(last[0]!.status, 'rejected');
    assert.ok(isNotifyError((last[0] as PromiseRejectedResult).reason, 'ERR_NOTIFY_SEND_FAILED'));
  } finally {
    clearInterval(keepAlive);
    manager.close();
  }
});
