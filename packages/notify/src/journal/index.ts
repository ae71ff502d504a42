/** Logging the way journald expects: the native protocol, structured fields, and a console-like logger. */
export { JOURNAL_LEVELS, isJournalStream, startedWithJournal, formatJournalLine, type JournalLevel } from './stream.js';
export { escapeFieldName, isValidFieldName, MAX_JOURNAL_FIELDS, type JournalFields, type JournalValue } from './fields.js';
export { encodeJournalEntry } from './encode.js';
export { JournalSender, journalSender, sendJournal, JOURNAL_SOCKET, type JournalSenderOptions, type JournalSenderStats } from './sender.js';
export { logEntry, DEFAULT_FLATTEN_DEPTH, type EntryFields, type LogEntryOptions } from './entry.js';
export { defaultIdentifier } from './identity.js';
export { createJournalLogger, type JournalLogger, type JournalLoggerOptions, type JournalMode } from './logger.js';
