// The native journal protocol encoder against a decoder written from the protocol
// description (src/testing/journal-decode.ts), on every rule, with properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeJournalEntry, escapeFieldName, isNotifyError, isValidFieldName, type JournalFields } from '../src/index.js';
import { MAX_JOURNAL_FIELDS } from '../src/journal/fields.js';
import { decodeJournalEntry } from '../src/testing/index.js';

const RUNS = { numRuns: 1000 };
const validName = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,63}$/);
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.array(fc.constantFrom('a', 'é', '€', '😀', '\n', '\r', '\0', '=', '\t', ' '), { maxLength: 300 }).map((parts) => parts.join('')),
);
const bytes = fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array));
const value = fc.oneof(text, bytes, fc.integer(), fc.bigInt());
const entry = fc.dictionary(validName, fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 4 })), { minKeys: 1, maxKeys: 30 });

/** What a receiver must see: every value in order, as bytes. */
function expected(fields: JournalFields): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const [name, v] of Object.entries(fields)) {
    for (const item of Array.isArray(v) ? v : [v]) out.push([name, Buffer.isBuffer(item) ? item : Buffer.from(String(item), 'utf8')]);
  }
  return out;
}

test('property: any entry the encoder accepts decodes to exactly the fields given, in order, repeats kept', () => {
  fc.assert(
    fc.property(entry, (fields) => {
      assert.deepEqual(decodeJournalEntry(encodeJournalEntry(fields)), expected(fields));
    }),
    RUNS,
  );
});

test('property: a value with a newline, and any Buffer, takes the binary-safe form; other text the NAME=value form', () => {
  fc.assert(
    fc.property(validName, fc.oneof(text, bytes), (name, v) => {
      const data = encodeJournalEntry({ [name]: v });
      const binary = Buffer.isBuffer(v) || v.includes('\n');
      if (binary) {
        const length = Buffer.isBuffer(v) ? v.length : Buffer.byteLength(v);
        assert.equal(data.toString('latin1', 0, name.length + 1), `${name}\n`);
        assert.equal(data.readBigUInt64LE(name.length + 1), BigInt(length));
        assert.equal(data.length, name.length + 1 + 8 + length + 1);
        assert.equal(data.at(-1), 0x0a);
      } else {
        assert.deepEqual(data, Buffer.from(`${name}=${v}\n`, 'utf8'));
      }
    }),
    RUNS,
  );
});

test('property: any name outside [A-Z0-9_], longer than 64, with a leading digit or "_" is ERR_NOTIFY_INVALID_FIELD', () => {
  const invalid = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.stringMatching(/^[0-9_][A-Z0-9_]{0,30}$/),
    fc.stringMatching(/^[A-Z][A-Z0-9_]{64,80}$/),
  ).filter((name) => !/^[A-Z][A-Z0-9_]{0,63}$/.test(name));
  fc.assert(
    fc.property(invalid, value, (name, v) => {
      assert.equal(isValidFieldName(name), false);
      assert.throws(() => encodeJournalEntry({ MESSAGE: 'x', [name]: v }), (error) => isNotifyError(error, 'ERR_NOTIFY_INVALID_FIELD') && error.message.includes(JSON.stringify(name)));
    }),
    RUNS,
  );
});

test('property: a value that is not text, bytes or a number is ERR_NOTIFY_INVALID_FIELD, alone or inside an array', () => {
  const bad = fc.oneof(fc.constant(null), fc.boolean(), fc.object(), fc.constant(Symbol('s')), fc.constant(() => 1), fc.constantFrom(Number.NaN, Infinity, -Infinity), fc.constant('lone \uD800 surrogate'));
  fc.assert(
    fc.property(validName, bad, fc.boolean(), (name, v, inArray) => {
      assert.throws(() => encodeJournalEntry({ [name]: (inArray ? ['ok', v] : v) as never }), (error) => isNotifyError(error, 'ERR_NOTIFY_INVALID_FIELD'));
    }),
    RUNS,
  );
});

test('property: escapeFieldName gives a valid name for any key, leaves valid names alone, and maps camelCase to snake case', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (key) => {
      const name = escapeFieldName(key);
      assert.ok(isValidFieldName(name), `${JSON.stringify(key)} → ${JSON.stringify(name)}`);
      if (isValidFieldName(key)) assert.equal(name, key);
    }),
    RUNS,
  );
  assert.equal(escapeFieldName('reqId'), 'REQ_ID');
  assert.equal(escapeFieldName('req.method'), 'REQ_METHOD');
  assert.equal(escapeFieldName('_private'), 'X__PRIVATE');
  assert.equal(escapeFieldName('2fa'), 'X_2FA');
  assert.equal(escapeFieldName(''), 'X_');
});

test('failure: more than 1024 fields (repeats counted) is ERR_NOTIFY_MESSAGE_TOO_LARGE; 1024 is fine', () => {
  const many = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i));
  assert.equal(decodeJournalEntry(encodeJournalEntry({ MESSAGE: 'm', N: many(MAX_JOURNAL_FIELDS - 1) })).length, MAX_JOURNAL_FIELDS);
  assert.throws(() => encodeJournalEntry({ MESSAGE: 'm', N: many(MAX_JOURNAL_FIELDS) }), (error) => isNotifyError(error, 'ERR_NOTIFY_MESSAGE_TOO_LARGE'));
});

test('failure: an entry with no field is ERR_NOTIFY_INVALID_FIELD (an empty datagram means "read the fd"); undefined values are left out', () => {
  assert.throws(() => encodeJournalEntry({}), (error) => isNotifyError(error, 'ERR_NOTIFY_INVALID_FIELD'));
  assert.throws(() => encodeJournalEntry({ MESSAGE: undefined }), (error) => isNotifyError(error, 'ERR_NOTIFY_INVALID_FIELD'));
  assert.deepEqual(encodeJournalEntry({ MESSAGE: 'hi', SKIPPED: undefined, PRIORITY: 6 }).toString(), 'MESSAGE=hi\nPRIORITY=6\n');
});
