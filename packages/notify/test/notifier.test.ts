import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Notifier, isNotifyError } from '../src/index.js';
import { FakeNotifyManager } from '../src/testing/index.js';

for (const abstract of [false, true]) {
  test(`success: ready() reaches a ${abstract ? 'abstract' : 'path'} socket with this PID`, async () => {
    const manager = await FakeNotifyManager.start({ abstract });
    const notifier = new Notifier({ socket: manager.socket });
    try {
      assert.equal(await notifier.ready('serving'), true);
      const message = await manager.waitFor('READY');
      assert.deepEqual(message.assignments, [['READY', '1'], ['STATUS', 'serving']]);
      assert.equal(message.pid, process.pid);
    } finally {
      notifier.close();
      manager.close();
    }
  });
}

test('no-op: without a socket every call resolves false', async () => {
  const notifier = new Notifier({ socket: null });
  assert.equal(await notifier.ready(), false);
  assert.equal(notifier.supervised, false);
});

test('failure: a STATUS with a newline is rejected before sending', async () => {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  try {
    await assert.rejects(notifier.status('ok\nREADY=1'), (error) => isNotifyError(error, 'ERR_NOTIFY_INVALID_FIELD'));
    await notifier.status('after');
    await manager.waitFor('STATUS', { value: 'after' });
    assert.equal(manager.messages.length, 1);
  } finally {
    notifier.close();
    manager.close();
  }
});
