import { NotifyError } from './errors.js';
import { parseNotifySocket, systemdEnvironment, type NotifyAddress } from './env.js';
import {
  BARRIER,
  BUSERROR,
  ERRNO,
  EXIT_STATUS,
  EXTEND_TIMEOUT_USEC,
  MAINPID,
  MONOTONIC_USEC,
  NOTIFYACCESS,
  READY,
  RELOADING,
  STATUS,
  STOPPING,
  WATCHDOG,
  WATCHDOG_USEC,
  encodeMessage,
  type EncodedMessage,
  type FieldValue,
  type NotifyFields,
} from './protocol.js';
import { DatagramTransport, type TransportOptions } from './transport.js';

export interface NotifierOptions extends TransportOptions {
  /**
   * The address to notify, as NOTIFY_SOCKET would give it. `undefined` reads
   * NOTIFY_SOCKET (captured once); `null` means "not supervised" (every call is a
   * no-op resolving false).
   */
  socket?: string | null;
}

export interface SendOptions {
  /** Fds to pass along (SCM_RIGHTS), for FDSTORE=1 or BARRIER=1. */
  fds?: readonly number[];
}

export type NotifyAccess = 'none' | 'main' | 'exec' | 'all';

type Listener = (assignments: ReadonlyArray<readonly [string, string]>) => void;

const NO_FDS: readonly number[] = Object.freeze([]);
// A settled promise can be handed out any number of times: nobody can change it.
const SENT = Promise.resolve(true);
const NOT_SENT = Promise.resolve(false);
let watchdogMessage: EncodedMessage | undefined;

/** CLOCK_MONOTONIC in µs: what RELOADING=1 needs under Type=notify-reload. */
export function monotonicUsec(): bigint {
  return process.hrtime.bigint() / 1000n;
}

function toUsec(ms: number, what: string): bigint {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `${what} must be a finite number of milliseconds >= 0, got ${String(ms)}.`);
  }
  return BigInt(Math.round(ms * 1000));
}

/**
 * One connection to a service manager. Every method resolves `true` when the
 * datagram was sent and `false` when there is no manager to tell (no
 * NOTIFY_SOCKET); it rejects with a NotifyError when the input is invalid or the
 * kernel refuses the datagram. Input is validated even when not supervised, so a
 * bug shows up on a laptop and not first in production.
 */
export class Notifier {
  private readonly options: NotifierOptions;
  private resolved = false;
  private address: NotifyAddress | undefined;
  private addressError: NotifyError | undefined;
  private transport: DatagramTransport | undefined;
  private readonly listeners = new Set<Listener>();
  private sentReady = false;

  constructor(options: NotifierOptions = {}) {
    this.options = options;
  }

  /** True when a NOTIFY_SOCKET is configured (valid or not). */
  get supervised(): boolean {
    this.resolve();
    return this.address !== undefined || this.addressError !== undefined;
  }

  /** True once READY=1 went out through this notifier. */
  get readySent(): boolean {
    return this.sentReady;
  }

  /** Sends one message: fields as an object or ordered pairs, optional fds. */
  notify(fields: NotifyFields, options: SendOptions = {}): Promise<boolean> {
    let message: EncodedMessage;
    const fds = options.fds ?? NO_FDS;
    try {
      // An fd is a C int: a larger number would be cut to its low 32 bits and pass another fd.
      if (!Array.isArray(fds) || fds.some((fd) => !Number.isInteger(fd) || fd < 0 || fd > 2_147_483_647)) {
        throw new NotifyError('ERR_NOTIFY_INVALID_FDS', `fds must be an array of non-negative integers, got ${JSON.stringify(options.fds)}.`);
      }
      message = encodeMessage(fields, fds.length);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.deliver(message, fds);
  }

  /** READY=1, with an optional STATUS= in the same datagram. */
  ready(status?: string): Promise<boolean> {
    return this.notify(this.withStatus([[READY, '1']], status));
  }

  /** RELOADING=1 with MONOTONIC_USEC (required by Type=notify-reload since v253). */
  reloading(status?: string): Promise<boolean> {
    return this.notify(this.withStatus([[RELOADING, '1'], [MONOTONIC_USEC, monotonicUsec()]], status));
  }

  /** STOPPING=1, with an optional STATUS= in the same datagram. */
  stopping(status?: string): Promise<boolean> {
    return this.notify(this.withStatus([[STOPPING, '1']], status));
  }

  /** STATUS=: one line of text for `systemctl status`. A newline is rejected. */
  status(text: string): Promise<boolean> {
    return this.notify([[STATUS, text]]);
  }

  /** ERRNO=: a failure as an errno number. */
  errno(code: number): Promise<boolean> {
    return this.notify([[ERRNO, code]]);
  }

  /** BUSERROR=: a failure as a D-Bus error name. */
  busError(name: string): Promise<boolean> {
    return this.notify([[BUSERROR, name]]);
  }

  /** MAINPID=: names another process as the service's main process. */
  mainPid(pid: number): Promise<boolean> {
    return this.notify([[MAINPID, pid]]);
  }

  /** WATCHDOG=1: the service is alive. */
  watchdogPing(): Promise<boolean> {
    // The one message sent again and again: encoded once, so a ping costs the syscall and little more.
    return this.deliver((watchdogMessage ??= encodeMessage([[WATCHDOG, '1']])), NO_FDS);
  }

  /** WATCHDOG=trigger: act as if the watchdog expired (v243+). */
  watchdogTrigger(): Promise<boolean> {
    return this.notify([[WATCHDOG, 'trigger']]);
  }

  /** WATCHDOG_USEC=: changes the watchdog timeout at run time. */
  setWatchdogTimeout(ms: number): Promise<boolean> {
    return this.notify([[WATCHDOG_USEC, toUsec(ms, 'The watchdog timeout')]]);
  }

  /** EXTEND_TIMEOUT_USEC=: asks for this much more time for start-up, runtime or stop (v236+). */
  extendTimeout(ms: number): Promise<boolean> {
    return this.notify([[EXTEND_TIMEOUT_USEC, toUsec(ms, 'The timeout extension')]]);
  }

  /** NOTIFYACCESS=: changes who may notify (v254+). */
  notifyAccess(mode: NotifyAccess): Promise<boolean> {
    return this.notify([[NOTIFYACCESS, mode]]);
  }

  /** EXIT_STATUS=: the exit status the manager should report (v254+). */
  exitStatus(code: number): Promise<boolean> {
    return this.notify([[EXIT_STATUS, code]]);
  }

  /** BARRIER=1 with the write end of a pipe; used by barrier(). */
  sendBarrier(writeFd: number): Promise<boolean> {
    return this.notify([[BARRIER, '1']], { fds: [writeFd] });
  }

  /**
   * Sends a validated message. When the kernel takes the datagram at once (the
   * usual case) this settles without allocating a promise: `true` and `false`
   * come back as shared, already resolved promises.
   */
  protected deliver(message: EncodedMessage, fds: readonly number[]): Promise<boolean> {
    this.resolve();
    if (this.addressError) return Promise.reject(this.addressError);
    if (!this.address) return NOT_SENT;
    this.transport ??= new DatagramTransport(this.address, this.options);
    const attempt = this.transport.attempt(message.datagram, fds.length > 0 ? fds : null);
    if (attempt === 'sent') {
      this.sent(message.assignments);
      return SENT;
    }
    return attempt.then(() => {
      this.sent(message.assignments);
      return true;
    });
  }

  /** Bookkeeping once a message went out: readySent, then the onSent listeners. */
  protected sent(assignments: ReadonlyArray<readonly [string, string]>): void {
    if (!this.sentReady && assignments.some(([key, value]) => key === READY && value === '1')) this.sentReady = true;
    for (const listener of this.listeners) listener(assignments);
  }

  /** Called with the assignments of every message sent (for the readiness warning, tests, logs). */
  onSent(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The datagram socket, if one was opened, is closed. Later sends open a new one. */
  close(): void {
    this.transport?.close();
    this.transport = undefined;
  }

  private withStatus(pairs: Array<[string, FieldValue]>, status: string | undefined): Array<[string, FieldValue]> {
    if (status !== undefined) pairs.push([STATUS, status]);
    return pairs;
  }

  private resolve(): void {
    if (this.resolved) return;
    this.resolved = true;
    const raw = this.options.socket === undefined ? systemdEnvironment().NOTIFY_SOCKET : this.options.socket ?? undefined;
    try {
      this.address = parseNotifySocket(raw);
    } catch (error) {
      this.addressError = error as NotifyError;
    }
  }
}
