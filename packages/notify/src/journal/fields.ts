import { NotifyError } from '../errors.js';

/** One value of a journal field: text (UTF-8) or raw bytes. */
export type JournalValue = string | Buffer | Uint8Array;

/**
 * The fields of one journal entry. An array repeats the field (journald keeps
 * every value); `undefined` leaves the field out. Numbers and bigints are written
 * in decimal, for PRIORITY and the like.
 */
export type JournalFields = Readonly<Record<string, JournalValue | number | bigint | undefined | readonly (JournalValue | number | bigint)[]>>;

/** journald reads at most this many fields of one entry (ENTRY_FIELD_COUNT_MAX). */
export const MAX_JOURNAL_FIELDS = 1024;
/** journald's longest field name, in bytes. */
export const MAX_FIELD_NAME_LENGTH = 64;

// Uppercase letters, digits and '_'; the first a letter: a leading digit is invalid
// and a leading '_' marks the trusted fields journald adds itself (it drops ours).
const VALID_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;

/** True when journald accepts `name` as a field a client may send. */
export function isValidFieldName(name: string): boolean {
  return VALID_NAME.test(name);
}

/** Throws ERR_NOTIFY_INVALID_FIELD for a name journald would silently drop. */
export function assertFieldName(name: string): void {
  if (VALID_NAME.test(name)) return;
  let reason: string;
  if (name.length === 0) reason = 'it is empty';
  else if (name.length > MAX_FIELD_NAME_LENGTH) reason = `it is longer than ${MAX_FIELD_NAME_LENGTH} bytes`;
  else if (name.startsWith('_')) reason = 'a leading "_" marks a trusted field journald sets itself';
  else if (/^[0-9]/.test(name)) reason = 'it starts with a digit';
  else reason = 'only A-Z, 0-9 and "_" are allowed';
  throw new NotifyError(
    'ERR_NOTIFY_INVALID_FIELD',
    `Invalid journal field name ${JSON.stringify(name)}: ${reason}. Use escapeFieldName() for names that come from data.`,
  );
}

/** The prefix escapeFieldName() puts before a name that starts with a digit or "_". */
export const ESCAPED_NAME_PREFIX = 'X_';

/**
 * Turns any key into a valid journal field name, for loggers whose keys come from
 * data: a camelCase boundary gets a "_" (`reqId` gives REQ_ID, as `req_id` does),
 * letters are uppercased, every other character outside [A-Z0-9_] becomes "_", a
 * name that would start with a digit or "_" gets the prefix "X_", and the result
 * is cut to 64 bytes. An empty key becomes "X_".
 */
export function escapeFieldName(key: string): string {
  if (VALID_NAME.test(key)) return key;
  let name = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  if (!/^[A-Z]/.test(name)) name = ESCAPED_NAME_PREFIX + name;
  return name.length > MAX_FIELD_NAME_LENGTH ? name.slice(0, MAX_FIELD_NAME_LENGTH) : name;
}
