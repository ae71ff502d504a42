import { fstatSync, mkdtempSync, readSync, rmdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNotifySocket } from '../env.js';
import { loadNative, systemError, type NativeBinding, type ReceivedDatagram } from '../native.js';
import { PolledSocket } from './polled-socket.js';
import { decodeJournalEntry } from './journal-decode.js';

/** One entry as the fake journal received it. */
export interface ReceivedJournalEntry {
  /** The fields in order, values as bytes (a name may repeat). */
  readonly fields: ReadonlyArray<readonly [string, Buffer]>;
  /** The sender's PID (SCM_CREDENTIALS). */
  readonly pid: number;
  /** True when the entry came as a memfd (an empty datagram carrying one fd). */
  readonly viaMemfd: boolean;
  /** F_GET_SEALS of that memfd, when there was one. */
  readonly seals: number | undefined;
  /** The first value of a field as text (undefined when absent). */
  text(name: string): string | undefined;
  /** Every value of a field as text. */
  all(name: string): string[];
}

export interface FakeJournalOptions {
  /** How often the socket is read, in ms. Default 2. */
  pollIntervalMs?: number;
  /** Start without reading, to let the receive queue fill. Default false. */
  paused?: boolean;
  /** The largest datagram read whole. Default 1 MiB. */
  maxDatagramBytes?: number;
}

/**
 * A stand-in for journald's native socket on a real kernel datagram socket: it
 * decodes what a service sends, including entries passed as sealed memfds, the
 * way journald would. Point a sender or logger at `socket`.
 */
export class FakeJournal extends PolledSocket {
  readonly socket: string;
  readonly entries: ReceivedJournalEntry[] = [];
  private readonly directory: string;

  private constructor(native: NativeBinding, fd: number, directory: string, options: FakeJournalOptions) {
    super(native, fd, options.pollIntervalMs, options.maxDatagramBytes ?? 1024 * 1024);
    this.directory = directory;
    this.socket = join(directory, 'socket');
    if (!options.paused) this.resume();
  }

  static start(options: FakeJournalOptions = {}): FakeJournal {
    const native = loadNative();
    const directory = mkdtempSync(join(tmpdir(), 'nsd-journal-'));
    const fd = native.socket();
    if (fd < 0) throw systemError(fd, 'socket');
    const bound = native.bind(fd, parseNotifySocket(join(directory, 'socket'))!.address);
    if (bound < 0) {
      native.close(fd);
      rmdirSync(directory);
      throw systemError(bound, 'bind');
    }
    return new FakeJournal(native, fd, directory, options);
  }

  protected override receive(result: ReceivedDatagram): void {
    let data = result.data;
    let seals: number | undefined;
    const viaMemfd = data.length === 0 && result.fds.length === 1;
    if (viaMemfd) {
      const fd = result.fds[0]!;
      seals = this.native.fileSeals(fd);
      data = Buffer.alloc(fstatSync(fd).size);
      for (let at = 0; at < data.length; ) at += readSync(fd, data, at, data.length - at, at);
    }
    for (const fd of result.fds) this.native.close(fd);
    if (result.truncated) {
      this.emit('error', new Error(`A datagram larger than ${this.maxDatagramBytes} bytes was truncated.`));
      return;
    }
    const fields = decodeJournalEntry(data);
    const entry: ReceivedJournalEntry = Object.freeze({
      fields,
      pid: result.pid,
      viaMemfd,
      seals,
      text: (name: string) => fields.find(([key]) => key === name)?.[1].toString('utf8'),
      all: (name: string) => fields.filter(([key]) => key === name).map(([, value]) => value.toString('utf8')),
    });
    this.entries.push(entry);
    this.emit('entry', entry);
  }

  /** Resolves with the first entry (received or still to come) the predicate accepts. */
  async waitFor(predicate: (entry: ReceivedJournalEntry) => boolean, timeoutMs = 5000): Promise<ReceivedJournalEntry> {
    if (this.fd >= 0) this.drainQueue();
    const found = this.entries.find(predicate);
    if (found) return found;
    return new Promise((resolve, reject) => {
      const onEntry = (entry: ReceivedJournalEntry): void => {
        if (!predicate(entry)) return;
        cleanup();
        resolve(entry);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`No matching journal entry within ${timeoutMs} ms; received ${this.entries.length}: ${JSON.stringify(this.entries.slice(-5).map((e) => e.text('MESSAGE')))}.`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('entry', onEntry);
      };
      this.on('entry', onEntry);
    });
  }

  /** Stops reading, closes the socket, removes the temp dir. */
  close(): void {
    this.closeSocket();
    for (const step of [() => unlinkSync(this.socket), () => rmdirSync(this.directory)]) {
      try {
        step();
      } catch {
        // Already gone.
      }
    }
  }
}
