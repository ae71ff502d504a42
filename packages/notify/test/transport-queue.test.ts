// The transport's behaviour behind a full receive queue, and the kinds of "not a
// notify socket" the kernel reports, all against real kernel sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Notifier, isNotifyError, type NotifierOptions } from '../src/index.js';
import { FakeNotifyManager } from '../src/testing/index.js';

// A real collector, so heap figures measure what is retained, not what GC got round to.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Sends STATUS=<prefix> n until one send has to wait for room; returns how many went out at once. */
async function fillQueue(notifier: Notifier, prefix: string): Promise<{ sent: number; waiting: Promise<boolean> }> {
  for (let sent = 0; sent < 10_000; sent++) {
    const promise = notifier.status(`${prefix} ${sent}`);
    const outcome = await Promise.race([promise.then(() => 'sent'), new Promise((resolve) => setImmediate(() => resolve('waiting')))]);
    if (outcome === 'waiting') return { sent, waiting: promise };
  }
  throw new Error('the receive queue never filled');
}

async function withPausedManager(options: NotifierOptions, body: (manager: FakeNotifyManager, notifier: Notifier) => Promise<void>): Promise<void> {
  const manager = await FakeNotifyManager.start({ paused: true, receiveBufferBytes: 4096 });
  const notifier = new Notifier({ socket: manager.socket, ...options });
  // Retry timers are unref'd (an exiting service must not wait on a deaf manager): keep the test alive.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await body(manager, notifier);
  } finally {
    clearInterval(keepAlive);
    notifier.close();
    manager.close();
  }
}

test('success: messages queued behind a full receive queue all arrive, in order, once the manager reads again in time', async () => {
  // About 3 s of retries in all: the manager resumes after 100 ms, well within them.
  await withPausedManager({ retryDelaysMs: [5, 10, 20, 50, 100, 200, 400, 800, 1600], maxQueued: 32 }, async (manager, notifier) => {
    const { sent, waiting } = await fillQueue(notifier, 'fill');
    assert.ok(sent > 0, 'some datagrams fit before the queue filled');
    const queued = Array.from({ length: 20 }, (_, i) => notifier.status(`queued ${i}`));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    await new Promise((resolve) => setTimeout(resolve, 100));
    clearInterval(ticker);
    assert.ok(ticks >= 5, `the event loop kept running while the sends waited (${ticks} ticks of 5 ms in 100 ms)`);
    assert.equal(manager.messages.length, 0, 'nothing was read yet');
    manager.resume();
    const results = await Promise.all([waiting, ...queued]);
    assert.ok(results.every((r) => r === true));
    await manager.waitFor('STATUS', { value: 'queued 19' });
    const expected = [...Array.from({ length: sent + 1 }, (_, i) => `fill ${i}`), ...Array.from({ length: 20 }, (_, i) => `queued ${i}`)];
    assert.deepEqual(manager.valuesOf('STATUS'), expected, 'every message exactly once, in the order sent');
  });
});

test('failure: the wait queue is bounded: beyond maxQueued sends reject at once with ERR_NOTIFY_QUEUE_FULL and the heap stays flat', async () => {
  // The head waits a minute for room: everything sent meanwhile meets the bound.
  await withPausedManager({ retryDelaysMs: [60_000], maxQueued: 16 }, async (_manager, notifier) => {
    const { waiting } = await fillQueue(notifier, 'fill');
    const tail = Array.from({ length: 15 }, (_, i) => notifier.status(`tail ${i}`));
    const codes = new Map<string, number>();
    const count = (error: unknown): void => {
      const code = isNotifyError(error) ? error.code : String(error);
      codes.set(code, (codes.get(code) ?? 0) + 1);
    };
    // Messages of 300 bytes: kept, 40 000 of them would hold 12 MB of datagrams alone.
    const text = 'x'.repeat(300);
    const burst = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) notifier.status(text).then(() => count('sent'), count);
      await new Promise((resolve) => setImmediate(resolve));
      // Let Node finish its rejection bookkeeping (it holds each rejected promise until the tick ends).
      await new Promise((resolve) => setTimeout(resolve, 20));
      gc();
    };
    // Warm-up: Node's rejection tracking grows its tables to the burst size once, then reuses them.
    await burst(10_000);
    await burst(10_000);
    const before = process.memoryUsage().heapUsed;
    for (let round = 0; round < 4; round++) await burst(10_000);
    const grownMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
    assert.deepEqual([...codes], [['ERR_NOTIFY_QUEUE_FULL', 60_000]], 'every send beyond the bound was rejected at once');
    assert.ok(grownMb < 4, `heap grew ${grownMb.toFixed(2)} MB over 40 000 rejected sends`);
    // The 16 that did queue are still waiting; close() settles them rather than leaving them pending.
    notifier.close();
    const settled = await Promise.allSettled([waiting, ...tail]);
    assert.ok(settled.every((r) => r.status === 'rejected' && isNotifyError(r.reason, 'ERR_NOTIFY_SEND_FAILED')));
  });
});

for (const connect of [true, false]) {
  const how = connect ? 'connect + send' : 'sendto';
  test(`failure: NOTIFY_SOCKET naming a stream socket rejects with ERR_NOTIFY_SEND_FAILED (EPROTOTYPE), ${how}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nsd-stream-'));
    const path = join(dir, 'stream.sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const notifier = new Notifier({ socket: path, connect });
      await assert.rejects(notifier.ready(), (error: unknown) => isNotifyError(error, 'ERR_NOTIFY_SEND_FAILED') && error.syscallCode === 'EPROTOTYPE' && /not a datagram socket/.test(error.message));
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`failure: an abstract NOTIFY_SOCKET nobody bound rejects with ERR_NOTIFY_SEND_FAILED (ECONNREFUSED), ${how}`, async () => {
    const notifier = new Notifier({ socket: `@nsd-test-nobody/${process.pid}/${Date.now()}`, connect });
    await assert.rejects(notifier.ready(), (error: unknown) => isNotifyError(error, 'ERR_NOTIFY_SEND_FAILED') && error.syscallCode === 'ECONNREFUSED');
  });

  for (const abstract of [false, true]) {
    test(`success: ${how} reaches a ${abstract ? 'abstract' : 'path'} socket, with this PID`, async () => {
      const manager = await FakeNotifyManager.start({ abstract });
      const notifier = new Notifier({ socket: manager.socket, connect });
      try {
        assert.equal(await notifier.ready('up'), true);
        assert.equal(await notifier.watchdogPing(), true);
        await manager.waitFor('WATCHDOG');
        assert.deepEqual(manager.messages.map((m) => m.assignments), [[['READY', '1'], ['STATUS', 'up']], [['WATCHDOG', '1']]]);
        assert.ok(manager.messages.every((m) => m.pid === process.pid));
      } finally {
        notifier.close();
        manager.close();
      }
    });
  }
}
