import { NotifyError } from './errors.js';
import type { NotifyAddress } from './env.js';
import { loadNative, systemError, type NativeBinding } from './native.js';

/**
 * Sends datagrams to one AF_UNIX address. Knows nothing of assignments.
 *
 * The socket is non-blocking and holds no libuv handle, so it neither blocks the
 * event loop nor keeps the process alive. When the receiver's queue is full the
 * kernel says EAGAIN; we retry a bounded number of times on timers, then reject.
 * Messages keep their order: while one waits for room, later ones queue behind it,
 * and that queue is bounded too.
 */
export interface TransportOptions {
  /** connect() once and send() after, instead of sendto() each time. Default true. */
  connect?: boolean;
  /** Delays between attempts while the receiver's queue is full. */
  retryDelaysMs?: readonly number[];
  /** Messages that may wait behind a full queue before new ones are rejected. */
  maxQueued?: number;
  /** Ask for a send buffer this large (it bounds the largest datagram). Default: the kernel's. */
  sendBufferBytes?: number;
  /** How error messages name the destination. Default `NOTIFY_SOCKET=<address>`. */
  label?: string;
}

const DEFAULT_RETRY_DELAYS_MS = [1, 2, 5, 10, 20, 50, 100] as const;
const DEFAULT_MAX_QUEUED = 128;
const SENT = Promise.resolve();

interface Pending {
  data: Buffer;
  fds: readonly number[] | null;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** What post() did with a datagram. */
export type PostOutcome = 'sent' | 'queued' | 'dropped' | Error;

export class DatagramTransport {
  readonly address: NotifyAddress;
  private readonly connectFirst: boolean;
  private readonly retryDelaysMs: readonly number[];
  private readonly maxQueued: number;
  private readonly sendBufferBytes: number | undefined;
  private readonly label: string;
  private native: NativeBinding | undefined;
  private fd = -1;
  private connected = false;
  private closed = false;
  private readonly queue: Pending[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retryIndex = 0;

  constructor(address: NotifyAddress, options: TransportOptions = {}) {
    this.address = address;
    this.connectFirst = options.connect ?? true;
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.sendBufferBytes = options.sendBufferBytes;
    this.label = options.label ?? `NOTIFY_SOCKET=${address.raw}`;
  }

  /**
   * Sends one datagram without a promise, for senders that would rather drop than
   * wait (log entries): 'sent' when the kernel took it, 'queued' when it waits for
   * room (`settled` is called later, with an error if it never went out), 'dropped'
   * when the wait queue is full, or the error that refused it at once.
   */
  post(data: Buffer, fds: readonly number[] | null, settled: (error: Error | null) => void): PostOutcome {
    if (this.closed) return new NotifyError('ERR_NOTIFY_SEND_FAILED', `The transport to ${this.address.raw} is closed.`);
    if (this.queue.length === 0) {
      const outcome = this.trySend(data, fds);
      if (outcome !== 'again') return outcome;
    } else if (this.queue.length >= this.maxQueued) {
      return 'dropped';
    }
    this.queue.push({ data, fds, resolve: () => settled(null), reject: settled });
    this.scheduleRetry();
    return 'queued';
  }

  /** Sends one datagram, with optional fds (SCM_RIGHTS). Resolves once the kernel took it. */
  send(data: Buffer, fds: readonly number[] | null = null): Promise<void> {
    const attempt = this.attempt(data, fds);
    return attempt === 'sent' ? SENT : attempt;
  }

  /**
   * send() without the promise in the common case: 'sent' when the kernel took
   * the datagram at once, else a promise that settles when it goes out (after
   * waiting for room) or cannot.
   */
  attempt(data: Buffer, fds: readonly number[] | null): 'sent' | Promise<void> {
    if (this.closed) return Promise.reject(new NotifyError('ERR_NOTIFY_SEND_FAILED', `The transport to ${this.address.raw} is closed.`));
    if (this.queue.length === 0) {
      // Nothing waits, so try at once and skip the queue.
      const outcome = this.trySend(data, fds);
      if (outcome === 'sent') return outcome;
      if (outcome instanceof Error) return Promise.reject(outcome);
    } else if (this.queue.length >= this.maxQueued) {
      return Promise.reject(this.queueFullError(`${this.queue.length} messages are already waiting`));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ data, fds, resolve, reject });
      this.scheduleRetry();
    });
  }

  /** Datagrams waiting for room in the receiver's queue. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * One synchronous attempt at everything waiting, in order, stopping at the
   * first that still finds the queue full: the last chance of a process that is
   * exiting (no timer fires any more).
   */
  flushNow(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryIndex = 0;
    this.flush();
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** Releases the socket. Safe to call more than once; later sends reject. */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const pending of this.queue.splice(0)) {
      pending.reject(new NotifyError('ERR_NOTIFY_SEND_FAILED', `The transport to ${this.address.raw} was closed before the message could be sent.`));
    }
    if (this.fd >= 0 && this.native) this.native.close(this.fd);
    this.fd = -1;
    this.connected = false;
  }

  private open(): NativeBinding {
    const native = (this.native ??= loadNative());
    if (this.fd < 0) {
      const fd = native.socket();
      if (fd < 0) throw this.sendError(fd, 'socket');
      this.fd = fd;
      // Best effort: a smaller buffer only means large entries take the slower path.
      if (this.sendBufferBytes !== undefined) native.setSendBuffer(fd, this.sendBufferBytes);
    }
    if (this.connectFirst && !this.connected) {
      const result = native.connect(this.fd, this.address.address);
      if (result < 0) throw this.sendError(result, 'connect');
      this.connected = true;
    }
    return native;
  }

  /** 'sent', 'again' (queue full), or the error to reject with. */
  private trySend(data: Buffer, fds: readonly number[] | null): 'sent' | 'again' | Error {
    try {
      const native = this.open();
      let result = native.send(this.fd, this.connected ? null : this.address.address, data, fds);
      if (result === -11 /* EAGAIN */) return 'again';
      if (this.connected && (result === -111 /* ECONNREFUSED */ || result === -107 /* ENOTCONN */)) {
        // The manager re-created its socket (daemon-reexec); connect to the new one once.
        this.connected = false;
        native.close(this.fd);
        this.fd = -1;
        this.open();
        result = native.send(this.fd, null, data, fds);
        if (result === -11) return 'again';
      }
      if (result < 0) return this.sendError(result, 'sendmsg');
      return 'sent';
    } catch (error) {
      return error as Error;
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.queue.length === 0) return;
    const delay = this.retryDelaysMs[this.retryIndex];
    if (delay === undefined) {
      const error = this.queueFullError(`still full after ${this.retryDelaysMs.length} retries`);
      this.retryIndex = 0;
      // The head gave up; everything queued behind it would meet the same queue.
      for (const pending of this.queue.splice(0)) pending.reject(error);
      return;
    }
    this.retryTimer = setTimeout(() => this.flush(), delay);
    // A service that is exiting must not wait on a manager that stopped reading.
    this.retryTimer.unref();
  }

  private flush(): void {
    this.retryTimer = undefined;
    this.retryIndex++;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const outcome = this.trySend(head.data, head.fds);
      if (outcome === 'again') break;
      this.queue.shift();
      this.retryIndex = 0;
      if (outcome === 'sent') head.resolve();
      else head.reject(outcome);
    }
    this.scheduleRetry();
  }

  private queueFullError(detail: string): NotifyError {
    return new NotifyError(
      'ERR_NOTIFY_QUEUE_FULL',
      `The receive queue of ${this.address.raw} is full (${detail}); the manager is not reading notifications.`,
      { syscallCode: 'EAGAIN', cause: systemError(-11, 'sendmsg') },
    );
  }

  private sendError(result: number, syscall: string): NotifyError {
    const cause = systemError(result, syscall);
    const hint: Record<string, string> = {
      ENOENT: 'no socket exists at that path',
      ECONNREFUSED: 'nothing is listening there (or it is not a datagram socket)',
      EACCES: 'permission denied',
      EPROTOTYPE: 'the socket there is not a datagram socket',
      EMSGSIZE: 'the message is larger than the socket accepts',
      EAFNOSUPPORT: "AF_UNIX sockets are forbidden: the unit's RestrictAddressFamilies= must include AF_UNIX",
    };
    const explanation = hint[cause.code ?? ''] ?? cause.code;
    return new NotifyError(
      'ERR_NOTIFY_SEND_FAILED',
      `Cannot send to ${this.label}: ${syscall} failed with ${cause.code} (${explanation}).`,
      { cause, syscallCode: cause.code },
    );
  }
}
