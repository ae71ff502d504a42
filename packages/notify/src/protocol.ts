import { NotifyError } from './errors.js';
import { FDNAME_RULE, isValidFdName } from './fdname.js';

/**
 * The sd_notify wire format: one datagram of `KEY=VALUE` lines (sd_notify(3)).
 * Everything is validated before a byte is sent, because systemd reads a newline
 * inside a value as a second assignment (`STATUS=a\nREADY=1` would declare the
 * service ready) and drops datagrams larger than it reads.
 */

/** systemd reads notification datagrams into a PIPE_BUF-sized buffer. */
export const MAX_DATAGRAM_BYTES = 4096;

/** Tells the manager that start-up (or a reload) is finished. */
export const READY = 'READY';
/** Tells the manager that a reload has begun (needs MONOTONIC_USEC on Type=notify-reload). */
export const RELOADING = 'RELOADING';
/** Tells the manager that shutdown has begun. Wins over READY in one datagram. */
export const STOPPING = 'STOPPING';
/** One line of free text shown by `systemctl status`. */
export const STATUS = 'STATUS';
/** A failure as an errno number. */
export const ERRNO = 'ERRNO';
/** A failure as a D-Bus error name. */
export const BUSERROR = 'BUSERROR';
/** Names another PID as the main PID of the service. */
export const MAINPID = 'MAINPID';
/** `1` to ping the watchdog, `trigger` to ask the manager to act as if it expired. */
export const WATCHDOG = 'WATCHDOG';
/** Changes the watchdog timeout at run time (µs). */
export const WATCHDOG_USEC = 'WATCHDOG_USEC';
/** Extends the current start, runtime or stop timeout to this many µs from now. */
export const EXTEND_TIMEOUT_USEC = 'EXTEND_TIMEOUT_USEC';
/** CLOCK_MONOTONIC in µs, sent with RELOADING=1. */
export const MONOTONIC_USEC = 'MONOTONIC_USEC';
/** Stores the fds sent with the message in the manager's fd store. */
export const FDSTORE = 'FDSTORE';
/** Removes stored fds named by FDNAME from the fd store. */
export const FDSTOREREMOVE = 'FDSTOREREMOVE';
/** Names the fds of a FDSTORE=1 or FDSTOREREMOVE=1 message. */
export const FDNAME = 'FDNAME';
/** `0` keeps the manager from removing a stored fd when it sees POLLHUP/POLLERR. */
export const FDPOLL = 'FDPOLL';
/** Asks the manager to answer once everything sent before is processed. */
export const BARRIER = 'BARRIER';
/** Changes NotifyAccess= at run time (none, main, exec, all). */
export const NOTIFYACCESS = 'NOTIFYACCESS';
/** The exit status the manager should report. */
export const EXIT_STATUS = 'EXIT_STATUS';

export type FieldValue = string | number | bigint | boolean;
/** Fields as an object (insertion order is kept) or as ordered pairs. */
export type NotifyFields =
  | Readonly<Record<string, FieldValue>>
  | ReadonlyArray<readonly [string, FieldValue]>;

type Validator = (value: string, key: string) => void;

const unsigned = /^(0|[1-9][0-9]*)$/;
const U64_MAX = 2n ** 64n - 1n;

function invalid(key: string, value: string, why: string): never {
  throw new NotifyError('ERR_NOTIFY_INVALID_FIELD', `${key}=${JSON.stringify(value)} is invalid: ${why}.`);
}

const exactly = (...allowed: string[]): Validator => (value, key) => {
  if (!allowed.includes(value)) invalid(key, value, `expected ${allowed.map((a) => JSON.stringify(a)).join(' or ')}`);
};

const integer = (min: bigint, max: bigint): Validator => (value, key) => {
  if (!unsigned.test(value)) invalid(key, value, 'expected a non-negative decimal integer');
  const number = BigInt(value);
  if (number < min || number > max) invalid(key, value, `expected ${min} to ${max}`);
};

const text: Validator = () => {};

const busErrorName: Validator = (value, key) => {
  if (value.length > 255 || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(value)) {
    invalid(key, value, 'expected a D-Bus error name such as "org.freedesktop.DBus.Error.Failed"');
  }
};

const fdName: Validator = (value, key) => {
  if (!isValidFdName(value)) {
    invalid(key, value, `expected ${FDNAME_RULE}`);
  }
};

const validators: Record<string, Validator> = {
  [READY]: exactly('1'),
  [RELOADING]: exactly('1'),
  [STOPPING]: exactly('1'),
  [STATUS]: text,
  [ERRNO]: integer(0n, 2n ** 31n - 1n),
  [BUSERROR]: busErrorName,
  [MAINPID]: integer(1n, 2n ** 31n - 1n),
  [WATCHDOG]: exactly('1', 'trigger'),
  [WATCHDOG_USEC]: integer(1n, U64_MAX - 1n),
  [EXTEND_TIMEOUT_USEC]: integer(0n, U64_MAX - 1n),
  [MONOTONIC_USEC]: integer(0n, U64_MAX - 1n),
  [FDSTORE]: exactly('1'),
  [FDSTOREREMOVE]: exactly('1'),
  [FDNAME]: fdName,
  [FDPOLL]: exactly('0'),
  [BARRIER]: exactly('1'),
  [NOTIFYACCESS]: exactly('none', 'main', 'exec', 'all'),
  [EXIT_STATUS]: integer(0n, 255n),
};

/** Keys systemd defines; anything else must be a private `X_` key. */
export const KNOWN_KEYS: readonly string[] = Object.freeze(Object.keys(validators));

function valueToString(key: string, value: FieldValue): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? '1' : '0';
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw new NotifyError('ERR_NOTIFY_INVALID_FIELD', `${key}=${value} is invalid: numbers must be safe integers.`);
      }
      return String(value);
    default:
      throw new NotifyError('ERR_NOTIFY_INVALID_FIELD', `${key} has a value of type ${typeof value}; expected a string, number, bigint or boolean.`);
  }
}

function toPairs(fields: NotifyFields): Array<readonly [string, FieldValue]> {
  if (Array.isArray(fields)) return fields as Array<readonly [string, FieldValue]>;
  if (fields === null || typeof fields !== 'object') {
    throw new NotifyError('ERR_NOTIFY_INVALID_FIELD', `Fields must be an object or an array of [key, value] pairs, got ${fields === null ? 'null' : typeof fields}.`);
  }
  return Object.entries(fields);
}

/** Validates one assignment and returns its value as sent. */
export function validateField(key: string, value: FieldValue): string {
  if (typeof key !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(key)) {
    throw new NotifyError('ERR_NOTIFY_INVALID_FIELD', `Field name ${JSON.stringify(key)} is invalid: expected upper-case letters, digits and "_".`);
  }
  const validator = validators[key];
  if (validator === undefined && !key.startsWith('X_')) {
    throw new NotifyError('ERR_NOTIFY_INVALID_FIELD', `Field name ${key} is not an sd_notify assignment; private fields must start with "X_".`);
  }
  const string = valueToString(key, value);
  if (/[\n\0]/.test(string)) {
    invalid(key, string, 'a value may not contain a newline or NUL byte, or systemd would read it as another assignment');
  }
  if (string.includes('\r')) invalid(key, string, 'a value may not contain a carriage return');
  if (!string.isWellFormed()) invalid(key, string, 'a value must be well-formed Unicode');
  validator?.(string, key);
  return string;
}

/** A validated message: the ordered assignments and the datagram that carries them. */
export interface EncodedMessage {
  readonly assignments: ReadonlyArray<readonly [string, string]>;
  readonly datagram: Buffer;
}

/**
 * Validates fields (and the fds that go with them) and encodes one datagram.
 * Throws a NotifyError and sends nothing when anything is off.
 */
export function encodeMessage(fields: NotifyFields, fdCount = 0): EncodedMessage {
  const assignments: Array<readonly [string, string]> = [];
  const seen = new Set<string>();
  for (const pair of toPairs(fields)) {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new NotifyError('ERR_NOTIFY_INVALID_FIELD', 'Each field pair must be a [key, value] array of length 2.');
    }
    const [key, value] = pair;
    const string = validateField(key, value);
    if (seen.has(key)) {
      throw new NotifyError('ERR_NOTIFY_INVALID_FIELD', `Field ${key} appears twice in one message; systemd would keep only one of them.`);
    }
    seen.add(key);
    assignments.push([key, string]);
  }
  if (assignments.length === 0) {
    throw new NotifyError('ERR_NOTIFY_INVALID_FIELD', 'A notification needs at least one field.');
  }
  checkFdRules(seen, assignments.length, fdCount);
  const datagram = Buffer.from(assignments.map(([key, value]) => `${key}=${value}`).join('\n'), 'utf8');
  if (datagram.length > MAX_DATAGRAM_BYTES) {
    throw new NotifyError(
      'ERR_NOTIFY_MESSAGE_TOO_LARGE',
      `The message is ${datagram.length} bytes; systemd reads at most ${MAX_DATAGRAM_BYTES} (shorten STATUS= or split the message).`,
    );
  }
  return { assignments, datagram };
}

function checkFdRules(keys: Set<string>, count: number, fdCount: number): void {
  const fail = (message: string): never => {
    throw new NotifyError('ERR_NOTIFY_INVALID_FDS', message);
  };
  if (keys.has(BARRIER)) {
    if (count !== 1) fail('BARRIER=1 must be sent alone, without other fields.');
    if (fdCount !== 1) fail(`BARRIER=1 must carry exactly one fd (the write end of a pipe), got ${fdCount}.`);
    return;
  }
  if (keys.has(FDSTORE) && fdCount === 0) fail('FDSTORE=1 needs at least one fd to store.');
  if (!keys.has(FDSTORE) && fdCount > 0) fail('Fds can only be sent with FDSTORE=1 or BARRIER=1; systemd would close them.');
  if (keys.has(FDSTOREREMOVE) && !keys.has(FDNAME)) fail('FDSTOREREMOVE=1 needs FDNAME= to say which fds to remove.');
  if (keys.has(FDPOLL) && !keys.has(FDSTORE)) fail('FDPOLL=0 only applies to a FDSTORE=1 message.');
}

/**
 * Parses a datagram the way systemd does: lines separated by "\n" or "\r" (PID 1
 * splits on both, `strv_split(buf, "\n\r")`), each split at its first "=". Empty
 * lines are skipped. Used by the testing kit.
 */
export function decodeMessage(datagram: Buffer | string): Array<[string, string]> {
  const text = typeof datagram === 'string' ? datagram : datagram.toString('utf8');
  const result: Array<[string, string]> = [];
  for (const line of text.split(/[\n\r]/)) {
    if (line === '') continue;
    const at = line.indexOf('=');
    if (at <= 0) continue;
    result.push([line.slice(0, at), line.slice(at + 1)]);
  }
  return result;
}

/** Replaces line breaks and control characters so free text fits in one STATUS= line. */
export function toStatusLine(text: string, maxBytes = 1024): string {
  const line = String(text).replace(/[\x00-\x1f\x7f]+/g, ' ').trim().toWellFormed();
  if (Buffer.byteLength(line) <= maxBytes) return line;
  // Cut on a byte budget, drop a split UTF-8 sequence, and mark the cut (3 bytes) if it fits.
  const mark = maxBytes >= 3 ? '…' : '';
  const cut = Buffer.from(line).subarray(0, Math.max(0, maxBytes - Buffer.byteLength(mark))).toString('utf8');
  return `${cut.replace(/\uFFFD$/, '')}${mark}`;
}
