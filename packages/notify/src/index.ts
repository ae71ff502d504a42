/**
 * @node-systemd/notify: tell systemd what your service is doing.
 *
 * Every call resolves `true` when the message was sent, `false` when the process
 * is not supervised (no NOTIFY_SOCKET), and rejects with a NotifyError on bad
 * input or when the kernel refuses the datagram. Off systemd nothing native is
 * loaded and no timer is started.
 */
import { barrier as sendBarrierAndWait } from './barrier.js';
import { defaultNotifier } from './default-notifier.js';
import type { NotifyAccess, SendOptions } from './notifier.js';
import type { NotifyFields } from './protocol.js';

export { NotifyError, isNotifyError, type NotifyErrorCode } from './errors.js';
export {
  READY,
  RELOADING,
  STOPPING,
  STATUS,
  ERRNO,
  BUSERROR,
  MAINPID,
  WATCHDOG,
  WATCHDOG_USEC,
  EXTEND_TIMEOUT_USEC,
  MONOTONIC_USEC,
  FDSTORE,
  FDSTOREREMOVE,
  FDNAME,
  FDPOLL,
  BARRIER,
  NOTIFYACCESS,
  EXIT_STATUS,
  encodeMessage,
  decodeMessage,
  toStatusLine,
  type FieldValue,
  type NotifyFields,
  type EncodedMessage,
} from './protocol.js';
export { Notifier, type NotifierOptions, type NotifyAccess, type SendOptions } from './notifier.js';
export {
  parseNotifySocket,
  parseWatchdog,
  parseListenFds,
  systemdEnvironment,
  keepEnvironment,
  type NotifyAddress,
  type WatchdogSettings,
  type ListenFd,
  type EnvironmentSnapshot,
} from './env.js';
export type { TransportOptions } from './transport.js';

export { defaultNotifier, isSupervised } from './default-notifier.js';

export const notify = (fields: NotifyFields, options?: SendOptions): Promise<boolean> => defaultNotifier().notify(fields, options);
export const ready = (status?: string): Promise<boolean> => defaultNotifier().ready(status);
export const reloading = (status?: string): Promise<boolean> => defaultNotifier().reloading(status);
export const stopping = (status?: string): Promise<boolean> => defaultNotifier().stopping(status);
export const status = (text: string): Promise<boolean> => defaultNotifier().status(text);
export const errno = (code: number): Promise<boolean> => defaultNotifier().errno(code);
export const busError = (name: string): Promise<boolean> => defaultNotifier().busError(name);
export const mainPid = (pid: number): Promise<boolean> => defaultNotifier().mainPid(pid);
export const watchdogPing = (): Promise<boolean> => defaultNotifier().watchdogPing();
export const watchdogTrigger = (): Promise<boolean> => defaultNotifier().watchdogTrigger();
export const setWatchdogTimeout = (ms: number): Promise<boolean> => defaultNotifier().setWatchdogTimeout(ms);
export const extendTimeout = (ms: number): Promise<boolean> => defaultNotifier().extendTimeout(ms);
export const notifyAccess = (mode: NotifyAccess): Promise<boolean> => defaultNotifier().notifyAccess(mode);
export const exitStatus = (code: number): Promise<boolean> => defaultNotifier().exitStatus(code);
/** Waits until the manager has processed everything sent before (BARRIER=1, v246+). */
export const barrier = (timeoutMs?: number): Promise<boolean> => sendBarrierAndWait(defaultNotifier(), timeoutMs);
export { startWatchdog, type Watchdog, type WatchdogOptions, type SkipReason } from './watchdog.js';
export { listenFds, listenFd, listenOptions, describeFd, type ListenFallback, type ListenTarget } from './activation.js';
export { adoptPassedSocket } from './adopt.js';
export { serverFd, storeFds, storeServer, storedFds, removeStoredFds, type StoreOptions } from './fdstore.js';
export { diagnose, type Diagnosis, type DiagnoseOptions } from './diagnose.js';
export { DEFAULT_GRACE_PERIOD_MS, DEFAULT_WATCHDOG_FRACTION, DEFAULT_FD_NAME } from './defaults.js';
export { warnIfNotReady, type ReadinessWarningOptions } from './readiness.js';
export type { SocketInfo } from './native.js';
export * from './lifecycle/index.js';
export * from './journal/index.js';
