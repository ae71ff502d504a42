// Properties across module boundaries (the parsers and the encoder have their own
// property tests in env.test.ts and protocol.test.ts): the documented helper for free
// text always yields a sendable STATUS=, every address the parser accepts is one the
// addon takes, and what the encoder accepts arrives at a real socket unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Notifier, encodeMessage, isNotifyError, parseNotifySocket, toStatusLine, type FieldValue } from '../src/index.js';
import { loadNative } from '../src/native.js';
import { FakeNotifyManager } from '../src/testing/index.js';

const RUNS = { numRuns: 1000 };

test('property: toStatusLine(any text, any budget) is one line within the budget that STATUS= carries unchanged (1000 runs)', () => {
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 300 }),
    fc.array(fc.constantFrom('a', 'é', '€', '😀', '\n', '\r', '\0', '\t', '\x7f', ' ', '\uD800'), { maxLength: 2000 }).map((parts) => parts.join('')),
  );
  fc.assert(
    fc.property(text, fc.integer({ min: 0, max: 4089 }), (input, maxBytes) => {
      const line = toStatusLine(input, maxBytes);
      assert.ok(Buffer.byteLength(line) <= maxBytes, `${Buffer.byteLength(line)} bytes > ${maxBytes}`);
      assert.doesNotMatch(line, /[\x00-\x1f\x7f]/);
      assert.ok(line.isWellFormed());
      // STATUS= plus the line fits a datagram for every budget up to 4089 (4096 - "STATUS=").
      const { assignments } = encodeMessage([['STATUS', line]]);
      assert.deepEqual(assignments, [['STATUS', line]]);
    }),
    RUNS,
  );
});

test('property: every NOTIFY_SOCKET the parser accepts is an address the addon takes (connect returns 0 or -errno, never throws) (1000 runs)', () => {
  const native = loadNative();
  const fd = native.socket();
  assert.ok(fd >= 0);
  try {
    const value = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 120 }).map((s) => `/${s}`),
      fc.string({ unit: 'binary', maxLength: 120 }).map((s) => `@${s}`),
      fc.string({ unit: 'binary', maxLength: 120 }),
    );
    let accepted = 0;
    fc.assert(
      fc.property(value, (candidate) => {
        let address;
        try {
          address = parseNotifySocket(candidate);
        } catch (error) {
          assert.ok(isNotifyError(error), String(error));
          return;
        }
        accepted++;
        const result = native.connect(fd, address!.address);
        assert.ok(Number.isInteger(result) && result <= 0, `connect returned ${result}`);
      }),
      RUNS,
    );
    assert.ok(accepted > 300, `${accepted} of 1000 candidates were valid addresses`);
  } finally {
    native.close(fd);
  }
});

// Valid messages only (the encoder's own property covers the invalid ones).
const validPair = fc.oneof(
  fc.constant<[string, FieldValue]>(['READY', '1']),
  fc.string({ unit: 'grapheme', maxLength: 80 }).map((s): [string, FieldValue] => ['STATUS', toStatusLine(s)]),
  fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((n): [string, FieldValue] => ['ERRNO', n]),
  fc.integer({ min: 1, max: 2 ** 31 - 1 }).map((n): [string, FieldValue] => ['MAINPID', n]),
  fc.constantFrom<[string, FieldValue]>(['WATCHDOG', '1'], ['WATCHDOG', 'trigger'], ['NOTIFYACCESS', 'main'], ['STOPPING', true]),
  fc.bigInt({ min: 1n, max: 2n ** 64n - 2n }).map((n): [string, FieldValue] => ['WATCHDOG_USEC', n]),
  fc.integer({ min: 0, max: 255 }).map((n): [string, FieldValue] => ['EXIT_STATUS', n]),
  fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !/[\n\r\0]/.test(s) && s.isWellFormed()).map((s): [string, FieldValue] => ['X_APP', s]),
);
const asSent = (value: FieldValue): string => (typeof value === 'boolean' ? (value ? '1' : '0') : String(value));

for (const abstract of [false, true]) {
  test(`property: any valid message reaches a real ${abstract ? 'abstract' : 'path'} socket as exactly its assignments, from this PID (1000 runs)`, async () => {
    const manager = await FakeNotifyManager.start({ abstract, paused: true });
    const notifier = new Notifier({ socket: manager.socket });
    try {
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(validPair, { minLength: 1, maxLength: 6, selector: ([key]) => key }), async (pairs) => {
          assert.equal(await notifier.notify(pairs), true);
          manager.drainQueue();
          const message = manager.messages.pop()!;
          assert.deepEqual(message.assignments, pairs.map(([key, value]) => [key, asSent(value)]));
          assert.equal(message.pid, process.pid);
          assert.equal(manager.messages.length, 0);
        }),
        RUNS,
      );
    } finally {
      notifier.close();
      manager.close();
    }
  });
}
