import { format } from 'node:util';
import { NotifyError } from '../errors.js';
import { encodeJournalEntry } from './encode.js';
import { logEntry, errnoOf, type EntryFields } from './entry.js';
import { assertFieldName } from './fields.js';
import { defaultIdentifier } from './identity.js';
import { journalSender } from './sender.js';
import { formatJournalLine, isJournalStream, journalPriority, JOURNAL_LEVELS, type JournalLevel } from './stream.js';

/**
 * How entries are written:
 * - 'native': structured entries through journald's socket (fields, whole stacks);
 * - 'prefix': lines with `<N>` priority prefixes on the stream;
 * - 'plain': lines as a terminal wants them;
 * - 'auto' (default): 'native' when the stream is connected to the journal
 *   (JOURNAL_STREAM names it), else 'plain'. The same app logs readably in a
 *   terminal and richly under systemd.
 */
export type JournalMode = 'auto' | 'native' | 'prefix' | 'plain';

export interface JournalLoggerOptions {
  /** Where lines go (and whose JOURNAL_STREAM match picks the native mode). Default process.stderr. */
  stream?: NodeJS.WritableStream & { fd?: number };
  /** Default 'auto'. */
  mode?: JournalMode;
  /** Older switch: true is mode 'prefix', false mode 'plain'. */
  prefix?: boolean;
  /** Entries below this level are dropped. Default 'debug' (nothing dropped). */
  minLevel?: JournalLevel;
  /** SYSLOG_IDENTIFIER. Default: the unit's name, else the package name, else "node". */
  identifier?: string;
  /** Fields added to every native entry (valid journal names). */
  fields?: Readonly<Record<string, string>>;
  /** Add CODE_FILE, CODE_LINE and CODE_FUNC of the caller (costs a stack capture per entry). Default false. */
  code?: boolean;
  /** The journal's socket. Default /run/systemd/journal/socket. */
  socket?: string;
  /** Nesting levels of a fields object flattened into NAME_CHILD fields. Default 3. */
  depth?: number;
}

type LogMethod = (...args: unknown[]) => void;

export type JournalLogger = {
  [level in JournalLevel]: LogMethod;
} & {
  /** Aliases matching console. */
  error: LogMethod;
  warn: LogMethod;
  log: LogMethod;
  /** The mode in use ('auto' resolved). */
  readonly mode: Exclude<JournalMode, 'auto'>;
  /** Whether lines carry `<N>` prefixes. */
  readonly prefixed: boolean;
};

/**
 * A console-like logger that keeps priorities and fields in the journal. Each
 * method takes console's arguments (`log.info('served %s', path)`), or a message
 * and a fields object (`log.info('served', { reqId, path })`: the fields become
 * REQ_ID and PATH), or an Error (its whole stack is one entry, with ERRNO).
 * It never throws into the caller.
 */
export function createJournalLogger(options: JournalLoggerOptions = {}): JournalLogger {
  const stream = options.stream ?? process.stderr;
  const minimum = journalPriority(options.minLevel ?? 'debug', 'minLevel');
  let mode = options.mode ?? (options.prefix === undefined ? 'auto' : options.prefix ? 'prefix' : 'plain');
  if (!['auto', 'native', 'prefix', 'plain'].includes(mode)) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `Unknown journal logger mode ${JSON.stringify(mode)}; expected auto, native, prefix or plain.`);
  }
  if (mode === 'auto') mode = typeof stream.fd === 'number' && isJournalStream(stream.fd) ? 'native' : 'plain';
  for (const name of Object.keys(options.fields ?? {})) assertFieldName(name);
  const resolved = mode;
  const entryOptions = { identifier: options.identifier ?? (resolved === 'native' ? defaultIdentifier() : 'node'), depth: options.depth, fields: options.fields };
  const sender = resolved === 'native' ? journalSender(options.socket) : undefined;

  const writeLine = (level: JournalLevel, text: string): void => {
    try {
      stream.write(resolved === 'plain' ? `${text}\n` : formatJournalLine(level, text));
    } catch {
      // A closed stream: logging never throws into the caller.
    }
  };

  const method = (level: JournalLevel): LogMethod => {
    const priority = JOURNAL_LEVELS[level];
    const log: LogMethod = (...args) => {
      if (priority > minimum) return;
      const { message, record, errno } = parseArguments(args);
      if (sender) {
        try {
          const entry = logEntry(message, priority, record, entryOptions);
          if (errno !== undefined && entry.ERRNO === undefined) entry.ERRNO = String(errno);
          if (options.code) addCaller(entry, log);
          if (sender.writeEncoded(encodeJournalEntry(entry)) || !sender.offline) return;
        } catch {
          // Unencodable (a lone surrogate, say): the line below still says it.
        }
        writeLine(level, lineText(message, record));
        return;
      }
      writeLine(level, lineText(message, record));
    };
    return log;
  };
  const logger = Object.fromEntries(Object.keys(JOURNAL_LEVELS).map((level) => [level, method(level as JournalLevel)])) as Record<JournalLevel, LogMethod>;
  return Object.freeze({ ...logger, error: logger.err, warn: logger.warning, log: logger.info, mode: resolved, prefixed: resolved === 'prefix' });
}

interface ParsedCall {
  message: string;
  record: Record<string, unknown> | undefined;
  errno: number | undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** (message, fields) and (error) are structured; anything else is console's format(). */
function parseArguments(args: unknown[]): ParsedCall {
  if (args.length === 2 && typeof args[0] === 'string' && isPlainObject(args[1])) return { message: args[0], record: args[1], errno: undefined };
  if (args.length === 1 && args[0] instanceof Error) return { message: '', record: { err: args[0] }, errno: undefined };
  const error = args.find((arg): arg is Error => arg instanceof Error);
  return { message: format(...args), record: undefined, errno: error ? errnoOf(error) : undefined };
}

/** The text of a line for the stream modes: the message, simple fields as key=value, then a stack. */
function lineText(message: string, record: Record<string, unknown> | undefined): string {
  if (!record) return message;
  let text = message;
  let stack = '';
  for (const key in record) {
    const value = record[key];
    if (value instanceof Error || ((key === 'err' || key === 'error') && typeof (value as Error | undefined)?.stack === 'string')) {
      stack = (value as Error).stack!;
      continue;
    }
    if (value === undefined) continue;
    text += ` ${key}=${typeof value === 'string' ? value : format('%j', value)}`;
  }
  if (!stack) return text;
  return text === '' || stack.startsWith(text) ? stack : `${text}\n${stack}`;
}

const FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):\d+\)?$/;

function addCaller(entry: EntryFields, skipAbove: LogMethod): void {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  Error.captureStackTrace(holder, skipAbove);
  Error.stackTraceLimit = limit;
  const frame = FRAME.exec(holder.stack?.split('\n')[1] ?? '');
  if (!frame) return;
  entry.CODE_FILE = frame[2]!.replace(/^file:\/\//, '');
  entry.CODE_LINE = frame[3]!;
  if (frame[1]) entry.CODE_FUNC = frame[1];
}
