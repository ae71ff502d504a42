// BARRIER=1: the promise must wait for the manager, and leave no fd behind either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { Notifier, isNotifyError } from '../src/index.js';
import { barrier } from '../src/barrier.js';
import { sleep, withManager } from './helpers.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

for (const abstract of [false, true]) {
  const kind = abstract ? 'abstract' : 'path';
  test(`success: barrier() waits while the manager is not reading, and resolves once it has read everything before (${kind})`, async () => {
    await withManager({ abstract, paused: true }, async (manager, notifier) => {
      await notifier.status('one');
      await notifier.status('two');
      let settled = false;
      const answered = barrier(notifier, 10_000).then((value) => ((settled = true), value));
      await sleep(200);
      assert.equal(settled, false, 'no answer while the manager has not read the barrier');
      manager.resume();
      assert.equal(await answered, true);
      assert.deepEqual(manager.messages.map((m) => m.assignments), [[['STATUS', 'one']], [['STATUS', 'two']], [['BARRIER', '1']]]);
      assert.deepEqual(manager.messages[2]!.fds, [], 'the manager closed the pipe (that is the answer)');
    });
  });
}

test('success: answered and timed-out barriers leave no fd open in this process', async () => {
  await withManager({}, async (_manager, notifier) => {
    await notifier.status('open the socket first');
    const before = openFds();
    for (let i = 0; i < 20; i++) assert.equal(await barrier(notifier, 5000), true);
    // The read end is closed by libuv once the socket is destroyed: give it a turn.
    await sleep(20);
    assert.equal(openFds(), before);
  });
  await withManager({ answerBarriers: false }, async (manager, notifier) => {
    await notifier.status('open the socket first');
    const before = openFds();
    for (let i = 0; i < 3; i++) await assert.rejects(barrier(notifier, 50), (error: unknown) => isNotifyError(error, 'ERR_NOTIFY_BARRIER_TIMEOUT'));
    await sleep(20);
    manager.drainQueue();
    const held = manager.messages.filter((m) => m.fields.BARRIER === '1' && m.fds.length === 1).length;
    assert.equal(held, 3, 'the (fake, in-process) manager holds the three write ends it never closed');
    assert.equal(openFds(), before + held, 'and nothing else is open: our pipe ends were closed');
  });
});

test('failure: a barrier timeout that is not a positive finite number is ERR_NOTIFY_INVALID_OPTION, before anything is sent', async () => {
  await withManager({}, async (manager, notifier) => {
    for (const timeoutMs of [0, -1, Number.NaN, Infinity, '100' as unknown as number]) {
      await assert.rejects(barrier(notifier, timeoutMs), (error: unknown) => isNotifyError(error, 'ERR_NOTIFY_INVALID_OPTION'), String(timeoutMs));
    }
    await sleep(20);
    manager.drainQueue();
    assert.equal(manager.messages.length, 0);
  });
});

test('failure: a barrier to a socket nobody reads from rejects with ERR_NOTIFY_SEND_FAILED and closes its pipe', async () => {
  const notifier = new Notifier({ socket: `@nsd-test-no-manager/${process.pid}` });
  const before = openFds();
  await assert.rejects(barrier(notifier, 1000), (error: unknown) => isNotifyError(error, 'ERR_NOTIFY_SEND_FAILED'));
  await sleep(20);
  notifier.close();
  assert.ok(openFds() <= before, 'no pipe end left behind');
});
