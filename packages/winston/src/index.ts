/**
 * @node-systemd/winston: a winston transport to the systemd journal, through
 * journald's native protocol (no libsystemd).
 *
 *   winston.createLogger({ transports: [new JournalTransport()] })
 */
import TransportStream from 'winston-transport';
import { defaultIdentifier, encodeJournalEntry, journalSender, logEntry, startedWithJournal, type JournalSender } from '@node-systemd/notify';

export interface JournalTransportOptions extends TransportStream.TransportStreamOptions {
  /** 'auto' (default): entries only when systemd started the process (JOURNAL_STREAM), else lines on `fallback`. 'native': always. */
  mode?: 'auto' | 'native';
  /** SYSLOG_IDENTIFIER. Default: the unit's name, else the package name, else "node". */
  identifier?: string;
  /** Fields added to every entry (valid journal names). */
  fields?: Readonly<Record<string, string>>;
  /** Nesting levels flattened into NAME_CHILD fields. Default 3. */
  depth?: number;
  /** Where the formatted lines go when not under systemd. Default process.stdout. */
  fallback?: { write(line: string): unknown };
  /** The journal's socket. Default /run/systemd/journal/socket. */
  socket?: string;
}

/** winston's npm and syslog level names to journal priorities; anything else is info (6). */
const PRIORITIES: Readonly<Record<string, number>> = {
  emerg: 0, alert: 1, crit: 2, error: 3, warning: 4, warn: 4, notice: 5, info: 6, http: 6, verbose: 7, debug: 7, silly: 7,
};

// winston's own keys, and its formatted line (a Symbol, so never listed by for-in).
const OMIT = new Set(['level', 'message', 'stack', 'timestamp']);
const FORMATTED = Symbol.for('message');

interface Info {
  level: string;
  message: unknown;
  stack?: unknown;
  [key: string]: unknown;
  [FORMATTED]?: string;
}

/**
 * One journal entry per log call: `message` becomes MESSAGE, the level PRIORITY
 * (error 3, warn 4, info 6, debug 7; syslog levels as named), a stack (from
 * `format.errors({ stack: true })` or a logged Error) stays in MESSAGE, and meta
 * keys become escaped, flattened fields (`reqId` → REQ_ID).
 */
export class JournalTransport extends TransportStream {
  /** The journal sender, for its `stats` (sent, dropped, viaMemfd). */
  readonly sender: JournalSender;
  private readonly native: boolean;
  private readonly entryOptions;
  private readonly fallback: { write(line: string): unknown };

  constructor(options: JournalTransportOptions = {}) {
    super(options);
    this.sender = journalSender(options.socket);
    this.native = options.mode === 'native' || startedWithJournal();
    if (options.fields) encodeJournalEntry(options.fields); // a bad name fails here with a typed error
    this.entryOptions = { identifier: options.identifier ?? defaultIdentifier(), depth: options.depth, fields: options.fields, omit: OMIT };
    this.fallback = options.fallback ?? process.stdout;
  }

  override log(info: Info, next: () => void): void {
    const message = typeof info.message === 'string' ? info.message : String(info.message ?? '');
    let sent = false;
    if (this.native && !this.sender.offline) {
      try {
        const record: Record<string, unknown> = { ...info };
        if (typeof info.stack === 'string') {
          // A logged Error (format.errors): its stack, code and errno describe one error.
          record.err = { stack: info.stack, message, code: info.code, errno: info.errno };
          delete record.code;
          delete record.errno;
        }
        // Dropped entries (journald busy) are counted by the sender, not printed.
        this.sender.writeEncoded(encodeJournalEntry(logEntry(message, PRIORITIES[info.level] ?? 6, record, this.entryOptions)));
        sent = true;
      } catch {
        sent = false; // unencodable: the line below keeps it
      }
    }
    if (!sent) this.fallback.write(`${info[FORMATTED] ?? message}\n`);
    this.emit('logged', info);
    next();
  }
}

export default JournalTransport;
