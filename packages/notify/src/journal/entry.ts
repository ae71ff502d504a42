import { constants } from 'node:os';
import { escapeFieldName, type JournalValue } from './fields.js';

/** Fields being gathered for one entry; a name met twice keeps both values. */
export type EntryFields = Record<string, JournalValue | JournalValue[]>;

/** How deep nested objects are flattened into `PARENT_CHILD` names before the rest is kept as JSON. */
export const DEFAULT_FLATTEN_DEPTH = 3;

// The names the entry itself is built from; a record key that escapes to one of
// them gets the "X_" prefix so it cannot pose as the message or the priority.
const RESERVED = new Set(['MESSAGE', 'PRIORITY', 'SYSLOG_IDENTIFIER', 'SYSLOG_PID', 'SYSLOG_FACILITY', 'ERRNO', 'CODE_FILE', 'CODE_LINE', 'CODE_FUNC']);

export interface LogEntryOptions {
  /** SYSLOG_IDENTIFIER. */
  identifier: string;
  /** Levels of nesting flattened with "_"; deeper values are kept as JSON text. */
  depth?: number;
  /** Fields added to every entry (names already valid). */
  fields?: Readonly<Record<string, string>> | undefined;
  /** Record keys to leave out (a logger's own: its level, time, message key). */
  omit?: ReadonlySet<string> | undefined;
}

const pid = String(process.pid);

/**
 * One log entry from a message, a priority and a logger's record of extra fields.
 * Record keys become escaped journal fields (`reqId` → REQ_ID; nested objects are
 * flattened with "_": `{ req: { method } }` → REQ_METHOD, down to `depth` levels,
 * below which a value is stored as JSON). An error in `err` or `error` keeps its
 * whole stack in MESSAGE (one entry, not one per line) and gives ERRNO when it
 * carries one; its other properties become ERR_* fields.
 */
export function logEntry(message: string, priority: number, record: Readonly<Record<string, unknown>> | undefined, options: LogEntryOptions): EntryFields {
  const entry: EntryFields = { MESSAGE: message, PRIORITY: String(priority), SYSLOG_IDENTIFIER: options.identifier, SYSLOG_PID: pid };
  if (options.fields) Object.assign(entry, options.fields);
  if (record === undefined) return entry;
  const depth = options.depth ?? DEFAULT_FLATTEN_DEPTH;
  const omit = options.omit;
  for (const key in record) {
    if (omit?.has(key)) continue;
    const value = record[key];
    if ((key === 'err' || key === 'error') && isErrorLike(value)) {
      addError(entry, message, value, key, depth);
      continue;
    }
    let name = escapeFieldName(key);
    if (RESERVED.has(name)) name = `X_${name}`;
    addValue(entry, name, value, depth);
  }
  return entry;
}

interface ErrorLike {
  stack?: unknown;
  message?: unknown;
  errno?: unknown;
  code?: unknown;
}

function isErrorLike(value: unknown): value is ErrorLike {
  return value instanceof Error || (typeof value === 'object' && value !== null && typeof (value as ErrorLike).stack === 'string');
}

/** The positive errno of an error: from `errno` (Node's are negative) or from a code such as ENOENT. */
export function errnoOf(error: ErrorLike): number | undefined {
  if (typeof error.errno === 'number' && Number.isInteger(error.errno) && error.errno !== 0) return Math.abs(error.errno);
  if (typeof error.code === 'string') return (constants.errno as Record<string, number>)[error.code];
  return undefined;
}

function addError(entry: EntryFields, message: string, error: ErrorLike, key: string, depth: number): void {
  const stack = typeof error.stack === 'string' ? error.stack : String(error.message);
  // pino and console pass the error's own message as the message: keep it once.
  entry.MESSAGE = message === '' || message === error.message || stack.startsWith(message) ? stack : `${message}\n${stack}`;
  const errno = errnoOf(error);
  if (errno !== undefined) entry.ERRNO = String(errno);
  const prefix = escapeFieldName(key);
  const fields: Record<string, unknown> = { ...error };
  delete fields.stack;
  delete fields.message;
  delete fields.errno;
  if (error instanceof Error) fields.type = error.name;
  for (const name in fields) addValue(entry, `${prefix}_${escapeFieldName(name)}`, fields[name], depth - 1);
}

function addValue(entry: EntryFields, name: string, value: unknown, depth: number): void {
  switch (typeof value) {
    case 'string':
      return put(entry, name, value);
    case 'number':
    case 'bigint':
    case 'boolean':
      return put(entry, name, String(value));
    case 'object':
      break;
    default:
      return; // undefined, functions and symbols have no journal form.
  }
  if (value === null) return put(entry, name, 'null');
  if (value instanceof Uint8Array) return put(entry, name, value);
  if (value instanceof Date) return put(entry, name, Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString());
  if (value instanceof Error) return put(entry, name, value.stack ?? String(value));
  if (Array.isArray(value) || depth <= 0) return put(entry, name, safeJson(value));
  for (const key in value) addValue(entry, `${name}_${escapeFieldName(key)}`.slice(0, 64), (value as Record<string, unknown>)[key], depth - 1);
}

function put(entry: EntryFields, name: string, value: JournalValue): void {
  const existing = entry[name];
  if (existing === undefined) entry[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else entry[name] = [existing, value];
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ?? String(value);
  } catch {
    return String(value); // a cycle
  }
}
