import { fstatSync } from 'node:fs';
import { format } from 'node:util';
import { NotifyError } from './errors.js';

/**
 * journald-friendly logging. A service's stdout and stderr go to the journal, one
 * entry per line; a line that starts with `<N>` (sd-daemon(3)) gets priority N,
 * so `journalctl -p err` and the red lines in `systemctl status` work. Every line
 * of a multi-line message gets the prefix, so a stack trace stays at its level.
 * Off the journal (a terminal, a file, a pipe) lines are written plain.
 */
export const JOURNAL_LEVELS = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
} as const;

export type JournalLevel = keyof typeof JOURNAL_LEVELS;

/**
 * True when `fd` is connected to the journal: systemd sets JOURNAL_STREAM to the
 * "device:inode" of the stream it connected, and a redirect changes the inode.
 */
export function isJournalStream(fd = 2, journalStream: string | undefined = process.env.JOURNAL_STREAM): boolean {
  if (!journalStream) return false;
  const match = /^(\d+):(\d+)$/.exec(journalStream);
  if (!match) return false;
  try {
    const stat = fstatSync(fd, { bigint: true });
    return stat.dev === BigInt(match[1]!) && stat.ino === BigInt(match[2]!);
  } catch {
    return false;
  }
}

/** Formats a message for the journal: each line prefixed with `<N>`, one trailing newline. */
export function formatJournalLine(level: JournalLevel, message: string): string {
  const priority = JOURNAL_LEVELS[level];
  if (priority === undefined) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `Unknown journal level ${JSON.stringify(level)}; expected one of ${Object.keys(JOURNAL_LEVELS).join(', ')}.`);
  }
  const lines = String(message).replace(/\r?\n$/, '').split(/\r?\n/);
  return lines.map((line) => `<${priority}>${line}\n`).join('');
}

export interface JournalLoggerOptions {
  /** Where lines go. Default process.stderr. */
  stream?: NodeJS.WritableStream & { fd?: number };
  /** Prefix lines with `<N>`. Default: only when the stream is connected to the journal. */
  prefix?: boolean;
  /** Lines below this level are dropped. Default 'debug' (nothing dropped). */
  minLevel?: JournalLevel;
}

export type JournalLogger = {
  [level in JournalLevel]: (...args: unknown[]) => void;
} & {
  /** Aliases matching console. */
  error: (...args: unknown[]) => void;
  warn: (...args: unknown[]) => void;
  log: (...args: unknown[]) => void;
  /** Whether lines carry `<N>` prefixes. */
  readonly prefixed: boolean;
};

/** A console-like logger whose lines keep their priority in the journal. */
export function createJournalLogger(options: JournalLoggerOptions = {}): JournalLogger {
  const stream = options.stream ?? process.stderr;
  const prefixed = options.prefix ?? (typeof stream.fd === 'number' && isJournalStream(stream.fd));
  const minimum = JOURNAL_LEVELS[options.minLevel ?? 'debug'];
  if (minimum === undefined) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `Unknown minLevel ${JSON.stringify(options.minLevel)}; expected one of ${Object.keys(JOURNAL_LEVELS).join(', ')}.`);
  }
  const write = (level: JournalLevel) => (...args: unknown[]): void => {
    if (JOURNAL_LEVELS[level] > minimum) return;
    const text = format(...args);
    stream.write(prefixed ? formatJournalLine(level, text) : `${text}\n`);
  };
  const logger = Object.fromEntries(Object.keys(JOURNAL_LEVELS).map((level) => [level, write(level as JournalLevel)])) as Record<JournalLevel, (...args: unknown[]) => void>;
  return Object.freeze({ ...logger, error: logger.err, warn: logger.warning, log: logger.info, prefixed });
}
