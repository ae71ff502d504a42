import { NotifyError } from '../errors.js';
import { Notifier } from '../notifier.js';
import { BARRIER, type EncodedMessage } from '../protocol.js';
import { MESSAGE_TAG, socketInode, type WorkerNotification } from './messages.js';

/**
 * The notifier of a cluster worker: the same API and the same validation as
 * Notifier, but each message goes to the primary over the IPC channel. The
 * primary owns what systemd sees: it turns READY=1 into "this worker listens",
 * WATCHDOG=1 into a heartbeat, STOPPING=1 into "draining", and stores the
 * sockets of FDSTORE=1 from its own copies (found by inode: the worker's
 * listening sockets are shared with the primary). An fd that is not a socket
 * cannot be stored from a worker (ERR_NOTIFY_INVALID_FDS).
 */
export class IpcNotifier extends Notifier {
  constructor(private readonly channel: Pick<NodeJS.Process, 'send' | 'connected'> = process) {
    super({ socket: null });
  }

  override get supervised(): boolean {
    return true;
  }

  protected override deliver(message: EncodedMessage, fds: readonly number[]): Promise<boolean> {
    const inodes = fds.map((fd) => socketInode(fd));
    if (inodes.some((inode) => inode === undefined)) {
      return Promise.reject(
        new NotifyError('ERR_NOTIFY_INVALID_FDS', `A cluster worker can store only sockets it shares with the primary; fd ${fds[inodes.indexOf(undefined)]} is not a socket.`),
      );
    }
    return this.post(message.assignments, fds.length > 0 ? (inodes as number[]) : undefined).then(() => {
      this.sent(message.assignments);
      return true;
    });
  }

  /** The IPC channel is ordered: once BARRIER=1 is written, the primary has everything sent before it. */
  override async sendBarrier(): Promise<boolean> {
    await this.post([[BARRIER, '1']]);
    return true;
  }

  override close(): void {}

  private post(assignments: ReadonlyArray<readonly [string, string]>, inodes?: number[]): Promise<void> {
    const message: WorkerNotification = inodes ? { type: MESSAGE_TAG, assignments, inodes } : { type: MESSAGE_TAG, assignments };
    return new Promise<void>((resolve, reject) => {
      const failed = (cause?: Error): void =>
        reject(new NotifyError('ERR_NOTIFY_SEND_FAILED', 'Cannot report to the cluster primary: its IPC channel is closed.', cause ? { cause } : {}));
      if (!this.channel.connected || !this.channel.send) {
        failed();
        return;
      }
      this.channel.send(message, undefined, {}, (error: Error | null) => (error ? failed(error) : resolve()));
    });
  }
}
