import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Notifier, isNotifyError } from '../src/index.js';
import { FakeNotifyManager } from '../src/testing/index.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A real collector (the test runner does not pass --expose-gc), so heap figures measure what is retained.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

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
    await settle(Array.from({ length: 1000 }, () => notifier.watchdogPing()));
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
    const before = process.memoryUsage().heapUsed;
    let rejected = 0;
    for (let round = 0; round < 40; round++) {
      const results = await settle(Array.from({ length: 1000 }, () => notifier.watchdogPing()));
      rejected += results.filter((r) => r.status === 'rejected' && isNotifyError(r.reason, 'ERR_NOTIFY_QUEUE_FULL')).length;
    }
    // Let Node finish its rejection bookkeeping (it holds rejected promises until the tick ends).
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
    const grownMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
    // 40 000 messages went nowhere; each was rejected instead of kept.
    assert.equal(rejected, 40_000);
    // Nothing of the 40 000 may stay behind: about 2 MB of growth is the runtime's own
    // (seen on Node 20, 22 and 24); keeping even 150 bytes of each message would exceed this.
    assert.ok(grownMb < 6, `heap grew ${grownMb.toFixed(1)} MB`);
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
