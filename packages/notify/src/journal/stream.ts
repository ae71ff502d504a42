import { fstatSync } from 'node:fs';
import { NotifyError } from '../errors.js';

/**
 * The journal's stream protocol: a service's stdout and stderr go to the journal,
 * one entry per line; a line that starts with `<N>` (sd-daemon(3)) gets priority N,
 * so `journalctl -p err` and the red lines in `systemctl status` work.
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
 * JOURNAL_STREAM stays in process.env: children that inherit the stream need it too.
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

/**
 * True when systemd connected stdout or stderr to the journal: the process runs
 * as a service and its loggers should send native entries. A terminal on a
 * machine that runs systemd has a journal socket too, but no JOURNAL_STREAM.
 */
export function startedWithJournal(): boolean {
  return isJournalStream(2) || isJournalStream(1);
}

/** The priority of a level name, or a typed error naming the levels there are. */
export function journalPriority(level: JournalLevel, what = 'journal level'): number {
  const priority = JOURNAL_LEVELS[level];
  if (priority === undefined) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `Unknown ${what} ${JSON.stringify(level)}; expected one of ${Object.keys(JOURNAL_LEVELS).join(', ')}.`);
  }
  return priority;
}

/**
 * Formats a message for the stream protocol: each line prefixed with `<N>`, one
 * trailing newline. Every line gets the prefix, so a stack trace stays at its
 * level (it still becomes one entry per line: the native protocol keeps it whole).
 */
export function formatJournalLine(level: JournalLevel, message: string): string {
  const priority = journalPriority(level);
  const lines = String(message).replace(/\r?\n$/, '').split(/\r?\n/);
  return lines.map((line) => `<${priority}>${line}\n`).join('');
}
