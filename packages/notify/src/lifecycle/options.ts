import { NotifyError } from '../errors.js';
import type { Notifier } from '../notifier.js';
import type { WatchdogOptions } from '../watchdog.js';
import { DEFAULT_FD_NAME, DEFAULT_GRACE_PERIOD_MS } from '../defaults.js';
import { checkFdName } from '../fdname.js';
import { defaultLogger, type LifecycleLogger } from './log.js';

/**
 * What happens after a signal's drain. 'auto': exit, at once when the
 * lifecycle's handler is the signal's only listener, else a few seconds after
 * the drain unless the process ends sooner (the other listener may still be
 * cleaning up). 'always': exit right after the drain. false: never exit; the app
 * decides. `true` means 'auto'.
 */
export type ExitMode = 'auto' | 'always' | boolean;

export interface LifecycleOptions {
  /** Where to send notifications. Default: the process-wide notifier ($NOTIFY_SOCKET). */
  notifier?: Notifier;
  /** Install SIGTERM/SIGINT (and SIGHUP with `reload`) handlers. Default true. Turn off and call shutdown() yourself. */
  handleSignals?: boolean;
  /** After the drain that a signal started, end the process: 'auto' (default), 'always' or false (see ExitMode). */
  exit?: ExitMode;
  /**
   * After SIGTERM (or shutdown()), keep accepting for this long while readiness
   * answers 503, so that load balancers stop sending first; then drain. Default 0
   * (systemd itself routes nothing); behind Kubernetes or a load balancer use
   * about 5000-10000 ms.
   */
  shutdownDelayMs?: number;
  /** How long the drain may take before open connections are destroyed, in ms. Default 30 000 (systemd's TimeoutStopSec= is 90 s). */
  gracePeriodMs?: number;
  /** While draining, an idle keep-alive socket is closed once it has been idle this long, in ms. Default 250. */
  idleLingerMs?: number;
  /** Exit code after a drain that had to destroy connections. Default 1 (systemd marks the unit failed). */
  forcedExitCode?: number;
  /** Runs on SIGHUP and reload(): RELOADING=1, this, READY=1. Without it SIGHUP is left alone. */
  reload?: () => unknown;
  /** Runs after the servers drained and before STATUS=drained: close the framework, pools, files. */
  close?: () => unknown;
  /** The watchdog's health check (see startWatchdog). */
  healthCheck?: WatchdogOptions['healthCheck'];
  /** More watchdog options, or false for no watchdog. Default {} (on when WATCHDOG_USEC applies). */
  watchdog?: Omit<WatchdogOptions, 'notifier' | 'healthCheck' | 'onError'> | false;
  /** Store each listening socket in systemd's fd store under its name after listen() (FileDescriptorStoreMax= > 0). Default false. */
  fdStore?: boolean;
  /** The FileDescriptorName= of the passed socket to listen on, and the name it is stored under with `fdStore`. Default "http". */
  fdName?: string;
  /** How long to wait for the manager's answer to the final BARRIER=1, in ms. Default 1000. */
  barrierTimeoutMs?: number;
  /** Where the lifecycle's own messages go (drain started, forced, warnings, errors). Default: warnings and errors as process warnings, info silent. */
  logger?: LifecycleLogger;
  /** Called instead of logger.error for failures (notifications, unhealthy checks, the close hook). */
  onError?: (error: Error) => void;
  /** How the process ends after a signal; for tests. Default process.exit. */
  exitProcess?: (code: number) => void;
}

type Required<T, K extends keyof T> = T & { [P in K]-?: Exclude<T[P], undefined> };
export type ResolvedOptions = Required<
  LifecycleOptions,
  'handleSignals' | 'gracePeriodMs' | 'shutdownDelayMs' | 'idleLingerMs' | 'forcedExitCode' | 'fdStore' | 'fdName' | 'barrierTimeoutMs' | 'logger' | 'exitProcess'
> & { exit: 'auto' | 'always' | false };

function invalid(message: string): never {
  throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', message);
}

function milliseconds(name: string, value: number | undefined, fallback: number, minimum = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum || value > 2 ** 31 - 1) {
    invalid(`The ${name} option must be a number of milliseconds between ${minimum} and ${2 ** 31 - 1}, got ${String(value)}.`);
  }
  return value;
}

/** Checks the options once, with full-sentence messages, and fills in the defaults. */
export function checkOptions(options: LifecycleOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') invalid(`The lifecycle options must be an object, got ${String(options)}.`);
  if (options.exit !== undefined && options.exit !== 'auto' && options.exit !== 'always' && typeof options.exit !== 'boolean') {
    invalid(`The exit option must be 'auto', 'always' or false, got ${JSON.stringify(options.exit)}.`);
  }
  const logger = options.logger ?? defaultLogger;
  if (logger === null || typeof logger !== 'object' || ['info', 'warn', 'error'].some((level) => typeof (logger as unknown as Record<string, unknown>)[level] !== 'function')) {
    invalid('The logger option must have info(), warn() and error() methods (console fits).');
  }
  for (const name of ['reload', 'close', 'healthCheck', 'onError', 'exitProcess'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      invalid(`The ${name} option must be a function, got ${typeof options[name]}.`);
    }
  }
  const forcedExitCode = options.forcedExitCode ?? 1;
  if (!Number.isInteger(forcedExitCode) || forcedExitCode < 0 || forcedExitCode > 255) {
    invalid(`The forcedExitCode option must be an integer from 0 to 255, got ${String(options.forcedExitCode)}.`);
  }
  if (options.watchdog !== undefined && options.watchdog !== false && typeof options.watchdog !== 'object') {
    invalid(`The watchdog option must be an object of watchdog options or false, got ${String(options.watchdog)}.`);
  }
  return {
    ...options,
    handleSignals: options.handleSignals ?? true,
    exit: options.exit === true || options.exit === undefined ? 'auto' : options.exit,
    gracePeriodMs: milliseconds('gracePeriodMs', options.gracePeriodMs, DEFAULT_GRACE_PERIOD_MS),
    shutdownDelayMs: milliseconds('shutdownDelayMs', options.shutdownDelayMs, 0),
    idleLingerMs: milliseconds('idleLingerMs', options.idleLingerMs, 250),
    barrierTimeoutMs: milliseconds('barrierTimeoutMs', options.barrierTimeoutMs, 1000, 1),
    forcedExitCode,
    fdStore: options.fdStore ?? false,
    fdName: options.fdName === undefined ? DEFAULT_FD_NAME : checkFdName(options.fdName),
    logger,
    exitProcess: options.exitProcess ?? ((code) => process.exit(code)),
  };
}
