import { Socket } from 'node:net';
import { NotifyError } from './errors.js';
import { loadNative, systemError } from './native.js';
import type { Notifier } from './notifier.js';

/**
 * BARRIER=1 (v246): resolves once the manager has processed every message sent
 * before it. We send the write end of a fresh pipe, close our copy, and wait for
 * end-of-file on the read end, which comes when the manager closes its copy.
 *
 * Resolves `false` when not supervised, rejects with ERR_NOTIFY_BARRIER_TIMEOUT
 * when the manager does not answer within `timeoutMs` (an older systemd ignores
 * BARRIER=1 and never closes the fd).
 */
export async function barrier(notifier: Notifier, timeoutMs = 5000): Promise<boolean> {
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `barrier() timeout must be a positive number of milliseconds, got ${String(timeoutMs)}.`);
  }
  if (!notifier.supervised) return false;
  const native = loadNative();
  const pipe = native.pipe();
  if (typeof pipe === 'number') {
    throw new NotifyError('ERR_NOTIFY_SEND_FAILED', `barrier() could not create a pipe: ${systemError(pipe, 'pipe2').code}.`, { cause: systemError(pipe, 'pipe2') });
  }
  const [readFd, writeFd] = pipe;
  // libuv owns the read end from here on and closes it when the socket is destroyed.
  const reader = new Socket({ fd: readFd, readable: true, writable: false });
  try {
    try {
      await notifier.sendBarrier(writeFd);
    } finally {
      native.close(writeFd);
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new NotifyError('ERR_NOTIFY_BARRIER_TIMEOUT', `The service manager did not answer BARRIER=1 within ${timeoutMs} ms (systemd older than v246 ignores it).`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      reader.once('end', done);
      reader.once('close', done);
      reader.once('error', done);
      reader.resume();
    });
    return true;
  } finally {
    reader.destroy();
  }
}
