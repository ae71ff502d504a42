import { NotifyError } from '../errors.js';
import { Notifier, type SendOptions } from '../notifier.js';
import { BARRIER, READY, encodeMessage, type NotifyFields } from '../protocol.js';
import { MESSAGE_TAG, type WorkerNotification } from './messages.js';

type Listener = (assignments: ReadonlyArray<readonly [string, string]>) => void;

/**
 * The notifier of a cluster worker: the same API and the same validation as
 * Notifier, but each message goes to the primary over the IPC channel. The
 * primary owns what systemd sees: it turns READY=1 into "this worker listens",
 * WATCHDOG=1 into a heartbeat, STOPPING=1 into "draining".
 *
 * Fds cannot follow (the primary holds the sockets), so FDSTORE=1 with fds
 * rejects with ERR_NOTIFY_INVALID_FDS.
 */
export class IpcNotifier extends Notifier {
  private readonly sentListeners = new Set<Listener>();
  private readyWasSent = false;

  constructor(private readonly channel: Pick<NodeJS.Process, 'send' | 'connected'> = process) {
    super({ socket: null });
  }

  override get supervised(): boolean {
    return true;
  }

  override get readySent(): boolean {
    return this.readyWasSent;
  }

  override async notify(fields: NotifyFields, options: SendOptions = {}): Promise<boolean> {
    if (options.fds !== undefined && (!Array.isArray(options.fds) || options.fds.length > 0)) {
      throw new NotifyError('ERR_NOTIFY_INVALID_FDS', 'A cluster worker cannot pass fds to systemd: the primary holds the listening sockets (use a .socket unit for a cluster).');
    }
    const { assignments } = encodeMessage(fields, 0);
    await this.post(assignments);
    if (assignments.some(([key, value]) => key === READY && value === '1')) this.readyWasSent = true;
    for (const listener of this.sentListeners) listener(assignments);
    return true;
  }

  /** The IPC channel is ordered: once BARRIER=1 is written, the primary has everything sent before it. */
  override async sendBarrier(): Promise<boolean> {
    await this.post([[BARRIER, '1']]);
    return true;
  }

  override onSent(listener: Listener): () => void {
    this.sentListeners.add(listener);
    return () => this.sentListeners.delete(listener);
  }

  override close(): void {}

  private post(assignments: ReadonlyArray<readonly [string, string]>): Promise<void> {
    const message: WorkerNotification = { type: MESSAGE_TAG, assignments };
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
