// The testing kit must read a datagram exactly as PID 1 does, or a test could pass
// on a message that systemd reads differently. systemd splits on "\n" AND "\r"
// (src/core/manager.c: strv_split(buf, "\n\r")).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, isNotifyError } from '../src/index.js';
import { loadNative } from '../src/native.js';
import { parseNotifySocket } from '../src/env.js';
import { FakeNotifyManager } from '../src/testing/index.js';

test('success: decodeMessage splits on "\\n" and "\\r", skips empty lines and lines without a key', () => {
  assert.deepEqual(decodeMessage('READY=1\nSTATUS=a=b'), [['READY', '1'], ['STATUS', 'a=b']]);
  assert.deepEqual(decodeMessage('STATUS=a\rREADY=1'), [['STATUS', 'a'], ['READY', '1']]);
  assert.deepEqual(decodeMessage('\r\nREADY=1\r\n\n=x\nnoequals\n'), [['READY', '1']]);
});

test('failure: the encoder refuses "\\r" as it refuses "\\n", since PID 1 would read either as a second assignment', () => {
  for (const text of ['a\rREADY=1', 'a\nREADY=1', 'a\r\nREADY=1']) {
    assert.throws(() => encodeMessage({ STATUS: text }), (error: unknown) => isNotifyError(error, 'ERR_NOTIFY_INVALID_FIELD'));
  }
});

test('success: the fake manager reads a raw "\\r" datagram (sent around the encoder) as two assignments, as systemd would', async () => {
  const manager = await FakeNotifyManager.start();
  const native = loadNative();
  const fd = native.socket();
  try {
    assert.ok(fd >= 0);
    assert.ok(native.send(fd, parseNotifySocket(manager.socket)!.address, Buffer.from('STATUS=loading\rREADY=1'), null) > 0);
    const message = await manager.waitFor('READY');
    assert.deepEqual(message.assignments, [['STATUS', 'loading'], ['READY', '1']]);
  } finally {
    native.close(fd);
    manager.close();
  }
});

test('property: no decoded key or value ever contains "\\n" or "\\r", and every key is non-empty (1000 runs)', () => {
  const text = fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('\n', '\r', '=', 'READY=1', '\r\n')), { maxLength: 12 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(text, (datagram) => {
      for (const [key, value] of decodeMessage(datagram)) {
        assert.ok(key.length > 0 && !/[\n\r=]/.test(key), JSON.stringify(key));
        assert.ok(!/[\n\r]/.test(value), JSON.stringify(value));
      }
    }),
    { numRuns: 1000 },
  );
});
