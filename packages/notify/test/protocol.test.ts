import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, isNotifyError, toStatusLine, type FieldValue } from '../src/index.js';
import { KNOWN_KEYS, MAX_DATAGRAM_BYTES } from '../src/protocol.js';

const rejects = (code: string) => (error: unknown) => isNotifyError(error) && error.code === code;

test('success: fields as ordered pairs or an object encode to KEY=VALUE lines in order', () => {
  const pairs = encodeMessage([['READY', '1'], ['STATUS', 'up: 3 workers'], ['X_BUILD', 42]]);
  assert.equal(pairs.datagram.toString(), 'READY=1\nSTATUS=up: 3 workers\nX_BUILD=42');
  const object = encodeMessage({ STOPPING: true, STATUS: 'bye' });
  assert.equal(object.datagram.toString(), 'STOPPING=1\nSTATUS=bye');
  assert.equal(encodeMessage({ WATCHDOG_USEC: 10n ** 12n }).datagram.toString(), 'WATCHDOG_USEC=1000000000000');
});

test('failure: a STATUS with a newline is rejected, never sent as a second assignment', () => {
  assert.throws(() => encodeMessage({ STATUS: 'loading\nREADY=1' }), rejects('ERR_NOTIFY_INVALID_FIELD'));
  assert.throws(() => encodeMessage({ STATUS: 'a\rb' }), rejects('ERR_NOTIFY_INVALID_FIELD'));
  assert.throws(() => encodeMessage({ STATUS: 'a\0b' }), rejects('ERR_NOTIFY_INVALID_FIELD'));
  // The documented way out for free text: toStatusLine() flattens it.
  assert.equal(toStatusLine('loading\nREADY=1'), 'loading READY=1');
});

test('failure: an oversized message is rejected with ERR_NOTIFY_MESSAGE_TOO_LARGE', () => {
  const fits = 'x'.repeat(MAX_DATAGRAM_BYTES - 'STATUS='.length);
  assert.equal(encodeMessage({ STATUS: fits }).datagram.length, MAX_DATAGRAM_BYTES);
  assert.throws(() => encodeMessage({ STATUS: `${fits}x` }), rejects('ERR_NOTIFY_MESSAGE_TOO_LARGE'));
  assert.throws(() => encodeMessage({ STATUS: 'é'.repeat(2048) }), rejects('ERR_NOTIFY_MESSAGE_TOO_LARGE'), 'counted in bytes, not characters');
});

test('failure: FDNAME with ":" (or control characters, or over 255) is rejected', () => {
  assert.throws(() => encodeMessage({ FDSTORE: 1, FDNAME: 'a:b' }, 1), rejects('ERR_NOTIFY_INVALID_FIELD'));
  assert.throws(() => encodeMessage({ FDSTORE: 1, FDNAME: 'a\tb' }, 1), rejects('ERR_NOTIFY_INVALID_FIELD'));
  assert.throws(() => encodeMessage({ FDSTORE: 1, FDNAME: 'x'.repeat(256) }, 1), rejects('ERR_NOTIFY_INVALID_FIELD'));
  assert.equal(encodeMessage({ FDSTORE: 1, FDNAME: 'x'.repeat(255) }, 1).assignments[1]![1].length, 255);
});

test('failure: fd rules (BARRIER alone with one fd, FDSTORE needs fds, fds only with FDSTORE/BARRIER)', () => {
  assert.doesNotThrow(() => encodeMessage({ BARRIER: 1 }, 1));
  assert.throws(() => encodeMessage({ BARRIER: 1 }, 0), rejects('ERR_NOTIFY_INVALID_FDS'));
  assert.throws(() => encodeMessage({ BARRIER: 1 }, 2), rejects('ERR_NOTIFY_INVALID_FDS'));
  assert.throws(() => encodeMessage({ BARRIER: 1, STATUS: 'x' }, 1), rejects('ERR_NOTIFY_INVALID_FDS'));
  assert.throws(() => encodeMessage({ FDSTORE: 1, FDNAME: 'x' }, 0), rejects('ERR_NOTIFY_INVALID_FDS'));
  assert.throws(() => encodeMessage({ READY: 1 }, 1), rejects('ERR_NOTIFY_INVALID_FDS'));
  assert.throws(() => encodeMessage({ FDSTOREREMOVE: 1 }), rejects('ERR_NOTIFY_INVALID_FDS'));
  assert.throws(() => encodeMessage({ FDPOLL: 0, READY: 1 }), rejects('ERR_NOTIFY_INVALID_FDS'));
});

test('failure: unknown keys, bad values, duplicates and empty messages are typed errors', () => {
  for (const fields of [{ HELLO: '1' }, { ready: '1' }, { READY: '2' }, { ERRNO: -1 }, { MAINPID: 0 }, { EXIT_STATUS: 256 }, { WATCHDOG: 'yes' },
    { NOTIFYACCESS: 'everyone' }, { BUSERROR: 'not a name' }, { WATCHDOG_USEC: 0 }, { ERRNO: 1.5 }, {}] as Array<Record<string, FieldValue>>) {
    assert.throws(() => encodeMessage(fields), rejects('ERR_NOTIFY_INVALID_FIELD'), JSON.stringify(fields));
  }
  assert.throws(() => encodeMessage([['STATUS', 'a'], ['STATUS', 'b']]), rejects('ERR_NOTIFY_INVALID_FIELD'));
  assert.throws(() => encodeMessage(null as never), rejects('ERR_NOTIFY_INVALID_FIELD'));
  assert.throws(() => encodeMessage([['READY']] as never), rejects('ERR_NOTIFY_INVALID_FIELD'));
});

// Mostly plausible assignments (so many messages are valid and round-trip), mixed
// with arbitrary keys and values (so the error paths are hit too).
const plausible: Record<string, fc.Arbitrary<FieldValue>> = {
  READY: fc.constantFrom('1', 1, true),
  STATUS: fc.string({ unit: 'binary', maxLength: 60 }),
  ERRNO: fc.integer({ min: 0, max: 200 }),
  MAINPID: fc.integer({ min: 1, max: 2 ** 22 }),
  WATCHDOG: fc.constantFrom('1', 'trigger'),
  WATCHDOG_USEC: fc.bigInt({ min: 1n, max: 2n ** 64n }),
  EXTEND_TIMEOUT_USEC: fc.bigInt({ min: 0n, max: 2n ** 64n }),
  NOTIFYACCESS: fc.constantFrom('none', 'main', 'exec', 'all', 'some'),
  EXIT_STATUS: fc.integer({ min: 0, max: 300 }),
  BUSERROR: fc.constantFrom('org.example.Error.Failed', 'Failed', 'a.b'),
  X_CUSTOM: fc.string({ unit: 'grapheme', maxLength: 30 }),
};
const plausiblePair = fc.constantFrom(...Object.keys(plausible)).chain((key) => plausible[key]!.map((value) => [key, value] as [string, FieldValue]));
const anyPair = fc.tuple(
  fc.oneof(fc.constantFrom(...KNOWN_KEYS), fc.string({ maxLength: 12 }).map((s) => `X_${s}`), fc.string({ maxLength: 12 })),
  fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom<FieldValue>('1', '0', 'trigger', 'main', 'http', 'a\nREADY=1', 'x=y'),
    fc.integer({ min: -3, max: 2 ** 32 }),
    fc.double(),
    fc.bigInt({ min: -1n, max: 2n ** 65n }),
    fc.boolean(),
    fc.string({ minLength: 4000, maxLength: 4100 }),
  ) as fc.Arbitrary<FieldValue>,
);
const pairArb = fc.oneof({ arbitrary: plausiblePair, weight: 6 }, { arbitrary: anyPair, weight: 1 });
const expectedString = (value: FieldValue): string => (typeof value === 'boolean' ? (value ? '1' : '0') : String(value));

test('property: encodeMessage yields exactly the assignments asked for, or a NotifyError (1000 runs)', () => {
  let encodedCount = 0;
  fc.assert(
    fc.property(fc.array(pairArb, { maxLength: 5 }), fc.oneof({ arbitrary: fc.constant(0), weight: 8 }, { arbitrary: fc.integer({ min: 1, max: 2 }), weight: 1 }), (pairs, fdCount) => {
      let encoded;
      try {
        encoded = encodeMessage(pairs, fdCount);
      } catch (error) {
        assert.ok(isNotifyError(error), `not a NotifyError: ${String(error)}`);
        return;
      }
      const asked = pairs.map(([key, value]) => [key, expectedString(value)]);
      // What systemd would read from the datagram is what was asked for, nothing more.
      assert.deepEqual(decodeMessage(encoded.datagram), asked);
      assert.deepEqual(encoded.assignments, asked);
      assert.ok(encoded.datagram.length <= MAX_DATAGRAM_BYTES);
      encodedCount++;
    }),
    { numRuns: 1000 },
  );
  // The generator must reach both outcomes, or the property proves little.
  assert.ok(encodedCount > 100 && encodedCount < 1000, `${encodedCount} of 1000 messages were valid`);
});

test('property: any STATUS text either round-trips as one assignment or is rejected (1000 runs)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
      try {
        const { datagram } = encodeMessage([['READY', '1'], ['STATUS', text]]);
        assert.deepEqual(decodeMessage(datagram), [['READY', '1'], ['STATUS', text]]);
      } catch (error) {
        assert.ok(isNotifyError(error, 'ERR_NOTIFY_INVALID_FIELD'));
        assert.match(text, /[\n\r\0]|[\uD800-\uDFFF]/);
      }
    }),
    { numRuns: 1000 },
  );
});
