import { existsSync } from 'node:fs';
import { NotifyError } from '../errors.js';
import { parseNotifySocket } from '../env.js';
import { loadNative, systemError } from '../native.js';
import { DatagramTransport, type PostOutcome } from '../transport.js';
import { encodeJournalEntry } from './encode.js';
import type { JournalFields } from './fields.js';

/** Where journald reads native entries. */
export const JOURNAL_SOCKET = '/run/systemd/journal/socket';

export interface JournalSenderOptions {
  /** The journal's socket (a path, or `@name` for an abstract one). Default /run/systemd/journal/socket. */
  socket?: string;
  /** Entries that may wait while journald's queue is full; beyond, new ones are dropped and counted. Default 1024. */
  maxQueued?: number;
  /** Delays between attempts while journald's queue is full. Default 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000 ms (about 2 s). */
  retryDelaysMs?: readonly number[];
  /** Send buffer to ask for; it bounds the largest entry sent as one datagram. Default 8 MiB, as libsystemd. */
  sendBufferBytes?: number;
}

/** How many entries went which way, since the sender was made. */
export interface JournalSenderStats {
  sent: number;
  /** Entries too large for a datagram, sent as a sealed memfd. */
  viaMemfd: number;
  /** Entries dropped because journald's queue stayed full. */
  dropped: number;
  /** Entries the kernel refused for another reason (see lastError). */
  failed: number;
  lastError: Error | undefined;
}

const EMPTY = Buffer.alloc(0);
// Settled promises can be shared: one per answer instead of one per entry.
const SENT = Promise.resolve(true);
const NOT_SENT = Promise.resolve(false);
const ENOENT = -2;
const ECONNREFUSED = -111;
// A restart of journald takes a second or two; entries wait that long, then drop.
const DEFAULT_RETRY_DELAYS_MS = [1, 2, 5, 10, 20, 50, 100, 250, 500, 1000] as const;

/**
 * Sends entries to journald, one datagram each, never blocking the event loop.
 * When journald is slow its socket queue fills; entries then wait in a bounded
 * queue (shared code with the notify transport) and beyond it are dropped and
 * counted: a logger must never hold a service up or grow its memory without end.
 * Once the queue frees up, one entry reports how many were dropped.
 */
export class JournalSender {
  readonly socket: string;
  readonly stats: JournalSenderStats = { sent: 0, viaMemfd: 0, dropped: 0, failed: 0, lastError: undefined };
  private readonly transport: DatagramTransport;
  private absent: boolean | undefined;
  private droppedReported = 0;

  constructor(options: JournalSenderOptions = {}) {
    this.socket = options.socket ?? JOURNAL_SOCKET;
    const address = parseNotifySocket(this.socket);
    if (!address) throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `Invalid journal socket ${JSON.stringify(this.socket)}: expected an absolute path or @name.`);
    this.transport = new DatagramTransport(address, {
      maxQueued: options.maxQueued ?? 1024,
      retryDelaysMs: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
      sendBufferBytes: options.sendBufferBytes ?? 8 * 1024 * 1024,
      label: `the journal at ${this.socket}`,
    });
  }

  /** True when there is no journal to send to (no socket: not under systemd). Checked once. */
  get offline(): boolean {
    // Off systemd this is the only cost: one stat, and no native code loaded.
    this.absent ??= this.socket.startsWith('/') && !existsSync(this.socket);
    return this.absent;
  }

  /**
   * Sends one entry. Resolves true once the kernel took it (or it waits in the
   * queue), false when there is no journal or the entry was dropped; rejects with
   * a NotifyError for bad fields or a refusal by the kernel.
   */
  send(fields: JournalFields): Promise<boolean> {
    let data: Buffer;
    try {
      data = encodeJournalEntry(fields);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.offline) return NOT_SENT;
    const outcome = this.post(data);
    if (outcome instanceof Error) return Promise.reject(outcome);
    return outcome ? SENT : NOT_SENT;
  }

  /** Sends an encoded entry; never throws. True when sent or queued. */
  writeEncoded(data: Buffer): boolean {
    if (this.offline) return false;
    const outcome = this.post(data);
    if (outcome instanceof Error) {
      this.stats.failed++;
      this.stats.lastError = outcome;
      return false;
    }
    return outcome;
  }

  /** Entries waiting for room in journald's queue. */
  get queued(): number {
    return this.transport.queued;
  }

  /** Releases the socket; entries still queued are counted as dropped. */
  close(): void {
    this.transport.close();
  }

  private post(data: Buffer): boolean | Error {
    let outcome = this.transport.post(data, null, this.settled);
    if (outcome instanceof NotifyError && outcome.syscallCode === 'EMSGSIZE') outcome = this.postMemfd(data);
    if (outcome === 'sent') {
      this.stats.sent++;
      if (this.stats.dropped > this.droppedReported) this.reportDrops();
      return true;
    }
    if (outcome === 'queued') {
      this.holdExitWhileQueued();
      return true;
    }
    if (outcome === 'dropped') {
      this.stats.dropped++;
      return false;
    }
    const errno = (outcome.cause as NodeJS.ErrnoException | undefined)?.errno;
    // No journal there (removed, or journald gone with its socket): like libsystemd, not an error.
    if (errno === ENOENT || errno === ECONNREFUSED) return false;
    return outcome;
  }

  private exitHooked = false;

  /**
   * Log entries still waiting when the process is about to exit are not given up:
   * the retry timers are unref'd (a busy journald must not keep a service alive
   * for ever), so once nothing else is left, a ref'd timer holds the process for
   * as long as the retries last (about 2 s) or until the queue is empty; on
   * process.exit() one last synchronous attempt is made.
   */
  private holdExitWhileQueued(): void {
    if (this.exitHooked) return;
    this.exitHooked = true;
    process.on('beforeExit', () => {
      if (this.transport.queued === 0) return;
      const hold = setInterval(() => {
        if (this.transport.queued === 0) clearInterval(hold);
      }, 10);
    });
    process.on('exit', () => this.transport.flushNow());
  }

  /** An entry larger than a datagram: a sealed memfd, passed alone in an empty datagram. */
  private postMemfd(data: Buffer): PostOutcome {
    const native = loadNative();
    const fd = native.sealedMemfd(data);
    if (fd < 0) {
      const cause = systemError(fd, 'memfd_create');
      return new NotifyError('ERR_NOTIFY_SEND_FAILED', `Cannot pass a ${data.length}-byte journal entry through a memfd: memfd_create failed with ${cause.code}.`, { cause, syscallCode: cause.code });
    }
    // The kernel holds its own reference once the datagram is queued: close ours then.
    const outcome = this.transport.post(EMPTY, [fd], (error) => {
      native.close(fd);
      this.settled(error);
    });
    if (outcome !== 'queued') native.close(fd);
    if (outcome === 'sent') this.stats.viaMemfd++;
    return outcome;
  }

  private readonly settled = (error: Error | null): void => {
    if (error === null) {
      this.stats.sent++;
      return;
    }
    this.stats.dropped++;
    this.stats.lastError = error;
  };

  private reportDrops(): void {
    const count = this.stats.dropped - this.droppedReported;
    this.droppedReported = this.stats.dropped;
    const report = encodeJournalEntry({
      MESSAGE: `${count} log entries were dropped: the journal did not take them in time (journald busy or restarting).`,
      PRIORITY: 4,
      NODE_SYSTEMD_EVENT: 'journal-dropped',
      DROPPED_ENTRIES: count,
    });
    this.transport.post(report, null, this.settled);
  }
}

const senders = new Map<string, JournalSender>();

/** The shared sender for a socket (one socket per destination for the whole process). */
export function journalSender(socket: string = JOURNAL_SOCKET): JournalSender {
  let sender = senders.get(socket);
  if (!sender) senders.set(socket, (sender = new JournalSender({ socket })));
  return sender;
}

/**
 * Sends one entry to the journal through the native protocol: `fields` are
 * journal fields (`MESSAGE`, `PRIORITY`, your own in [A-Z0-9_]). Resolves false
 * off systemd (no journal socket) without sending anything.
 */
export function sendJournal(fields: JournalFields, options: { socket?: string } = {}): Promise<boolean> {
  return journalSender(options.socket).send(fields);
}
