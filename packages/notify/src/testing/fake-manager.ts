import { mkdtempSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseNotifySocket } from '../env.js';
import { loadNative, systemError, type NativeBinding, type ReceivedDatagram } from '../native.js';
import { PolledSocket } from './polled-socket.js';
import { decodeMessage } from '../protocol.js';

/** One datagram as the fake manager received it. */
export interface ReceivedMessage {
  /** The assignments in order, parsed the way systemd parses them. */
  readonly assignments: ReadonlyArray<readonly [string, string]>;
  /** The same as an object (a repeated key keeps its last value). */
  readonly fields: Readonly<Record<string, string>>;
  /** The sender's credentials, attached by the kernel (SCM_CREDENTIALS). */
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  /** Fds received with the message (SCM_RIGHTS); yours to use and close. Barrier fds are answered and not listed. */
  readonly fds: number[];
  readonly raw: Buffer;
  /** process.hrtime.bigint() when it was read. */
  readonly receivedAt: bigint;
}

export interface FakeManagerOptions {
  /** Bind an abstract socket (`@name`) instead of a path in a temp dir. Default false. */
  abstract?: boolean;
  /** Bind this path (or `@name`) instead of a fresh one; it is removed again on close(). */
  socket?: string;
  /** How often the socket is read, in ms. Default 2. */
  pollIntervalMs?: number;
  /** Close the fd of BARRIER=1 at once, as systemd does. Default true. */
  answerBarriers?: boolean;
  /** Start without reading, to let the receive queue fill (see resume()). Default false. */
  paused?: boolean;
  /** Shrink the receive buffer (bytes), to fill it quickly in tests. */
  receiveBufferBytes?: number;
}

/**
 * A stand-in for systemd's notification socket, bound to a real kernel datagram
 * socket. It records what a service sends, with the sender's PID and any fds, and
 * answers barriers. Use it to test your own service:
 *
 *   const manager = await FakeNotifyManager.start();
 *   spawn('node', ['app.js'], { env: { ...process.env, ...manager.env() } });
 *   await manager.waitFor('READY');
 */
export class FakeNotifyManager extends PolledSocket {
  /** The value for NOTIFY_SOCKET. */
  readonly socket: string;
  readonly messages: ReceivedMessage[] = [];
  private readonly directory: string | undefined;
  private readonly ownPath: string | undefined;
  private readonly answerBarriers: boolean;

  private constructor(native: NativeBinding, fd: number, socket: string, directory: string | undefined, options: FakeManagerOptions) {
    super(native, fd, options.pollIntervalMs);
    this.socket = socket;
    this.directory = directory;
    this.ownPath = options.socket?.startsWith('/') ? options.socket : undefined;
    this.answerBarriers = options.answerBarriers ?? true;
    if (!options.paused) this.resume();
  }

  static async start(options: FakeManagerOptions = {}): Promise<FakeNotifyManager> {
    const native = loadNative();
    let directory: string | undefined;
    let socket: string;
    if (options.socket !== undefined) {
      socket = options.socket;
    } else if (options.abstract) {
      socket = `@node-systemd-test/${process.pid}/${randomBytes(6).toString('hex')}`;
    } else {
      directory = mkdtempSync(join(tmpdir(), 'nsd-notify-'));
      socket = join(directory, 'notify.sock');
    }
    const address = parseNotifySocket(socket)!;
    const fd = native.socket();
    if (fd < 0) throw systemError(fd, 'socket');
    if (options.receiveBufferBytes !== undefined) native.setReceiveBuffer(fd, options.receiveBufferBytes);
    const bound = native.bind(fd, address.address);
    if (bound < 0) {
      native.close(fd);
      if (directory) rmSync(directory, { recursive: true, force: true });
      throw systemError(bound, 'bind');
    }
    return new FakeNotifyManager(native, fd, socket, directory, options);
  }

  /** Environment for a child process: `{ NOTIFY_SOCKET }`. */
  env(): { NOTIFY_SOCKET: string } {
    return { NOTIFY_SOCKET: this.socket };
  }

  protected override receive(result: ReceivedDatagram): void {
    const assignments = decodeMessage(result.data);
    const fields: Record<string, string> = Object.fromEntries(assignments);
    let fds = result.fds;
    if (this.answerBarriers && fields.BARRIER === '1') {
      for (const fd of fds) this.native.close(fd);
      fds = [];
    }
    const message: ReceivedMessage = Object.freeze({
      assignments,
      fields: Object.freeze(fields),
      pid: result.pid,
      uid: result.uid,
      gid: result.gid,
      fds,
      raw: result.data,
      receivedAt: process.hrtime.bigint(),
    });
    this.messages.push(message);
    this.emit('message', message);
  }

  /**
   * Resolves with the first message (already received or still to come) that has
   * `key` (optionally with `value`), or that `predicate` accepts.
   */
  async waitFor(
    match: string | ((message: ReceivedMessage) => boolean),
    options: { value?: string; timeoutMs?: number; from?: number } = {},
  ): Promise<ReceivedMessage> {
    const test = typeof match === 'function'
      ? match
      : (message: ReceivedMessage) => match in message.fields && (options.value === undefined || message.fields[match] === options.value);
    if (this.fd >= 0) this.drainQueue();
    const found = this.messages.slice(options.from ?? 0).find(test);
    if (found) return found;
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise<ReceivedMessage>((resolve, reject) => {
      const onMessage = (message: ReceivedMessage): void => {
        if (!test(message)) return;
        cleanup();
        resolve(message);
      };
      const timer = setTimeout(() => {
        cleanup();
        const what = typeof match === 'function' ? 'a matching message' : `${match}${options.value === undefined ? '' : `=${options.value}`}`;
        reject(new Error(`No ${what} within ${timeoutMs} ms; received: ${JSON.stringify(this.messages.map((m) => m.fields))}.`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('message', onMessage);
      };
      this.on('message', onMessage);
    });
  }

  /** The values of one key over all messages, in order (for example every STATUS=). */
  valuesOf(key: string): string[] {
    return this.messages.filter((m) => key in m.fields).map((m) => m.fields[key]!);
  }

  /** Stops reading, closes the socket and every received fd nobody took, removes the temp dir. */
  close(): void {
    this.closeSocket();
    for (const message of this.messages) {
      for (const fd of message.fds.splice(0)) this.native.close(fd);
    }
    // unlink + rmdir rather than rmSync: rmSync lstat()s the socket file, after which
    // Node 20.20 fails a later import() of a symlinked CommonJS package in this process.
    if (this.directory) removeQuietly(() => unlinkSync(this.socket), () => rmdirSync(this.directory!));
    if (this.ownPath) removeQuietly(() => unlinkSync(this.ownPath!));
  }
}

function removeQuietly(...steps: Array<() => void>): void {
  for (const step of steps) {
    try {
      step();
    } catch {
      // Already gone, or not ours to remove: nothing a test should fail on.
    }
  }
}
