/** Logging the way journald expects: the native protocol, structured fields, and a console-like logger. */
export { isJournalStream, startedWithJournal, formatJournalLine, type JournalLevel } from './stream.js';
export { escapeFieldName, isValidFieldName, type JournalFields, type JournalValue } from './fields.js';
export { encodeJournalEntry } from './encode.js';
export { JournalSender, journalSender, sendJournal, type JournalSenderOptions, type JournalSenderStats } from './sender.js';
export { logEntry, type EntryFields, type LogEntryOptions } from './entry.js';
export { defaultIdentifier } from './identity.js';
export { createJournalLogger, type JournalLogger, type JournalLoggerOptions, type JournalMode } from './logger.js';
