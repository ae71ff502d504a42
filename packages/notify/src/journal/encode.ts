import { NotifyError } from '../errors.js';
import { assertFieldName, MAX_JOURNAL_FIELDS, type JournalFields } from './fields.js';

/**
 * Encodes one entry of journald's native protocol: each field is either
 * `NAME=value\n`, or, when the value holds a newline or is raw bytes,
 * `NAME\n` + the length as a 64-bit little-endian integer + the bytes + `\n`.
 * Repeated names are legal and kept in order.
 *
 * Throws ERR_NOTIFY_INVALID_FIELD for a bad name or value, and
 * ERR_NOTIFY_MESSAGE_TOO_LARGE for more than 1024 fields (journald would drop the
 * entry without a word).
 */
export function encodeJournalEntry(fields: JournalFields): Buffer {
  // Text-only entries (the common case) are built as one string and encoded once.
  let text = '';
  let parts: Buffer[] | undefined;
  let count = 0;
  const flushText = (): void => {
    if (text.length > 0) (parts ??= []).push(Buffer.from(text, 'utf8'));
    text = '';
  };
  const add = (name: string, value: unknown): void => {
    if (++count > MAX_JOURNAL_FIELDS) {
      throw new NotifyError('ERR_NOTIFY_MESSAGE_TOO_LARGE', `A journal entry holds at most ${MAX_JOURNAL_FIELDS} fields; journald drops larger ones.`);
    }
    if (typeof value === 'string') {
      if (!value.isWellFormed()) {
        throw new NotifyError('ERR_NOTIFY_INVALID_FIELD', `Journal field ${name} holds a lone UTF-16 surrogate, which UTF-8 cannot carry; pass a Buffer for raw bytes.`);
      }
      if (!value.includes('\n')) {
        text += `${name}=${value}\n`;
        return;
      }
      flushText();
      pushBinary((parts ??= []), name, Buffer.from(value, 'utf8'));
      return;
    }
    if (typeof value === 'number' || typeof value === 'bigint') {
      if (typeof value === 'number' && !Number.isFinite(value)) {
        throw new NotifyError('ERR_NOTIFY_INVALID_FIELD', `Journal field ${name} is ${value}; numbers must be finite.`);
      }
      text += `${name}=${value}\n`;
      return;
    }
    if (value instanceof Uint8Array) {
      flushText();
      pushBinary((parts ??= []), name, value);
      return;
    }
    throw new NotifyError('ERR_NOTIFY_INVALID_FIELD', `Journal field ${name} must be a string, Buffer, number or bigint (or an array of them), not ${describe(value)}.`);
  };
  for (const name in fields) {
    const value = fields[name];
    if (value === undefined) continue;
    assertFieldName(name);
    if (Array.isArray(value)) {
      for (const item of value as unknown[]) add(name, item);
    } else {
      add(name, value);
    }
  }
  if (count === 0) {
    // An empty datagram means "the entry is in the attached fd" to journald.
    throw new NotifyError('ERR_NOTIFY_INVALID_FIELD', 'A journal entry needs at least one field (MESSAGE, usually).');
  }
  if (parts === undefined) return Buffer.from(text, 'utf8');
  flushText();
  return Buffer.concat(parts);
}

function pushBinary(parts: Buffer[], name: string, bytes: Uint8Array): void {
  const head = Buffer.allocUnsafe(name.length + 9);
  head.write(name, 0, 'latin1');
  head[name.length] = 0x0a;
  head.writeBigUInt64LE(BigInt(bytes.length), name.length + 1);
  parts.push(head, bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), NEWLINE);
}

const NEWLINE = Buffer.from('\n');

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `a ${typeof value}`;
}
