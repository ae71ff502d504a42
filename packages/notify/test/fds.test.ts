// Fds handed to notify() reach the kernel as C ints: anything that is not one must be
// refused before a byte is sent, or the manager would receive some other fd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Notifier, isNotifyError } from '../src/index.js';
import { FakeNotifyManager } from '../src/testing/index.js';
import { sleep } from './helpers.js';

for (const [label, fds] of [
  ['2 ** 32 + 1 (whose low 32 bits are fd 1, stdout)', [2 ** 32 + 1]],
  ['2 ** 31 (one past the largest int)', [2 ** 31]],
  ['a string', ['3']],
  ['NaN', [Number.NaN]],
  ['not an array', 3],
] as const) {
  test(`failure: an fd that is ${label} is ERR_NOTIFY_INVALID_FDS and nothing reaches the manager`, async () => {
    const manager = await FakeNotifyManager.start();
    const notifier = new Notifier({ socket: manager.socket });
    try {
      await assert.rejects(notifier.notify({ FDSTORE: 1, FDNAME: 'x' }, { fds: fds as unknown as number[] }), (error: unknown) => isNotifyError(error, 'ERR_NOTIFY_INVALID_FDS'));
      await sleep(20);
      manager.drainQueue();
      assert.equal(manager.messages.length, 0);
    } finally {
      notifier.close();
      manager.close();
    }
  });
}

test('success: the largest int is still accepted as an fd number (the kernel then says EBADF)', async () => {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  try {
    await assert.rejects(notifier.notify({ FDSTORE: 1, FDNAME: 'x' }, { fds: [2 ** 31 - 1] }), (error: unknown) => isNotifyError(error, 'ERR_NOTIFY_SEND_FAILED') && error.syscallCode === 'EBADF');
  } finally {
    notifier.close();
    manager.close();
  }
});
