import { EventEmitter } from 'node:events';
import { systemError, type NativeBinding, type ReceivedDatagram } from '../native.js';

/**
 * A bound datagram socket read on a short interval (the addon holds no libuv
 * handle, so there is nothing to wait on): the shared half of the fake manager
 * and the fake journal.
 */
export abstract class PolledSocket extends EventEmitter {
  protected readonly native: NativeBinding;
  protected fd: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly pollIntervalMs: number;
  protected readonly maxDatagramBytes: number | undefined;

  protected constructor(native: NativeBinding, fd: number, pollIntervalMs = 2, maxDatagramBytes?: number) {
    super();
    this.native = native;
    this.fd = fd;
    this.pollIntervalMs = pollIntervalMs;
    this.maxDatagramBytes = maxDatagramBytes;
  }

  /** Stops reading: datagrams pile up in the kernel queue until it is full. */
  pause(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads again (and at once). */
  resume(): void {
    if (this.timer || this.fd < 0) return;
    this.timer = setInterval(() => this.drainQueue(), this.pollIntervalMs);
    this.drainQueue();
  }

  /** Reads everything queued now; returns how many datagrams were read. */
  drainQueue(): number {
    let count = 0;
    while (this.fd >= 0) {
      const result = this.native.recv(this.fd, this.maxDatagramBytes);
      if (typeof result === 'number') {
        if (result !== -11) this.emit('error', systemError(result, 'recvmsg'));
        break;
      }
      count++;
      this.receive(result);
    }
    return count;
  }

  protected abstract receive(datagram: ReceivedDatagram): void;

  /** Stops reading, reads what is left, closes the socket. */
  protected closeSocket(): void {
    this.pause();
    if (this.fd < 0) return;
    this.drainQueue();
    this.native.close(this.fd);
    this.fd = -1;
  }
}
