import { defaultIdentifier, encodeJournalEntry, escapeFieldName, journalSender, startedWithJournal, logEntry, type JournalSender } from '@node-systemd/notify';

export interface JournalDestinationOptions {
  /**
   * 'auto' (default): native entries when stdout or stderr is connected to the
   * journal (JOURNAL_STREAM names it), so the app runs under systemd; otherwise the
   * JSON lines go to `fallback` as pino would write them. 'native': always entries.
   */
  mode?: 'auto' | 'native';
  /** SYSLOG_IDENTIFIER. Default: the unit's name, else the package name, else "node". */
  identifier?: string;
  /** Fields added to every entry (valid journal names: `[A-Z0-9_]`, not starting with a digit or `_`). */
  fields?: Readonly<Record<string, string>>;
  /** Keep the whole JSON line in this field too (say `PINO_JSON`). Default: not kept. */
  jsonField?: string;
  /** The record key holding the message (pino's `messageKey`). Default "msg". */
  messageKey?: string;
  /** Nesting levels of a record flattened into NAME_CHILD fields; deeper values stay JSON. Default 3. */
  depth?: number;
  /** Where lines go when there is no journal (off systemd): the JSON line unchanged. Default process.stdout. */
  fallback?: { write(line: string): unknown };
  /** The journal's socket. Default /run/systemd/journal/socket. */
  socket?: string;
}

/** pino's numeric levels to journal priorities: trace/debug 7, info 6, warn 4, error 3, fatal 2 (custom levels by range). */
export function levelToPriority(level: unknown): number {
  if (typeof level !== 'number') return 6;
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** A pino destination: `write(line)` turns each JSON line into one native journal entry. */
export interface JournalDestination {
  write(line: string): boolean;
  /** Lets pino take it as its only argument: `pino(journal())`. */
  readonly writable: true;
  /** The journal sender, for its `stats` (sent, dropped, viaMemfd). */
  readonly sender: JournalSender;
}

/**
 * A pino destination writing to the journal: `pino(options, journal())`.
 * `msg` becomes MESSAGE, the level PRIORITY; an `err` keeps its whole stack in
 * MESSAGE (one entry) with ERRNO; every other key becomes a journal field, named
 * by escapeFieldName (`reqId` → REQ_ID) and flattened with "_" for three levels
 * (`req.method` → REQ_METHOD). pino's `time`, `pid` and `hostname` are left out:
 * journald records its own (`__REALTIME_TIMESTAMP`, `_PID`, `_HOSTNAME`). Off
 * systemd the lines go to `fallback` unchanged.
 */
export function journal(options: JournalDestinationOptions = {}): JournalDestination {
  const sender = journalSender(options.socket);
  const messageKey = options.messageKey ?? 'msg';
  const omit = new Set(['level', 'time', 'pid', 'hostname', messageKey]);
  const jsonField = options.jsonField === undefined ? undefined : escapeFieldName(options.jsonField);
  if (options.fields) encodeJournalEntry(options.fields); // a bad name fails here, once, with a typed error
  const entryOptions = { identifier: options.identifier ?? defaultIdentifier(), depth: options.depth, fields: options.fields, omit };
  const fallback = options.fallback ?? process.stdout;
  const native = options.mode === 'native' || startedWithJournal();
  return {
    sender,
    writable: true,
    write(line: string): boolean {
      if (!native || sender.offline) {
        fallback.write(line);
        return true;
      }
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        const message = record[messageKey];
        const entry = logEntry(typeof message === 'string' ? message : message === undefined ? '' : String(message), levelToPriority(record.level), record, entryOptions);
        if (jsonField) entry[jsonField] = line.endsWith('\n') ? line.slice(0, -1) : line;
        sender.writeEncoded(encodeJournalEntry(entry));
      } catch {
        // Not JSON (a custom formatter), or not encodable: keep the line rather than lose it.
        if (!sender.writeEncoded(encodeJournalEntry({ MESSAGE: line.toWellFormed().trimEnd() || '(empty)', PRIORITY: 6, SYSLOG_IDENTIFIER: entryOptions.identifier }))) fallback.write(line);
      }
      return true;
    },
  };
}
